package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convnet-go/convnet/internal/imagetest"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/train"
)

// sumModel is a test model: input "x" [-1, 2], output "y" [-1, 1] with
// y = x0 + 10·x1. It records the batch sizes it was called with, and
// waits for gate (when set) before answering.
type sumModel struct {
	mu      sync.Mutex
	batches []int
	gate    chan struct{}
	started chan int // receives n when a call starts (when set)
}

func (m *sumModel) Inputs() []TensorSpec {
	return []TensorSpec{{Name: "x", Datatype: FP32, Shape: []int64{-1, 2}}}
}

func (m *sumModel) Outputs() []TensorSpec {
	return []TensorSpec{{Name: "y", Datatype: FP32, Shape: []int64{-1, 1}}}
}

func (m *sumModel) Predict(n int, in [][]float32) ([][]float32, error) {
	m.mu.Lock()
	m.batches = append(m.batches, n)
	m.mu.Unlock()
	if m.started != nil {
		m.started <- n
	}
	if m.gate != nil {
		<-m.gate
	}
	y := make([]float32, n)
	for i := range n {
		y[i] = in[0][2*i] + 10*in[0][2*i+1]
	}
	return [][]float32{y}, nil
}

func (m *sumModel) seen() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.batches)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestServer(t *testing.T, m Model, o Options) *Server {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	s, err := New(m, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// do runs one request against h and returns the status and body.
func do(t *testing.T, h http.Handler, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestEndpoints(t *testing.T) {
	s := newTestServer(t, &sumModel{}, Options{Name: "sum"})
	tests := []struct {
		name, method, path, body string
		code                     int
		want                     string // a substring of the body
	}{
		{"live", "GET", "/v2/health/live", "", 200, `"live":true`},
		{"ready", "GET", "/v2/health/ready", "", 200, `"ready":true`},
		{"server metadata", "GET", "/v2", "", 200, `"name":"convnet","version":"1"`},
		{"model metadata", "GET", "/v2/models/sum", "", 200,
			`"inputs":[{"name":"x","datatype":"FP32","shape":[-1,2]}],"name":"sum","outputs":[{"name":"y","datatype":"FP32","shape":[-1,1]}],"platform":"convnet","versions":["1"]`},
		{"versioned metadata", "GET", "/v2/models/sum/versions/1", "", 200, `"name":"sum"`},
		{"model ready", "GET", "/v2/models/sum/ready", "", 200, `"ready":true`},
		{"infer", "POST", "/v2/models/sum/infer",
			`{"id":"a1","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}]}`, 200,
			`{"model_name":"sum","model_version":"1","id":"a1","outputs":[{"name":"y","shape":[2,1],"datatype":"FP32","data":[21,43]}]}`},
		{"infer nested data", "POST", "/v2/models/sum/versions/1/infer",
			`{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3.5,-4e-1]]}]}`, 200, `"data":[21,-0.5]`},
		{"infer named output", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0,1]}],"outputs":[{"name":"y"}]}`, 200, `"data":[10]`},
		{"metrics", "GET", "/metrics", "", 200, "# TYPE convnet_http_requests_total counter"},
		{"kernels", "GET", "/v1/kernels", "", 200, `{"name":"blur","kernel":"0.0625,0.125,0.0625;`},
		{"page", "GET", "/", "", 200, `const MODEL = "sum";`},

		{"unknown model metadata", "GET", "/v2/models/other", "", 404, `{"error":"unknown model \"other\"; this server serves \"sum\""}`},
		{"unknown model ready", "GET", "/v2/models/other/ready", "", 404, `unknown model`},
		{"unknown version", "GET", "/v2/models/sum/versions/7", "", 404, `has no version \"7\"`},
		{"unknown model infer", "POST", "/v2/models/other/infer", `{}`, 404, `unknown model \"other\"`},
		{"unknown path", "GET", "/v3/x", "", 404, `no endpoint GET /v3/x`},
		{"no training run", "GET", "/v1/models/sum/training", "", 404, `did not come from a training run`},
		{"malformed JSON", "POST", "/v2/models/sum/infer", `{"inputs":[`, 400, `infer request: malformed JSON at byte 11: unexpected end of the body`},
		{"not an object", "POST", "/v2/models/sum/infer", `[1,2]`, 400, `malformed JSON`},
		{"no inputs", "POST", "/v2/models/sum/infer", `{}`, 400, `0 inputs; model \"sum\" takes 1`},
		{"unknown input", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"z","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 400, `unknown input \"z\"`},
		{"wrong datatype", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"INT32","data":[1,2]}]}`, 400, `input \"x\" has datatype \"INT32\"; want \"FP32\"`},
		{"wrong shape", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`, 400, `input \"x\" has shape [1 3]; want [-1 2]`},
		{"wrong rank", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}`, 400, `has shape [2]`},
		{"zero batch", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[0,2],"datatype":"FP32","data":[]}]}`, 400, `batch of at least 1`},
		{"batch over max", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[33,2],"datatype":"FP32","data":[]}]}`, 400, `batch 33, more than the server's maximum batch 32`},
		{"short data", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]}`, 400, `input \"x\" has 3 data values; shape [2 2] needs 4`},
		{"long data", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2,3]}]}`, 400, `has 3 data values; shape [1 2] needs 2`},
		{"missing data", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32"}]}`, 400, `data is missing`},
		{"string data", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,"2"]}]}`, 400, `value 1 is a string; want numbers`},
		{"null data", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[null,1]}]}`, 400, `value 0 is null`},
		{"NaN", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,NaN]}]}`, 400, `non-finite value NaN`},
		{"Infinity", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[-Infinity,1]}]}`, 400, `non-finite value -Infinity at byte 63`},
		{"FP32 overflow", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,1e39]}]}`, 400, `value 1 (1e39) is not a finite FP32 number`},
		{"duplicate input", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]},{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 400, `2 inputs`},
		{"unknown output", "POST", "/v2/models/sum/infer",
			`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"q"}]}`, 400, `unknown output \"q\"`},
		{"not a digit model", "POST", "/v1/models/sum/predict-image", "", 404, `does not take digit images`},
		{"no feature maps", "POST", "/v1/models/sum/features", "", 404, `does not expose feature maps`},
		{"wrong method", "GET", "/v2/models/sum/infer", "", 404, `no endpoint GET /v2/models/sum/infer`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, s, tc.method, tc.path, []byte(tc.body))
			if code != tc.code || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%s %s: %d %s\nwant %d with %s", tc.method, tc.path, code, body, tc.code, tc.want)
			}
			if code >= 400 {
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || e["error"] == "" || len(e) != 1 {
					t.Errorf("error body %s is not {\"error\": \"…\"}", body)
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	s := newTestServer(t, &sumModel{}, Options{Name: "sum", MaxBodyBytes: 100})
	big := `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"pad":"` + strings.Repeat("x", 200) + `"}`
	for _, path := range []string{"/v2/models/sum/infer", "/v1/filter"} {
		code, body := do(t, s, "POST", path, []byte(big))
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "larger than the limit of 100 bytes") {
			t.Errorf("%s: %d %s; want 413 naming the limit", path, code, body)
		}
	}
	code, body := do(t, s, "POST", "/v2/models/sum/infer", []byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`))
	if code != 200 {
		t.Errorf("a body under the limit: %d %s", code, body)
	}

	// Infer bodies are also bounded by what MaxBatch examples can need:
	// 32 bytes a value and 64 KiB.
	s = newTestServer(t, &sumModel{}, Options{Name: "sum", MaxBatch: 4})
	big = `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"pad":"` + strings.Repeat("x", 4*2*32+64<<10) + `"}`
	code, body = do(t, s, "POST", "/v2/models/sum/infer", []byte(big))
	if want := fmt.Sprintf("larger than the limit of %d bytes", 4*2*32+64<<10); code != 413 || !strings.Contains(string(body), want) {
		t.Errorf("infer body over the batch's need: %d %s; want 413 and %q", code, body, want)
	}
}

// pngBytes encodes img as PNG.
func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// lectureModel returns the lecture's ConvNet with seeded random weights.
func lectureModel(t testing.TB) *Sequential {
	t.Helper()
	seq, err := models.NewConvNet(models.ConvNetConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewSequential(seq, []int{28, 28, 1}, "conv1", "conv2")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// digitImage draws a dark bar on white, a crude "1".
func digitImage(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := h / 5; y < 4*h/5; y++ {
		for x := w/2 - w/12; x < w/2+w/12; x++ {
			img.SetGray(x, y, color.Gray{Y: 0})
		}
	}
	return img
}

// TestLectureModel checks infer, predict-image and features on the
// lecture's model against train.Predict on the same inputs.
func TestLectureModel(t *testing.T) {
	m := lectureModel(t)
	s := newTestServer(t, m, Options{})
	img := digitImage(60, 80)
	px, inv := models.PrepareDigit(img, models.InvertAuto)
	want, err := train.Predict(m.model, [][]float32{px}, 10)
	if err != nil {
		t.Fatal(err)
	}

	req, _ := json.Marshal(InferRequest{Inputs: []InferInput{{Name: "input", Shape: []int64{1, 28, 28, 1}, Datatype: FP32, Data: mustJSON(t, px)}}})
	code, body := do(t, s, "POST", "/v2/models/convnet/infer", req)
	if code != 200 {
		t.Fatalf("infer: %d %s", code, body)
	}
	var resp InferResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Outputs) != 2 || resp.Outputs[0].Name != "logits" || resp.Outputs[1].Name != "probabilities" ||
		!slices.Equal(resp.Outputs[1].Shape, []int64{1, 10}) {
		t.Fatalf("infer outputs %+v", resp.Outputs)
	}
	for _, p := range want[0] {
		if got := resp.Outputs[1].Data[p.Class]; float64(got) != p.Probability {
			t.Errorf("probability of %d: infer %v, train.Predict %v", p.Class, got, p.Probability)
		}
	}

	code, body = do(t, s, "POST", "/v1/models/convnet/predict-image?top=3", pngBytes(t, img))
	var pi struct {
		Inverted    bool
		Predictions []Prediction
	}
	if err := json.Unmarshal(body, &pi); code != 200 || err != nil {
		t.Fatalf("predict-image: %d %s", code, body)
	}
	if pi.Inverted != inv || len(pi.Predictions) != 3 {
		t.Fatalf("predict-image %s; want inverted %v and 3 predictions", body, inv)
	}
	for i, p := range pi.Predictions {
		if p.Class != want[0][i].Class || p.Probability != want[0][i].Probability {
			t.Errorf("predict-image #%d %+v; train.Predict %+v", i, p, want[0][i])
		}
	}

	code, body = do(t, s, "POST", "/v1/models/convnet/features", pngBytes(t, img))
	var f struct {
		Predictions []Prediction
		Input       string
		Layers      []LayerImage
	}
	if err := json.Unmarshal(body, &f); code != 200 || err != nil {
		t.Fatalf("features: %d %.300s", code, body)
	}
	if len(f.Predictions) != 3 || f.Predictions[0].Class != want[0][0].Class {
		t.Errorf("features top-3 %+v; want %+v first", f.Predictions, want[0][0])
	}
	wantLayers := []struct {
		name   string
		shape  []int
		cols   int
		rows   int
		bounds image.Point
	}{
		{"conv1", []int{28, 28, 32}, 8, 4, image.Pt(8*29-1, 4*29-1)},
		{"conv2", []int{14, 14, 64}, 8, 8, image.Pt(8*15-1, 8*15-1)},
	}
	if len(f.Layers) != len(wantLayers) {
		t.Fatalf("%d layers; want %d", len(f.Layers), len(wantLayers))
	}
	for i, w := range wantLayers {
		l := f.Layers[i]
		if l.Layer != w.name || !slices.Equal(l.Shape, w.shape) || l.Cols != w.cols || l.Rows != w.rows {
			t.Errorf("layer %d: %s %v %dx%d; want %s %v %dx%d", i, l.Layer, l.Shape, l.Cols, l.Rows, w.name, w.shape, w.cols, w.rows)
		}
		if got := decodeDataURL(t, l.PNG).Bounds().Size(); got != w.bounds {
			t.Errorf("layer %s image %v; want %v", l.Layer, got, w.bounds)
		}
	}
	if got := decodeDataURL(t, f.Input).Bounds().Size(); got != image.Pt(28, 28) {
		t.Errorf("input image %v; want 28x28", got)
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeDataURL(t *testing.T, s string) image.Image {
	t.Helper()
	b64, ok := strings.CutPrefix(s, "data:image/png;base64,")
	if !ok {
		t.Fatalf("%.40q is not a PNG data URL", s)
	}
	img, err := png.Decode(base64Reader(b64))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImageErrors(t *testing.T) {
	s := newTestServer(t, lectureModel(t), Options{MaxPixels: 10_000})
	// A PNG header claiming 100000x100000 with no pixel data behind it.
	huge := imagetest.PNGHeader(100000, 100000)
	tests := []struct {
		name, path string
		body       []byte
		code       int
		want       string
	}{
		{"empty", "/v1/models/convnet/predict-image", nil, 400, "request body is empty, not an image (want PNG, JPEG, GIF, BMP, TIFF or WebP)"},
		{"not an image", "/v1/models/convnet/predict-image", []byte("hello"), 400, "request body is not an image of a known format (want PNG, JPEG, GIF, BMP, TIFF or WebP)"},
		{"pixel limit", "/v1/models/convnet/predict-image", huge, 400, "request body: png header claims 100000x100000 = 10000000000 pixels, more than the limit of 10000"},
		{"pixel limit features", "/v1/models/convnet/features", huge, 400, "more than the limit of 10000"},
		{"pixel limit filter", "/v1/filter", huge, 400, "more than the limit of 10000"},
		{"truncated", "/v1/models/convnet/predict-image", pngBytes(t, digitImage(50, 50))[:60], 400, "request body: decoding the 50x50 png image"},
		{"bad invert", "/v1/models/convnet/predict-image?invert=maybe", pngBytes(t, digitImage(9, 9)), 400, `invert=\"maybe\"; want auto, always or never`},
		{"bad top", "/v1/models/convnet/predict-image?top=11", pngBytes(t, digitImage(9, 9)), 400, `top=\"11\"; want a whole number from 1 to 10`},
		{"unknown model", "/v1/models/x/predict-image", pngBytes(t, digitImage(9, 9)), 404, `unknown model \"x\"`},
		{"unknown kernel", "/v1/filter?kernel=blurry", pngBytes(t, digitImage(9, 9)), 400, `unknown kernel \"blurry\"`},
		{"ragged kernel", "/v1/filter?kernel=" + urlq("1,2;3"), pngBytes(t, digitImage(9, 9)), 400, `kernel row 2 has 1 values but row 1 has 2`},
		{"big kernel", "/v1/filter?kernel=box:16", pngBytes(t, digitImage(9, 9)), 400, `is 16x16; at most 15x15`},
		{"too many kernels", "/v1/filter?" + strings.Repeat("kernel=blur&", 9), pngBytes(t, digitImage(9, 9)), 400, `9 kernels; at most 8`},
		{"filter", "/v1/filter?kernel=edge&kernel=" + urlq("0,0,0;0,2,0;0,0,0") + "&gray=1", pngBytes(t, digitImage(9, 9)), 200, `"name":"custom","kernel":"0,0,0;0,2,0;0,0,0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, s, "POST", tc.path, tc.body)
			if code != tc.code || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d %.300s\nwant %d with %s", code, body, tc.code, tc.want)
			}
		})
	}
}

func urlq(s string) string { return strings.NewReplacer(",", "%2C", ";", "%3B").Replace(s) }

// TestBatching sends concurrent requests while the model is held busy, so
// they queue, and checks that every answer is the request's own and that
// the model saw them in batches no larger than MaxBatch.
func TestBatching(t *testing.T) {
	m := &sumModel{gate: make(chan struct{}), started: make(chan int, 100)}
	s := newTestServer(t, m, Options{Name: "sum", MaxBatch: 8, MaxDelay: 50 * time.Millisecond, Workers: 1})
	ts := httptest.NewServer(s)
	defer ts.Close()

	const clients = 25 // 1 to block the worker, then 24 = three full batches of 8
	type answer struct {
		i    int
		code int
		y    float32
	}
	answers := make(chan answer, clients)
	send := func(i int) {
		body := fmt.Sprintf(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[%d,%d]}]}`, i, i+1)
		r, err := http.Post(ts.URL+"/v2/models/sum/infer", "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			answers <- answer{i: i}
			return
		}
		defer r.Body.Close()
		var resp InferResponse
		json.NewDecoder(r.Body).Decode(&resp)
		a := answer{i: i, code: r.StatusCode}
		if len(resp.Outputs) == 1 && len(resp.Outputs[0].Data) == 1 {
			a.y = resp.Outputs[0].Data[0]
		}
		answers <- a
	}
	go send(0)
	if n := <-m.started; n != 1 {
		t.Fatalf("first batch %d; want 1", n)
	}
	for i := 1; i < clients; i++ {
		go send(i)
	}
	// Wait until all 24 are queued behind the held batch.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.batcher.queue) < clients-1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if q := len(s.batcher.queue); q != clients-1 {
		t.Fatalf("%d requests queued; want %d", q, clients-1)
	}
	close(m.gate)
	for range clients {
		a := <-answers
		if want := float32(a.i + 10*(a.i+1)); a.code != 200 || a.y != want {
			t.Errorf("request %d: status %d, y %v; want 200 and %v", a.i, a.code, a.y, want)
		}
	}
	if got, want := m.seen(), []int{1, 8, 8, 8}; !slices.Equal(got, want) {
		t.Errorf("batch sizes %v; want %v", got, want)
	}
	_, metrics := do(t, s, "GET", "/metrics", nil)
	for _, line := range []string{
		`convnet_batch_size_bucket{le="1"} 1`,
		`convnet_batch_size_bucket{le="8"} 4`,
		`convnet_batch_size_count 4`,
		`convnet_batch_size_sum 25`,
		`convnet_http_requests_total{handler="infer",code="200"} 25`,
		`convnet_http_request_duration_seconds_count{handler="infer"} 25`,
	} {
		if !strings.Contains(string(metrics), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, metrics)
		}
	}
}

