package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func base64Reader(s string) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, strings.NewReader(s))
}

// TestDrain starts Serve, holds a request in the model, cancels Serve's
// context (what SIGTERM does in convnet serve) and checks that the held
// request is still answered, that new connections are refused, and that
// Serve returns nil.
func TestDrain(t *testing.T) {
	m := &sumModel{gate: make(chan struct{}), started: make(chan int, 1)}
	s, err := New(m, Options{Name: "sum", Logger: quietLogger(), DrainTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type reply struct {
		code int
		body string
		err  error
	}
	held := make(chan reply, 1)
	go func() {
		r, err := http.Post(url+"/v2/models/sum/infer", "application/json",
			strings.NewReader(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[2,3]}]}`))
		if err != nil {
			held <- reply{err: err}
			return
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		held <- reply{code: r.StatusCode, body: string(b)}
	}()
	<-m.started
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for !s.draining.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// Shutdown closes the listener first thing; wait for that.
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections are still accepted while draining")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the held request was answered", err)
	default:
	}
	close(m.gate)
	r := <-held
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, `"data":[32]`) {
		t.Errorf("held request: %d %s %v; want 200 with y = 32", r.code, r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v; want nil after a clean drain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after draining")
	}
	if _, err := s.batcher.submit(context.Background(), 1, [][]float32{{1, 2}}); err != errClosed {
		t.Errorf("submit after Serve returned: %v; want errClosed", err)
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// TestReadTimeout checks that a client that sends its headers and then
// stalls in the body is cut off after ReadTimeout.
func TestReadTimeout(t *testing.T) {
	s, err := New(&sumModel{}, Options{Name: "sum", Logger: quietLogger(), ReadTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v2/models/sum/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\":")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, _ := io.ReadAll(conn) // returns when the server closes the connection
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("connection still open after %v", d)
	}
	if len(resp) > 0 && !strings.Contains(string(resp), " 400 ") {
		t.Errorf("stalled body answered %q; want a 400 or a closed connection", resp)
	}
}
