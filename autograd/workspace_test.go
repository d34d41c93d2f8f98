package autograd

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// Steps run through a Workspace give the bits of steps that never reuse
// memory, with the pool poisoned (recycled storage is NaN): no op reads
// storage it did not write, and nothing reads a step's memory after its
// Reset.
func TestWorkspaceStepsMatchFreshMemory(t *testing.T) {
	x, w, b, fc := lectureVars()
	const steps = 4
	// Reference: no Workspace, no Release, fresh gradients every step.
	var want [][]*tensor.Tensor
	for range steps {
		_, loss := lectureLike(x, w, b, fc)
		g, err := Gradient(loss, w, b, fc)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, g)
	}

	defer pool.SetPoison(pool.SetPoison(true))
	var ws Workspace
	for step := range steps {
		logits, loss := lectureLike(x, w, b, fc)
		grads, err := ws.Gradient(loss, w, b, fc)
		if err != nil {
			t.Fatal(err)
		}
		out := logits.Value() // the caller's for good
		keep := out.Clone()
		for i, g := range grads {
			if !bitsSame(g.Data(), want[step][i].Data()) {
				t.Errorf("step %d: gradient %d differs from the one computed on fresh memory", step, i)
			}
		}
		ws.Reset()
		if !bitsSame(out.Data(), keep.Data()) {
			t.Errorf("step %d: a value obtained with Value changed at Reset", step)
		}
		if len(grads[2].Data()) >= pool.RecycleMin && !math.IsNaN(float64(grads[2].Data()[0])) {
			t.Errorf("step %d: the fc gradient (%d elements) was not recycled at Reset", step, grads[2].Len())
		}
	}
}

// After Reset the workspace's graphs are released: their inner Vars
// carry an error, leaves keep their values, and the workspace starts the
// next step empty.
func TestWorkspaceResetReleasesOwnedGraphs(t *testing.T) {
	x, w, b, fc := lectureVars()
	wBefore := w.Value().Clone()
	var ws Workspace
	logits, loss := lectureLike(x, w, b, fc)
	eval, _ := lectureLike(x, w, b, fc) // a forward pass Gradient never sees
	ws.Own(eval)
	ws.Own(nil)
	if _, err := ws.Gradient(loss, w); err != nil {
		t.Fatal(err)
	}
	ws.Reset()
	for _, tc := range []struct {
		name string
		v    *Var
	}{{"logits", logits}, {"loss", loss}, {"owned forward pass", eval}} {
		if tc.v.Err() == nil || tc.v.Value() != nil {
			t.Errorf("%s: not released by Reset", tc.name)
		}
	}
	if _, err := Gradient(loss, w); err == nil {
		t.Error("Gradient of a released loss succeeded")
	}
	if w.Err() != nil || !bitsSame(w.Value().Data(), wBefore.Data()) {
		t.Error("Reset touched a Variable")
	}
	if len(ws.graphs) != 0 || len(ws.grads) != 0 {
		t.Errorf("after Reset the workspace holds %d graphs and %d gradients", len(ws.graphs), len(ws.grads))
	}
	ws.Reset() // an empty Reset is harmless
}

// A failing Gradient still hands the graph to the workspace, and returns
// the error.
func TestWorkspaceGradientError(t *testing.T) {
	x, w, b, fc := lectureVars()
	logits, _ := lectureLike(x, w, b, fc)
	var ws Workspace
	if _, err := ws.Gradient(logits, w); err == nil { // 80 elements, not one
		t.Fatal("Gradient of a non-scalar succeeded")
	}
	ws.Reset()
	if logits.Err() == nil {
		t.Error("the graph of a failed Gradient was not released")
	}
}
