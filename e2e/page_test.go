// Package e2e tests convnet serve's web page in headless Chromium, driven
// over the DevTools protocol by chromedp. It is a module of its own so
// that the library's go.mod does not carry chromedp.
//
// The test trains the lecture's model briefly on MNIST (fetched through
// the Go module proxy into the data cache), or uses the checkpoint
// directory named by CONVNET_E2E_CHECKPOINT, serves it, and in the page
// draws a 7 with mouse events, checks the prediction and the feature
// maps, uploads a photo to the filter playground and checks the results.
// Screenshots go to $E2E_ARTIFACTS (default e2e/artifacts): draw.png
// after the 7, page.png after the playground too, phone.png at 390
// pixels wide.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/serve"
	"github.com/convnet-go/convnet/train"
)

// chromium returns the browser to drive: $CHROMIUM, /usr/bin/chromium or
// chromium on PATH. Without one the test skips, except in CI.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs it with apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// checkpointDir trains the lecture's model for a few hundred steps and
// returns its checkpoint directory (inside a run directory holding
// metrics.jsonl), or returns $CONVNET_E2E_CHECKPOINT.
func checkpointDir(t *testing.T) string {
	if dir := os.Getenv("CONVNET_E2E_CHECKPOINT"); dir != "" {
		return dir
	}
	data, err := train.LoadData(mnist.DefaultDir(), io.Discard, 0, 1000)
	if err != nil {
		t.Fatalf("MNIST is needed to train the model the page shows: %v", err)
	}
	run := filepath.Join(t.TempDir(), "run")
	cfg := train.Config{Epochs: 2, BatchSize: 32, StepsPerEpoch: 150, DropoutRate: models.LectureDropout, Seed: 1,
		LogDir: run, CheckpointDir: filepath.Join(run, "checkpoints")}
	start := time.Now()
	res, err := train.Run(context.Background(), cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Epochs[len(res.Epochs)-1]
	t.Logf("trained %d steps in %.1f s: test accuracy %.4f on %d images", last.Step, time.Since(start).Seconds(), last.TestAccuracy, data.Test.Len())
	return cfg.CheckpointDir
}

// startServer serves the checkpoint on a free port until the test ends.
func startServer(t *testing.T, ckpt string) string {
	seq, path, _, err := train.LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	m, err := serve.NewSequential(seq, []int{28, 28, 1}, "conv1", "conv2")
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(m, serve.Options{RunDir: serve.RunDir(path), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// artifacts returns the directory for screenshots.
func artifacts(t *testing.T) string {
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

// waitFor evaluates the JavaScript expression cond until it is true.
func waitFor(ctx context.Context, cond string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still false after %v: %s", timeout, cond)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// drawSeven drags the mouse along a 7 on the pad: a bar across the top,
// then a diagonal down to the lower left. Points are fractions of the pad.
func drawSeven(ctx context.Context) error {
	rect, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ X, Y, W, H float64 }](
		`(() => { const r = document.getElementById("pad").getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`))
	if err != nil {
		return err
	}
	path := [][2]float64{{0.25, 0.2}, {0.75, 0.2}, {0.45, 0.85}}
	at := func(p [2]float64) (float64, float64) { return rect.X + p[0]*rect.W, rect.Y + p[1]*rect.H }
	x, y := at(path[0])
	actions := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft)}
	for i := 1; i < len(path); i++ {
		for s := 1; s <= 12; s++ {
			f := float64(s) / 12
			p := [2]float64{path[i-1][0] + f*(path[i][0]-path[i-1][0]), path[i-1][1] + f*(path[i][1]-path[i-1][1])}
			x, y = at(p)
			actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonLeft), chromedp.Sleep(15*time.Millisecond))
		}
	}
	actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft))
	return chromedp.Do(ctx, actions...)
}

func TestPage(t *testing.T) {
	browser := chromium(t)
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("trains a model and drives a browser (about a minute)")
	}
	url := startServer(t, checkpointDir(t))
	out := artifacts(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers often have a small /dev/shm, where Chromium would
		// otherwise keep its shared memory and crash.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	// Script errors on the page fail the test: uncaught exceptions and
	// console.error calls are collected as they arrive.
	var mu sync.Mutex
	var pageErrors []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			pageErrors = append(pageErrors, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				pageErrors = append(pageErrors, fmt.Sprintf("console.error with %d arguments", len(e.Args)))
			}
		}
	}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(listen))
	defer cancel()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("page script error: %s", e)
		}
	}()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#pad"))); err != nil {
		t.Fatalf("loading the page: %v", err)
	}

	t.Run("draw a 7", func(t *testing.T) {
		if err := drawSeven(ctx); err != nil {
			t.Fatal(err)
		}
		// The last request (after the mouse is released) decides the bars.
		err := waitFor(ctx, `document.querySelectorAll("#pred .bar").length === 3 && !pending && !again`, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		top, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#pred .bar")].map(b => b.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("top-3 bars: %q", top)
		if len(top) != 3 || !strings.HasPrefix(top[0], "7") {
			t.Errorf("top prediction %q; want 7 first", top)
		}
		err = waitFor(ctx, `(() => { const m = [...document.querySelectorAll("#maps img.fmap")];
			return m.length === 2 && m.every(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100) &&
				m[0].dataset.layer === "conv1" && m[1].dataset.layer === "conv2"; })()`, 10*time.Second)
		if err != nil {
			t.Errorf("feature maps did not render: %v", err)
		}
		if err := waitFor(ctx, `document.getElementById("input28").naturalWidth === 28`, 5*time.Second); err != nil {
			t.Errorf("the 28x28 input did not render: %v", err)
		}
		if err := waitFor(ctx, `!document.getElementById("training").hidden && document.querySelectorAll("#curves svg polyline").length === 3`, 10*time.Second); err != nil {
			t.Errorf("training curves did not render: %v", err)
		}
		screenshot(t, ctx, out, "draw.png")
	})

	t.Run("filter playground", func(t *testing.T) {
		photo, err := filepath.Abs(filepath.Join("..", "docs", "filter", "sample.png"))
		if err != nil {
			t.Fatal(err)
		}
		err = chromedp.Do(ctx,
			chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{photo}),
			chromedp.Click(chromedp.CSS("#useCustom")),
			chromedp.Click(chromedp.CSS("#apply")))
		if err != nil {
			t.Fatal(err)
		}
		// The original, the five lecture kernels and the custom one.
		err = waitFor(ctx, `(() => { const m = [...document.querySelectorAll("#filtered img")];
			return m.length === 7 && m.every(i => i.complete && i.naturalWidth > 0); })()`, 30*time.Second)
		if err != nil {
			msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#filterErr")))
			t.Fatalf("filtered images did not appear (page says %q): %v", msg, err)
		}
		captions, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#filtered figcaption")].map(c => c.textContent)`))
		t.Logf("playground captions: %q", captions)
		if len(captions) != 7 || !strings.HasPrefix(captions[6], "custom [0,-1,0;-1,5,-1;0,-1,0]") {
			t.Errorf("captions %q; want the original, five lecture kernels and the custom sharpen", captions)
		}
		screenshot(t, ctx, out, "page.png")
	})

	t.Run("phone width", func(t *testing.T) {
		err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Error("the page is wider than a 390-pixel phone screen")
		}
		screenshot(t, ctx, out, "phone.png")
	})
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
}
