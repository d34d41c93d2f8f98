package autograd

import (
	"errors"
	"unsafe"

	"github.com/convnet-go/convnet/tensor"
)

// errReleased is carried by the inner Vars of a released graph.
var errReleased = errors.New("autograd: the value of this Var was released (autograd.Release)")

// Release ends the life of the graph that computed root: every inner
// node (every Var reachable from root that an op made, root included)
// then carries an error instead of a value, so a later op or Gradient on
// it fails, and the values' storage goes back to nn's ops for later
// results — except storage a caller could still read: the values of
// leaves (Variable, Constant), every value handed out by Value, and
// anything sharing storage with those (a Reshape view, say). Tensors the
// caller obtained from the graph therefore stay valid and unchanged;
// only memory nobody outside autograd has seen is reused.
//
// Release reaches every inner node of root's graph, including ones that
// other graphs share (features feeding two losses, say): those graphs
// lose them too. It is Workspace.Reset for a single graph with no
// gradients to take back, as an evaluation loop needs after each batch;
// a training step uses a Workspace, which also recycles the gradients.
func Release(root *Var) {
	if root == nil {
		return
	}
	recycle(release(root))
}

// release marks the inner nodes of root's graph released and returns the
// values whose storage nobody outside autograd can reach.
func release(root *Var) []*tensor.Tensor {
	topo := topoSort(root)
	keep := make(map[*float32]bool)
	for _, v := range topo {
		exposed := v.owner == nil || v.owner.exposed.Load()
		if exposed && v.value != nil && len(v.value.Data()) > 0 {
			keep[unsafe.SliceData(v.value.Data())] = true
		}
	}
	var spare []*tensor.Tensor
	for _, v := range topo {
		if v.backward == nil || v.value == nil {
			continue
		}
		if d := v.value.Data(); len(d) == 0 || !keep[unsafe.SliceData(d)] {
			spare = append(spare, v.value)
		}
		spare = append(spare, v.aux...)
		v.value, v.err, v.parents, v.backward, v.aux = nil, errReleased, nil, nil, nil
	}
	return spare
}
