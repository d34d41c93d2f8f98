package train

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	t.Run("terminal", func(t *testing.T) {
		var b bytes.Buffer
		p := newProgress(&b, true)
		p.bar(1, 10, 5, 10, 0.5, 100, 3*time.Second)
		p.line("step 20  loss 0.5")
		p.bar(1, 10, 10, 10, 0.25, 100, 0)
		p.clear()
		out := b.String()
		for _, want := range []string{
			"\r\033[Kepoch 1/10 [===============               ] 5/10  loss 0.5000  100 images/s  ETA 3s",
			"\r\033[Kstep 20  loss 0.5\nepoch 1/10 [===============",
			"[==============================] 10/10",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output %q lacks %q", out, want)
			}
		}
		if !strings.HasSuffix(out, "\r\033[K") {
			t.Errorf("clear did not erase the bar: %q", out)
		}
	})
	t.Run("plain", func(t *testing.T) {
		var b bytes.Buffer
		p := newProgress(&b, false)
		p.bar(1, 10, 5, 10, 0.5, 100, time.Second)
		p.line("step 20  loss 0.5")
		p.clear()
		if got := b.String(); got != "step 20  loss 0.5\n" {
			t.Errorf("plain output %q", got)
		}
	})
}
