package serve

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/imagefilter"
	"github.com/convnet-go/convnet/imageio"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/serve/web"
)

// Prediction is a class and its probability.
type Prediction struct {
	Class       int     `json:"class"`
	Probability float64 `json:"probability"`
}

// decodeImage reads the body as an image (imageio.Formats), refusing one
// whose header claims more than MaxPixels pixels before decoding it.
func (s *Server) decodeImage(r *http.Request) (image.Image, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	img, _, err := imageio.DecodeBytes(body, "request body", s.opt.MaxPixels)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	return img, nil
}

// acquireImageWork takes a slot of the image-request semaphore, or fails
// with 503 when all MaxImageWork slots are taken.
func (s *Server) acquireImageWork() (release func(), err error) {
	select {
	case s.imageWork <- struct{}{}:
		return func() { <-s.imageWork }, nil
	default:
		return nil, errorf(http.StatusServiceUnavailable, "server busy: %d image requests are being handled", cap(s.imageWork))
	}
}

// digit checks that the model takes 28×28×1 digits and reads the body
// as one, prepared as convnet predict does (query "invert": auto, always
// or never).
func (s *Server) digit(r *http.Request) ([]float32, bool, error) {
	if err := s.checkModel(r); err != nil {
		return nil, false, err
	}
	in := s.model.Inputs()
	if want := []int64{-1, models.ImageSize, models.ImageSize, 1}; len(in) != 1 || !slices.Equal(in[0].Shape, want) {
		return nil, false, errorf(http.StatusNotFound, "model %q does not take digit images (its inputs are %s; want [-1 28 28 1])", s.opt.Name, specNames(in))
	}
	invert := r.URL.Query().Get("invert")
	switch invert {
	case "":
		invert = models.InvertAuto
	case models.InvertAuto, models.InvertAlways, models.InvertNever:
	default:
		return nil, false, errorf(http.StatusBadRequest, "invert=%q; want auto, always or never", invert)
	}
	img, err := s.decodeImage(r)
	if err != nil {
		return nil, false, err
	}
	px, inv := models.PrepareDigit(img, invert)
	return px, inv, nil
}

// topK returns the k most probable classes of probs, most probable first.
func topK(probs []float32, k int) []Prediction {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	out := make([]Prediction, 0, k)
	for _, i := range idx[:min(k, len(idx))] {
		out = append(out, Prediction{Class: i, Probability: float64(probs[i])})
	}
	return out
}

// queryTop reads the query's "top" (default 3, 1 to classes).
func queryTop(r *http.Request, classes int) (int, error) {
	q := r.URL.Query().Get("top")
	if q == "" {
		return min(3, classes), nil
	}
	k, err := strconv.Atoi(q)
	if err != nil || k < 1 || k > classes {
		return 0, errorf(http.StatusBadRequest, "top=%q; want a whole number from 1 to %d", q, classes)
	}
	return k, nil
}

// probabilitiesOutput returns the index of the "probabilities" output.
func (s *Server) probabilitiesOutput() (int, int, error) {
	for i, o := range s.model.Outputs() {
		if o.Name == "probabilities" && len(o.Shape) == 2 {
			return i, int(o.Shape[1]), nil
		}
	}
	return 0, 0, errorf(http.StatusNotFound, "model %q has no probabilities output", s.opt.Name)
}

// predictImage answers POST /v1/models/{name}/predict-image: the body is
// an image of one digit; the answer is {"model_name", "inverted",
// "predictions": [{"class", "probability"}, …]}, top-k first.
func (s *Server) predictImage(w http.ResponseWriter, r *http.Request) error {
	release, err := s.acquireImageWork()
	if err != nil {
		return err
	}
	defer release()
	px, inv, err := s.digit(r)
	if err != nil {
		return err
	}
	pi, classes, err := s.probabilitiesOutput()
	if err != nil {
		return err
	}
	k, err := queryTop(r, classes)
	if err != nil {
		return err
	}
	out, err := s.batcher.submit(r.Context(), 1, [][]float32{px})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_name": s.opt.Name, "inverted": inv, "predictions": topK(out[pi], k)})
	return nil
}