// TestBatchDelay checks that a lone request waits at most about MaxDelay
// and that requests of different batch sizes are combined up to MaxBatch.
func TestBatchDelay(t *testing.T) {
	m := &sumModel{}
	s := newTestServer(t, m, Options{Name: "sum", MaxBatch: 4, MaxDelay: 20 * time.Millisecond, Workers: 1})
	start := time.Now()
	code, body := do(t, s, "POST", "/v2/models/sum/infer", []byte(`{"inputs":[{"name":"x","shape":[3,2],"datatype":"FP32","data":[1,0,2,0,3,0]}]}`))
	if d := time.Since(start); code != 200 || d > 2*time.Second {
		t.Fatalf("%d %s after %v", code, body, d)
	}
	if !strings.Contains(string(body), `"data":[1,2,3]`) {
		t.Errorf("body %s", body)
	}
	if got := m.seen(); !slices.Equal(got, []int{3}) {
		t.Errorf("batches %v; want [3]", got)
	}
}

// TestQueueLimit fills the queue while the model is held and checks that
// the batcher refuses one more job, that an infer request beyond
// MaxQueue + Workers·MaxBatch gets 503, and that the queued ones are
// answered.
func TestQueueLimit(t *testing.T) {
	m := &sumModel{gate: make(chan struct{}), started: make(chan int, 10)}
	s := newTestServer(t, m, Options{Name: "sum", MaxBatch: 1, Workers: 1, MaxQueue: 2})
	body := []byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,1]}]}`)
	codes := make(chan int, 3)
	go func() { c, _ := do(t, s, "POST", "/v2/models/sum/infer", body); codes <- c }()
	<-m.started
	for range 2 {
		go func() { c, _ := do(t, s, "POST", "/v2/models/sum/infer", body); codes <- c }()
	}
	for len(s.batcher.queue) < 2 {
		time.Sleep(time.Millisecond)
	}
	if _, err := s.batcher.submit(context.Background(), 1, [][]float32{{1, 1}}); err != errQueueFull {
		t.Errorf("job beyond the queue: %v; want errQueueFull", err)
	}
	code, resp := do(t, s, "POST", "/v2/models/sum/infer", body)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(resp), "server busy: 3 infer requests are being handled") {
		t.Errorf("request beyond the queue: %d %s; want 503", code, resp)
	}
	if _, metrics := do(t, s, "GET", "/metrics", nil); !strings.Contains(string(metrics), "convnet_queue_rejected_total 1\n") {
		t.Errorf("metrics do not count the refused job:\n%s", metrics)
	}
	close(m.gate)
	for range 3 {
		if c := <-codes; c != 200 {
			t.Errorf("queued request: %d", c)
		}
	}
}

// TestImageWorkLimit holds MaxImageWork image requests in the model and
// checks that one more gets 503.
func TestImageWorkLimit(t *testing.T) {
	s := newTestServer(t, lectureModel(t), Options{MaxImageWork: 1})
	s.imageWork <- struct{}{} // one image request in progress
	code, body := do(t, s, "POST", "/v1/models/convnet/predict-image", pngBytes(t, digitImage(9, 9)))
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "1 image requests are being handled") {
		t.Errorf("%d %s; want 503", code, body)
	}
	<-s.imageWork
	if code, body = do(t, s, "POST", "/v1/models/convnet/predict-image", pngBytes(t, digitImage(9, 9))); code != 200 {
		t.Errorf("after release: %d %s", code, body)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"negative batch", Options{MaxBatch: -1}, "MaxBatch -1"},
		{"bad name", Options{Name: "a/b"}, `model name "a/b"`},
		{"bad body limit", Options{MaxBodyBytes: -5}, "MaxBodyBytes -5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(&sumModel{}, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one naming %q", err, tc.want)
			}
		})
	}
}

// TestBatchedEqualsSingle checks that the lecture model's answer for an
// example does not depend (beyond rounding) on the batch the dynamic
// batcher put it in: rows of a batch of 5 against 5 batches of 1.
func TestBatchedEqualsSingle(t *testing.T) {
	m := lectureModel(t)
	const n, px = 5, 28 * 28
	x := make([]float32, n*px)
	for i := range x {
		x[i] = float32((i*7919)%256) / 255
	}
	batch, err := m.Predict(n, [][]float32{x})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		one, err := m.Predict(1, [][]float32{x[i*px : (i+1)*px]})
		if err != nil {
			t.Fatal(err)
		}
		for o := range one {
			for j, v := range one[o] {
				if d := math.Abs(float64(v - batch[o][i*10+j])); d > 1e-5*max(1, math.Abs(float64(v))) {
					t.Errorf("output %d, example %d, class %d: batch of 1 %v, batch of %d %v", o, i, j, v, n, batch[o][i*10+j])
				}
			}
		}
	}
}
