package autograd

import (
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// Workspace owns the memory of one training step: the intermediate
// values of the graphs it is given and the gradients its Gradient
// returns. Reset ends the step and hands all of that storage back to
// nn's ops, so the next step's activations and gradients reuse it
// instead of fresh pages (the runtime zeroes fresh memory and the kernel
// faults it in, which costs as much as a layer's forward pass).
//
// What the caller may keep, and for how long:
//   - a tensor obtained with Value, and the values of leaves (Variable,
//     Constant), are the caller's for good: Reset never recycles them;
//   - a gradient returned by Workspace.Gradient is valid until the next
//     Reset, which recycles it: Clone it to keep it longer;
//   - the inner Vars of a graph the workspace owns carry an error after
//     Reset, so a later op or Gradient on them fails instead of reading
//     recycled memory.
//
// A training loop keeps one Workspace and calls Reset once per step:
//
//	loss := model(x)
//	grads, err := ws.Gradient(loss, vars...)
//	// … read loss.Value(), apply grads …
//	ws.Reset()
//
// The zero Workspace is ready to use. A Workspace must not be used by
// two goroutines at once.
type Workspace struct {
	graphs []*Var           // roots whose graphs Reset releases
	grads  []*tensor.Tensor // gradients Gradient returned
	spare  []*tensor.Tensor // Reset's list of storage to recycle, reused
}

// Gradient is the package's Gradient (∂loss/∂v for each v in vars, nil
// for a var the loss does not depend on) with the results owned by w:
// they stay valid until w's next Reset. loss's graph joins w as with
// Own, also when Gradient fails, so Reset releases it.
func (w *Workspace) Gradient(loss *Var, vars ...*Var) ([]*tensor.Tensor, error) {
	w.Own(loss)
	grads, err := Gradient(loss, vars...)
	if err != nil {
		return nil, err
	}
	for _, g := range grads {
		if g != nil {
			w.grads = append(w.grads, g)
		}
	}
	return grads, nil
}

// Own adds root's graph to w, for graphs w.Gradient never sees (an
// evaluation's forward pass, a metric): Reset releases it as Release
// does. A nil root is ignored; owning a graph twice is harmless.
func (w *Workspace) Own(root *Var) {
	if root != nil {
		w.graphs = append(w.graphs, root)
	}
}

// Reset ends the step: every graph w owns is released (its inner Vars
// then carry an error; values handed out by Value and leaves' values are
// kept, see Release) and the gradients w.Gradient returned go back to
// nn's ops for the storage of later results. w is then empty and ready
// for the next step.
func (w *Workspace) Reset() {
	// One list for all the graphs, so that storage two of them share
	// is handed back once.
	spare := w.spare[:0]
	for _, r := range w.graphs {
		spare = release(r, spare)
	}
	spare = append(spare, w.grads...)
	recycle(spare)
	clear(spare)
	clear(w.graphs)
	clear(w.grads)
	w.graphs, w.grads, w.spare = w.graphs[:0], w.grads[:0], spare[:0]
}

// recycle hands the storage of ts, which nobody outside autograd can
// reach, to internal/pool (small tensors, sub-slices of larger arrays
// and duplicates are skipped there).
func recycle(ts []*tensor.Tensor) {
	var buf [64][]float32 // on the stack for the graphs of a model
	ds := buf[:0]
	for _, t := range ts {
		if t != nil {
			ds = append(ds, t.Data())
		}
	}
	pool.Recycle(ds...)
}
