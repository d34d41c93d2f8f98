package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/train"
)

// lectureCheckpoint saves a freshly initialised lecture model in a
// checkpoint directory and returns the directory.
func lectureCheckpoint(t *testing.T) string {
	t.Helper()
	m, err := models.NewConvNet(models.ConvNetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := checkpoint.Save(dir, 1, m.Weights(), map[string]string{train.MetaModel: models.ConvNetName}, 1); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServeUsageErrors(t *testing.T) {
	ckpt := lectureCheckpoint(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no model", []string{"serve"}, "--model is required"},
		{"unknown flag", []string{"serve", "--model", ckpt, "--port", "1"}, "flag provided but not defined: -port"},
		{"extra args", []string{"serve", "--model", ckpt, "x"}, `unexpected arguments ["x"]`},
		{"bad batch", []string{"serve", "--model", ckpt, "--max-batch", "0"}, "--max-batch 0"},
		{"bad delay", []string{"serve", "--model", ckpt, "--max-delay", "-1s"}, "--max-delay -1s must not be negative"},
		{"missing checkpoint", []string{"serve", "--model", ckpt + "/nope"}, "no such file or directory"},
		{"bad name", []string{"serve", "--model", ckpt, "--name", "a b"}, `model name "a b"`},
		{"bad addr", []string{"serve", "--model", ckpt, "--addr", "256.1.1.1:x"}, "listening on 256.1.1.1:x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := filterCLI(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs convnet serve on ckpt at a free port and returns its
// base URL and stderr; stop sends the process SIGTERM and fails the test
// unless the command then exits 0.
func startServe(t *testing.T, ckpt string) (url string, stderr *syncBuffer, stop func()) {
	t.Helper()
	var stdout syncBuffer
	stderr = new(syncBuffer)
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve", "--model", ckpt, "--addr", "127.0.0.1:0"}, &stdout, stderr) }()
	addrRE := regexp.MustCompile(`on (http://[^ ]+)/`)
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d early: %s", code, stderr.String())
		default:
		}
	}
	if url == "" {
		t.Fatalf("serve did not start: %s %s", stdout.String(), stderr.String())
	}
	return url, stderr, func() {
		t.Helper()
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit %d after SIGTERM; want 0. stderr: %s", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not exit after SIGTERM")
		}
	}
}

// TestServeSIGTERM runs convnet serve, answers one request, sends the
// process SIGTERM and checks that the command exits 0 after logging the
// request and the drain.
func TestServeSIGTERM(t *testing.T) {
	url, stderr, stop := startServe(t, lectureCheckpoint(t))
	r, err := http.Get(url + "/v2/models/convnet/ready")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("ready: %d", r.StatusCode)
	}
	stop()
	for _, want := range []string{`"msg":"request","method":"GET","path":"/v2/models/convnet/ready","handler":"model_ready","status":200`, `"msg":"draining"`, `"msg":"stopped"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, stderr.String())
		}
	}
}
