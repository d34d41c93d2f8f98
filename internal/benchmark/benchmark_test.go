package benchmark

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

func TestRunSmall(t *testing.T) {
	for _, tc := range []struct {
		model, want string
		params      int
	}{
		// 5·5·1·32 + 32 + 5·5·32·64 + 64 + 3136·1024 + 1024 + 1024·10 + 10.
		{"", "lecture", 3274634},
		// stem 9·16 + 2·16; two blocks of 16: 2·(2·9·16·16 + 2·2·16);
		// the block of 32: 9·16·32 + 9·32·32 + 16·32 + 3·2·32; dense
		// 32·10 + 10.
		{"resnet", "resnet", 24378},
	} {
		t.Run(tc.want, func(t *testing.T) {
			r, err := Run(Config{Model: tc.model, Batch: 2, Warmup: 1, Runs: 1})
			if err != nil {
				t.Fatal(err)
			}
			if r.TrainStepMS <= 0 || r.InferMS <= 0 || r.LatencyMS <= 0 || r.Batch != 2 || r.Model != tc.want {
				t.Fatalf("implausible result %+v", r)
			}
			if r.Params != tc.params {
				t.Errorf("%d parameters, want %d", r.Params, tc.params)
			}
		})
	}
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"batch", Config{Batch: -1}, "batch -1"},
		{"model", Config{Model: "vgg"}, `unknown model "vgg"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run(%+v) returned %v, want an error containing %q", tc.c, err, tc.want)
			}
		})
	}
}

// The FLOP count of the ResNet against a count taken from the model's
// own layer shapes: 2·H·W·KH·KW·Cin·Cout per convolution, 2·in·out for
// the dense layer.
func TestResNetFLOP(t *testing.T) {
	m, flop, err := NewModel("resnet")
	if err != nil {
		t.Fatal(err)
	}
	outHW := map[string]int{}
	for _, v := range m.Variables() {
		name := v.Name()
		if strings.HasPrefix(name, "s2") {
			outHW[name] = 14 * 14
		} else {
			outHW[name] = 28 * 28
		}
	}
	count := 0.0
	for _, v := range m.Variables() {
		s := v.Value().Shape()
		switch {
		case strings.HasSuffix(v.Name(), "/kernel") && len(s) == 4:
			count += 2 * float64(outHW[v.Name()]*s[0]*s[1]*s[2]*s[3])
		case strings.HasSuffix(v.Name(), "/kernel"):
			count += 2 * float64(s[0]*s[1])
		}
	}
	if count != flop || flop != ResNetFwdFLOPPerImage {
		t.Errorf("ResNetFwdFLOPPerImage %d, NewModel says %v, the layers %v", ResNetFwdFLOPPerImage, flop, count)
	}
}

func TestWriteResNetCheck(t *testing.T) {
	dir := t.TempDir()
	params, err := WriteResNetCheck(dir)
	if err != nil {
		t.Fatal(err)
	}
	if params != 24378 {
		t.Errorf("%d parameters, want 24378", params)
	}
	m, _, err := NewModel("resnet")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"input": {CheckBatch, 28, 28, 1}, "logits_eval": {CheckBatch, 10},
		"logits_train": {CheckBatch, 10}, "params": {1}}
	for _, v := range m.AllWeights() {
		want[strings.ReplaceAll(v.Name(), "/", ".")] = v.Value().Shape()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != len(want) {
		t.Errorf("%d files written, want %d", len(files), len(want))
	}
	got := map[string]*tensor.Tensor{}
	for name, shape := range want {
		x, err := npy.ReadFile(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(x.Shape(), shape) {
			t.Errorf("%s: shape %v, want %v", name, x.Shape(), shape)
		}
		got[name] = x
	}
	// The written weights give the written inference logits.
	weights := map[string]*tensor.Tensor{}
	for _, v := range m.AllWeights() {
		weights[v.Name()] = got[strings.ReplaceAll(v.Name(), "/", ".")]
	}
	if err := m.(*layers.Model).SetWeights(weights); err != nil {
		t.Fatal(err)
	}
	y := m.Call(autograd.Constant(got["input"]), layers.Context{})
	if y.Err() != nil {
		t.Fatal(y.Err())
	}
	for i, v := range y.Value().Data() {
		if w := got["logits_eval"].Data()[i]; v != w {
			t.Fatalf("logit %d: %v from the written weights, %v written", i, v, w)
		}
	}
	// Training mode normalises with the batch's statistics: other logits.
	if slices.Equal(got["logits_eval"].Data(), got["logits_train"].Data()) {
		t.Error("training-mode logits equal the inference ones")
	}
	if _, err := WriteResNetCheck(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "existing directory") {
		t.Errorf("WriteResNetCheck into a missing directory: %v", err)
	}
}

func TestMedianStopsOnError(t *testing.T) {
	calls := 0
	_, err := medianMS(func() error {
		calls++
		if calls == 2 {
			return errBoom
		}
		return nil
	}, 1, 5)
	if err != errBoom || calls != 2 {
		t.Fatalf("medianMS returned %v after %d calls, want errBoom after 2", err, calls)
	}
}

var errBoom = errors.New("boom")