// LayerImage is one layer's feature maps as a PNG grid: Cols×Rows tiles of
// the layer's H×W maps, channel c at column c mod Cols, row c / Cols, one
// black pixel between tiles; each map is scaled to its own maximum (0 is
// black).
type LayerImage struct {
	Layer string `json:"layer"`
	Shape []int  `json:"shape"`
	Cols  int    `json:"cols"`
	Rows  int    `json:"rows"`
	PNG   string `json:"png"` // data:image/png;base64,…
}

// features answers POST /v1/models/{name}/features: the digit's top-3
// (or ?top=k), the 28×28 input the model saw and the feature maps of the
// model's feature layers as images.
func (s *Server) features(w http.ResponseWriter, r *http.Request) error {
	release, err := s.acquireImageWork()
	if err != nil {
		return err
	}
	defer release()
	fm, ok := s.model.(FeatureModel)
	if !ok {
		return errorf(http.StatusNotFound, "model %q does not expose feature maps", s.opt.Name)
	}
	px, inv, err := s.digit(r)
	if err != nil {
		return err
	}
	pi, classes, err := s.probabilitiesOutput()
	if err != nil {
		return err
	}
	k, err := queryTop(r, classes)
	if err != nil {
		return err
	}
	maps, out, err := fm.FeatureMaps(px, fm.FeatureLayers())
	if err != nil {
		return err
	}
	input := image.NewGray(image.Rect(0, 0, models.ImageSize, models.ImageSize))
	for i, v := range px {
		input.Pix[i] = uint8(min(max(v, 0), 1)*255 + 0.5)
	}
	resp := map[string]any{"model_name": s.opt.Name, "inverted": inv, "predictions": topK(out[pi], k), "input": dataURL(input)}
	var layers []LayerImage
	for _, m := range maps {
		layers = append(layers, mapGrid(m))
	}
	resp["layers"] = layers
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// mapGrid lays out a [H, W, C] feature map as a grid of C tiles, 8 per row.
func mapGrid(m FeatureMap) LayerImage {
	h, wd, c := m.Shape[0], m.Shape[1], m.Shape[2]
	cols := min(8, c)
	rows := (c + cols - 1) / cols
	img := image.NewGray(image.Rect(0, 0, cols*(wd+1)-1, rows*(h+1)-1))
	for ch := range c {
		var top float32
		for p := range h * wd {
			top = max(top, m.Data[p*c+ch])
		}
		if top <= 0 {
			continue
		}
		x0, y0 := (ch%cols)*(wd+1), (ch/cols)*(h+1)
		for y := range h {
			for x := range wd {
				v := max(m.Data[(y*wd+x)*c+ch], 0) / top
				img.Pix[(y0+y)*img.Stride+x0+x] = uint8(v*255 + 0.5)
			}
		}
	}
	return LayerImage{Layer: m.Layer, Shape: m.Shape, Cols: cols, Rows: rows, PNG: dataURL(img)}
}

// dataURL encodes img as a PNG data URL.
func dataURL(img image.Image) string {
	var b bytes.Buffer
	png.Encode(&b, img) // writing to memory cannot fail for a valid image
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// training answers GET /v1/models/{name}/training with the run's
// metrics.jsonl as {"epochs": [ {line 1}, {line 2}, … ]}, or 404 when the
// model did not come from a training run.
func (s *Server) training(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkModel(r); err != nil {
		return err
	}
	if s.opt.RunDir == "" {
		return errorf(http.StatusNotFound, "model %q did not come from a training run (no metrics.jsonl next to its checkpoints)", s.opt.Name)
	}
	epochs, err := ReadMetrics(filepath.Join(s.opt.RunDir, "metrics.jsonl"))
	if err != nil {
		return errorf(http.StatusNotFound, "%v", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": filepath.Base(s.opt.RunDir), "epochs": epochs})
	return nil
}

// maxMetricsFile bounds the metrics.jsonl ReadMetrics reads.
const maxMetricsFile = 16 << 20

// ReadMetrics reads a training run's metrics.jsonl: one JSON object per
// line (train.EpochMetrics). Blank lines are skipped; a line that is not
// a JSON object is an error naming its number. Files over 16 MiB are
// refused.
func ReadMetrics(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("training metrics: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxMetricsFile {
		return nil, fmt.Errorf("training metrics %s: %d bytes, more than %d", path, st.Size(), maxMetricsFile)
	}
	return parseMetrics(bufio.NewReader(f))
}

func parseMetrics(r *bufio.Reader) ([]map[string]any, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []map[string]any
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m == nil {
			return nil, fmt.Errorf("training metrics line %d is not a JSON object", line)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("training metrics: %w", err)
	}
	return out, nil
}

// Filter playground limits: kernels per request, kernel side, and the
// longest side an uploaded photo is scaled down to before filtering.
const (
	maxFilterKernels = 8
	maxFilterSide    = 15
	filterImageSide  = 512
)

// filter answers POST /v1/filter?kernel=K[&kernel=K…][&gray=1][&abs=1]:
// the body is an image, each K a built-in name or a kernel written row by
// row ("0,-1,0;-1,5,-1;0,-1,0"). The image is scaled to at most 512
// pixels a side and filtered as convnet filter does; the answer holds the
// original and each result as PNG data URLs.
func (s *Server) filter(w http.ResponseWriter, r *http.Request) error {
	release, err := s.acquireImageWork()
	if err != nil {
		return err
	}
	defer release()
	q := r.URL.Query()
	specs := q["kernel"]
	if len(specs) == 0 {
		specs = imagefilter.Lecture()
	}
	if len(specs) > maxFilterKernels {
		return errorf(http.StatusBadRequest, "%d kernels; at most %d per request", len(specs), maxFilterKernels)
	}
	var ks []imagefilter.Kernel
	for _, spec := range specs {
		k, err := imagefilter.Builtin(spec)
		if errors.Is(err, imagefilter.ErrUnknownKernel) {
			if pk, perr := imagefilter.ParseKernel(spec); perr == nil {
				k, err = pk, nil
			} else if strings.ContainsAny(spec, ",;") {
				err = perr
			}
		}
		if err != nil {
			return errorf(http.StatusBadRequest, "kernel %q: %v", spec, err)
		}
		if k.Size[0] > maxFilterSide || k.Size[1] > maxFilterSide {
			return errorf(http.StatusBadRequest, "kernel %q is %dx%d; at most %dx%d here", spec, k.Size[0], k.Size[1], maxFilterSide, maxFilterSide)
		}
		ks = append(ks, k)
	}
	opt := imagefilter.Options{Gray: q.Get("gray") == "1", Abs: q.Get("abs") == "1"}
	img, err := s.decodeImage(r)
	if err != nil {
		return err
	}
	img = imagefilter.Fit(img, filterImageSide)
	results, err := imagefilter.ApplyAll(img, ks, opt)
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	type filtered struct {
		Name   string `json:"name"`
		Kernel string `json:"kernel"`
		PNG    string `json:"png"`
	}
	out := make([]filtered, len(ks))
	for i, k := range ks {
		out[i] = filtered{Name: k.Name, Kernel: k.String(), PNG: dataURL(results[i])}
	}
	b := img.Bounds()
	writeJSON(w, http.StatusOK, map[string]any{"width": b.Dx(), "height": b.Dy(), "original": dataURL(img), "results": out})
	return nil
}

// kernels answers GET /v1/kernels: the lecture's kernels with their
// values, and every built-in name.
func (s *Server) kernels(w http.ResponseWriter, r *http.Request) error {
	type kernel struct {
		Name   string `json:"name"`
		Kernel string `json:"kernel"`
	}
	var lecture []kernel
	for _, name := range imagefilter.Lecture() {
		k, err := imagefilter.Builtin(name)
		if err != nil {
			return err
		}
		lecture = append(lecture, kernel{Name: k.Name, Kernel: k.String()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"lecture": lecture, "names": imagefilter.Names()})
	return nil
}

// page answers GET / with the embedded web page.
func (s *Server) page(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
	w.Write(web.Page(s.opt.Name))
	return nil
}

// RunDir returns the training run directory of a checkpoint file: the
// first of its directory and that directory's parent (runs/NAME for
// runs/NAME/checkpoints/ckpt-N.safetensors) holding a metrics.jsonl, or
// "" when neither does.
func RunDir(checkpointFile string) string {
	dir := filepath.Dir(checkpointFile)
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if st, err := os.Stat(filepath.Join(d, "metrics.jsonl")); err == nil && st.Mode().IsRegular() {
			return d
		}
	}
	return ""
}
