package train

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress prints loss lines and, on a terminal, a one-line bar redrawn
// with a carriage return.
type progress struct {
	w     io.Writer
	tty   bool
	shown bool      // a bar is on screen
	last  time.Time // last redraw
	cur   string    // the bar's text
}

func newProgress(w io.Writer, tty bool) *progress { return &progress{w: w, tty: tty} }

// line prints one full line, keeping the bar below it.
func (p *progress) line(s string) {
	if p.tty && p.shown {
		fmt.Fprintf(p.w, "\r\033[K%s\n%s", s, p.cur)
		return
	}
	fmt.Fprintln(p.w, s)
}

// bar redraws the bar at most ten times a second (terminal only).
func (p *progress) bar(epoch, epochs, done, total int, loss, imagesPerSec float64, eta time.Duration) {
	if !p.tty || (done < total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 30
	n := width * done / max(total, 1)
	p.cur = fmt.Sprintf("epoch %d/%d [%s%s] %d/%d  loss %.4f  %.0f images/s  ETA %s",
		epoch, epochs, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total, loss, imagesPerSec, eta.Round(time.Second))
	fmt.Fprintf(p.w, "\r\033[K%s", p.cur)
	p.shown = true
}

// clear removes the bar.
func (p *progress) clear() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
