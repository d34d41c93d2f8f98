package autograd

import (
	"errors"
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// lectureLike builds conv → bias+ReLU → argmax pool → reshape → matmul on
// tensors large enough for nn to recycle (≥ 64 Ki elements).
func lectureLike(x, w, b, fc *Var) (logits, loss *Var) {
	h := BiasAddRelu(Conv2D(x, w, nn.ConvOptions{Padding: "SAME"}), b, "")
	p := MaxPoolWithArgmax(h, nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"})
	logits = MatMul(Reshape(p, 8, -1), fc, false, false)
	return logits, ReduceMean(Mul(logits, logits))
}

func lectureVars() (x, w, b, fc *Var) {
	return Constant(uniform(1, 8, 32, 32, 16)),
		Variable("w", uniform(2, 3, 3, 16, 32)),
		Variable("b", uniform(3, 32)),
		Variable("fc", uniform(4, 16*16*32, 10))
}

func bitsSame(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// Gradient recycles its intermediate gradients, but neither the
// gradients it returned nor any value a caller holds change when later
// steps reuse that storage.
func TestGradientRecyclingLeavesCallerTensorsAlone(t *testing.T) {
	x, w, b, fc := lectureVars()
	logits, loss := lectureLike(x, w, b, fc)
	grads, err := Gradient(loss, w, b, fc, x)
	if err != nil {
		t.Fatal(err)
	}
	keepLogits := logits.Value().Clone()
	var keepGrads []*tensor.Tensor
	for _, g := range grads {
		keepGrads = append(keepGrads, g.Clone())
	}
	for range 3 { // later steps draw from the recycled storage
		_, l := lectureLike(x, w, b, fc)
		if _, err := Gradient(l, w, b, fc); err != nil {
			t.Fatal(err)
		}
	}
	if !bitsSame(logits.Value().Data(), keepLogits.Data()) {
		t.Error("a value of the first graph changed")
	}
	for i, g := range grads {
		if !bitsSame(g.Data(), keepGrads[i].Data()) {
			t.Errorf("returned gradient %d changed", i)
		}
	}
	// The graph can be differentiated again, with the same result.
	again, err := Gradient(loss, w, b, fc, x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if !bitsSame(again[i].Data(), keepGrads[i].Data()) {
			t.Errorf("second Gradient of the same graph: gradient %d differs", i)
		}
	}
}

// Release recycles a graph's inner values; the inner Vars then carry an
// error, leaves (and inner values that are views of a leaf) are kept,
// and the next step's results equal those of a run without Release.
func TestRelease(t *testing.T) {
	x, w, b, fc := lectureVars()
	xKeep, wKeep := x.Value().Clone(), w.Value().Clone()
	logits, loss := lectureLike(x, w, b, fc)
	first := logits.Value().Clone()
	view := Reshape(w, -1)
	viewSum := ReduceSum(view)
	Release(viewSum)
	Release(loss)
	Release(loss) // twice is harmless
	Release(nil)
	for _, v := range []*Var{logits, loss, view} {
		if !errors.Is(v.Err(), errReleased) || v.Value() != nil {
			t.Errorf("%s after Release: value %v, err %v; want no value and the released error", v.Name(), v.Value(), v.Err())
		}
	}
	if _, err := Gradient(loss, w); !errors.Is(err, errReleased) {
		t.Errorf("Gradient of a released loss: %v", err)
	}
	if y := Relu(logits); !errors.Is(y.Err(), errReleased) {
		t.Errorf("op on a released Var: %v", y.Err())
	}
	logits2, loss2 := lectureLike(x, w, b, fc)
	if !bitsSame(logits2.Value().Data(), first.Data()) {
		t.Error("results on recycled storage differ")
	}
	if _, err := Gradient(loss2, w, b, fc); err != nil {
		t.Fatal(err)
	}
	if !bitsSame(x.Value().Data(), xKeep.Data()) || !bitsSame(w.Value().Data(), wKeep.Data()) {
		t.Error("a leaf's value was recycled")
	}
}

// A released node keeps none of its inputs reachable, whatever its type
// (closure, one-input or typed node): a caller may hold it long after.
func TestReleaseDropsInputs(t *testing.T) {
	x, w, b, fc := lectureVars()
	logits, loss := lectureLike(x, w, b, fc)
	fused := Conv2DBiasRelu(x, w, b, nn.ConvOptions{Padding: "SAME"})
	root := Add(Add(loss, ReduceMean(Relu(logits))), ReduceMean(fused))
	var parents [][]*Var
	for _, v := range reachable(root, nil) {
		v.walked = false
		if len(v.parents) > 0 {
			parents = append(parents, v.parents)
		}
	}
	if len(parents) < 10 {
		t.Fatalf("only %d inner nodes", len(parents))
	}
	Release(root)
	for _, v := range []*Var{logits, fused, root} {
		if !errors.Is(v.Err(), errReleased) {
			t.Errorf("%s not released: %v", v.Name(), v.Err())
		}
	}
	for _, ps := range parents {
		for i, p := range ps {
			if p != nil {
				t.Errorf("a released node still holds input %d (%s)", i, p.Name())
			}
		}
	}
}
