package serve

import (
	"bufio"
	"bytes"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
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

// FuzzReadInferRequest checks readInferRequest against the reference
// (encoding/json, then parseFP32): both accept or both refuse a body, and
// when both accept they read the same request and the same numbers, bit
// for bit.
func FuzzReadInferRequest(f *testing.F) {
	for _, seed := range []string{
		`{"id":"a","inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"y","parameters":{"a":[1,{}]}}]}`,
		`{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1.5,-2e-3],[0.1234567,3.4028235e38]]}]}`,
		`{"INPUTS":[{"Name":"x\u0041","shape":null,"data":[1,"a",null,{}]}],"inputs":[],"parameters":null}`,
		`{"inputs":[{"data":[1e39,-0,0.00000000001,123456789,-1.0000001]}]}`,
		`{"inputs":[{"data":[NaN]}]}`, `{"inputs":[{"data":[-Infinity]}]}`, `{"inputs":[{"data":5}]}`,
		`{"inputs":[{"name":"\xff\x80"}]}`, `{"id":"\ud800"}`, `{"inputs":[null]}`, `null`, `{} x`, `[`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := readInferRequest(body)
		want, refErr := refReadInferRequest(body)
		if (err == nil) != (refErr == nil) {
			// encoding/json turns a null element into a zero struct where
			// the fast reader wants an object; both then refuse the request.
			if err != nil && refErr == nil && strings.Contains(err.Error(), "want an object") {
				return
			}
			t.Fatalf("%q: readInferRequest error %v, reference error %v", body, err, refErr)
		}
		if err != nil {
			return
		}
		if got.ID != want.ID || len(got.Inputs) != len(want.Inputs) || len(got.Outputs) != len(want.Outputs) {
			t.Fatalf("%q: read %+v, reference %+v", body, got, want)
		}
		for i := range got.Outputs {
			if got.Outputs[i].Name != want.Outputs[i].Name {
				t.Fatalf("%q: output %d %q, reference %q", body, i, got.Outputs[i].Name, want.Outputs[i].Name)
			}
		}
		for i, g := range got.Inputs {
			w := want.Inputs[i]
			if g.Name != w.Name || g.Datatype != w.Datatype || !slices.Equal(g.Shape, w.Shape) || (g.Data == nil) != (w.Data == nil) {
				t.Fatalf("%q: input %d %+v, reference %+v", body, i, g, w)
			}
			if (g.dataErr == "") != (w.dataErr == "") {
				t.Fatalf("%q: input %d data error %q, reference %q", body, i, g.dataErr, w.dataErr)
			}
			if g.dataErr != "" {
				continue
			}
			if len(g.values) != len(w.values) {
				t.Fatalf("%q: %d values, reference %d", body, len(g.values), len(w.values))
			}
			for j := range g.values {
				if math.Float32bits(g.values[j]) != math.Float32bits(w.values[j]) {
					t.Fatalf("%q: value %d is %v, reference %v", body, j, g.values[j], w.values[j])
				}
			}
		}
	})
}

// TestParseFloat32 compares the fast path with strconv on numbers of
// every length around its limits, bit for bit.
func TestParseFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 200_000 {
		var s string
		switch r.IntN(4) {
		case 0:
			s = strconv.FormatFloat(float64(r.Float32()), 'f', r.IntN(12), 32)
		case 1:
			s = strconv.FormatFloat(float64(r.Float32()), 'g', -1, 32)
		case 2:
			s = strconv.FormatFloat(r.Float64()*1e7, 'f', r.IntN(4), 64)
		default:
			s = "-" + strconv.FormatUint(r.Uint64N(100_000_000), 10)
		}
		want, err := strconv.ParseFloat(s, 32)
		got, ok := parseFloat32([]byte(s))
		if ok != (err == nil) || math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("parseFloat32(%q) = %v, %v; strconv %v, %v", s, got, ok, float32(want), err)
		}
	}
}
