package autograd

import (
	"errors"
	"unsafe"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// errReleased is carried by the inner Vars of a released graph.
var errReleased = errors.New("autograd: the value of this Var was released (autograd.Release)")

// Release ends the life of the graph that computed root: the values of
// its inner nodes (every Var reachable from root that an op made, root
// included) go back to nn as storage for later results (nn.Recycle), and
// those Vars then carry an error instead of a value, so a later op or
// Gradient on them fails instead of reading recycled memory.
//
// Leaves (Variable, Constant) keep their values, and so does any inner
// value that shares storage with a leaf (a Reshape of a Variable, say).
// The caller must be done with every tensor it obtained from the inner
// nodes' Value, since their memory will be overwritten by later ops, and
// with every other graph that shares inner nodes with this one (features
// feeding two losses, say): those nodes are released too.
// Training loops call Release after reading the step's loss and outputs,
// so that the next step's activations reuse this step's memory instead
// of fresh pages.
func Release(root *Var) {
	if root == nil {
		return
	}
	topo := topoSort(root)
	leaf := make(map[*float32]bool)
	for _, v := range topo {
		if v.backward == nil && v.value != nil && len(v.value.Data()) > 0 {
			leaf[unsafe.SliceData(v.value.Data())] = true
		}
	}
	var spare []*tensor.Tensor
	for _, v := range topo {
		if v.backward == nil || v.value == nil {
			continue
		}
		if d := v.value.Data(); len(d) == 0 || !leaf[unsafe.SliceData(d)] {
			spare = append(spare, v.value)
		}
		v.value, v.err, v.parents, v.backward = nil, errReleased, nil, nil
	}
	nn.Recycle(spare...)
}
