package serve

import (
	"bufio"
	"bytes"
	"image"
	"net/http"
	"testing"
)

// FuzzInfer feeds arbitrary bodies to the infer endpoint: the answer must
// be 200 or a JSON 4xx, never a panic or a 5xx.
func FuzzInfer(f *testing.F) {
	for _, seed := range []string{
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`,
		`{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4]]}]}`,
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,NaN]}]}`,
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[{"a":1},"b"]}]}`,
		`{"inputs":[{"name":"x","shape":[-1,2],"datatype":"FP32","data":1}]}`,
		`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1e39,-0]}]}`,
		`[`, ``,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(&sumModel{}, Options{Name: "sum", Logger: quietLogger(), MaxDelay: -1})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		code, resp := do(t, s, "POST", "/v2/models/sum/infer", body)
		if code != http.StatusOK && (code < 400 || code >= 500) {
			t.Fatalf("status %d for %q: %s", code, body, resp)
		}
		if code == http.StatusOK {
			if _, _, _, _, err := s.decodeInfer(body); err != nil {
				t.Fatalf("200 for a body decodeInfer refuses: %v", err)
			}
		}
	})
}

// FuzzImage feeds arbitrary bytes to the image endpoints' decoder.
func FuzzImage(f *testing.F) {
	f.Add(pngBytes(f, digitImage(12, 12)))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("\xff\xd8\xff"))
	s, err := New(&sumModel{}, Options{Name: "sum", Logger: quietLogger(), MaxPixels: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest("POST", "/", bytes.NewReader(body))
		req.Body = http.MaxBytesReader(nil, req.Body, 1<<20)
		img, err := s.decodeImage(req)
		if err == nil {
			if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > 1<<16 {
				t.Fatalf("decoded %v past the pixel limit", b)
			}
		} else if _, ok := err.(*httpError); !ok {
			if _, ok := err.(*http.MaxBytesError); !ok {
				t.Fatalf("error %T %v is not an HTTP error", err, err)
			}
		}
		_ = image.Rectangle{}
	})
}

// FuzzMetrics feeds arbitrary text to the metrics.jsonl reader.
func FuzzMetrics(f *testing.F) {
	f.Add([]byte(`{"epoch":1,"train_loss":0.3,"val_accuracy":0.97}` + "\n\n" + `{"epoch":2}`))
	f.Add([]byte("not json\n"))
	f.Add([]byte("null\n[1]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		epochs, err := parseMetrics(bufio.NewReader(bytes.NewReader(data)))
		if err == nil {
			for _, e := range epochs {
				if e == nil {
					t.Fatal("nil epoch without an error")
				}
			}
		}
	})
}
