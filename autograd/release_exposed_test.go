package autograd

import (
	"testing"
	"unsafe"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// A value handed out by Value is the caller's: Release leaves its
// storage (and a view sharing it) alone however many later steps draw
// recycled memory, while the values nobody has seen are recycled.
func TestReleaseKeepsExposedValues(t *testing.T) {
	x, w, b, fc := lectureVars()
	step := func() (h, view, loss *Var) {
		h = BiasAddRelu(Conv2D(x, w, nn.ConvOptions{Padding: "SAME"}), b, "")
		p := MaxPoolWithArgmax(h, nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"})
		view = Reshape(p, 8, -1)
		return h, view, ReduceMean(Mul(MatMul(view, fc, false, false), MatMul(view, fc, false, false)))
	}

	h, view, loss := step()
	pooled := view.value // read inside the package: not exposed
	held := h.Value()    // exposed
	keep := held.Clone()
	spare := release(loss, nil)
	in := func(t *tensor.Tensor) bool {
		for _, s := range spare {
			if unsafe.SliceData(s.Data()) == unsafe.SliceData(t.Data()) {
				return true
			}
		}
		return false
	}
	if in(held) {
		t.Error("Release would recycle a value the caller obtained with Value")
	}
	if !in(pooled) {
		t.Error("Release would not recycle the pooled value nobody outside autograd saw")
	}
	if h.Err() == nil || h.Value() != nil {
		t.Error("the exposed node is not released")
	}
	recycle(spare)

	for range 3 { // later steps reuse the recycled storage
		_, _, l := step()
		if _, err := Gradient(l, w, b, fc); err != nil {
			t.Fatal(err)
		}
		Release(l)
	}
	if !bitsSame(held.Data(), keep.Data()) {
		t.Error("a value obtained with Value changed after Release")
	}

	// A view obtained with Value keeps the storage it shares.
	h2, _, loss2 := step()
	v := Reshape(h2, -1).Value()
	if in2 := release(ReduceSum(Mul(Reshape(h2, -1), Reshape(h2, -1))), nil); len(in2) > 0 {
		for _, s := range in2 {
			if unsafe.SliceData(s.Data()) == unsafe.SliceData(v.Data()) {
				t.Error("Release would recycle the storage under an exposed view")
			}
		}
	}
	Release(loss2)
}

func TestVarShape(t *testing.T) {
	x := Constant(tensor.Zeros(2, 3))
	y := Relu(x)
	if s := y.Shape(); len(s) != 2 || s[0] != 2 || s[1] != 3 {
		t.Errorf("Shape %v, want [2 3]", s)
	}
	if y.exposed.Load() {
		t.Error("Shape exposed the value")
	}
	if Failed(errReleased).Shape() != nil {
		t.Error("a failed Var has a shape")
	}
}
