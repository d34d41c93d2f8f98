package autograd

import (
	"errors"
	"slices"
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
	var buf [64]*tensor.Tensor // on the stack for the graphs of a model
	recycle(release(root, buf[:0]))
}

// release marks the inner nodes of root's graph released and appends to
// spare the values (and aux storage) whose storage nobody outside
// autograd can reach. It walks the graph without a map or a topological
// order (Release needs neither), in stack buffers that hold a model's
// graph without a heap allocation.
func release(root *Var, spare []*tensor.Tensor) []*tensor.Tensor {
	var nodeBuf [64]*Var
	var keepBuf [64]uintptr
	nodes := reachable(root, nodeBuf[:0])
	// keep: the first elements of the values a caller may hold, sorted
	// for binary search (a graph of thousands of nodes stays n·log n).
	keep := keepBuf[:0]
	for _, v := range nodes {
		exposed := v.owner == nil || v.owner.exposed.Load()
		if exposed && v.value != nil && len(v.value.Data()) > 0 {
			keep = append(keep, dataAddr(v.value))
		}
	}
	slices.Sort(keep)
	for _, v := range nodes {
		v.walked = false
		if v.backward == nil || v.value == nil {
			continue
		}
		if len(v.value.Data()) == 0 {
			spare = append(spare, v.value)
		} else if _, kept := slices.BinarySearch(keep, dataAddr(v.value)); !kept {
			spare = append(spare, v.value)
		}
		if v.side != nil && v.side.aux != nil {
			spare = append(spare, v.side.aux)
			v.side.aux = nil
		}
		switch n := v.backward.(type) {
		case *unaryVar:
			n.grad = nil // the closure may hold inputs: let them go
		case *argmaxPoolVar:
			n.arg = nil // a view of the aux storage recycled above
		}
		// A typed node's parents are its own input array: clear it, so
		// that a released node a caller still holds keeps no input (an
		// input batch) alive. Every parents slice belongs to its node.
		clear(v.parents)
		v.value, v.parents, v.backward, v.released = nil, nil, nil, true
	}
	return spare
}

// reachable appends root and every Var reachable from it to nodes, each
// inner node once (a leaf may appear more than once), in no particular
// order. It marks the inner nodes it meets with walked; the caller
// clears the marks.
func reachable(root *Var, nodes []*Var) []*Var {
	var stackBuf [64]*Var
	stack := append(stackBuf[:0], root)
	root.walked = len(root.parents) > 0
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes = append(nodes, v)
		for _, p := range v.parents {
			if len(p.parents) > 0 {
				if p.walked {
					continue
				}
				p.walked = true
			}
			stack = append(stack, p)
		}
	}
	return nodes
}

// dataAddr returns the address of t's first element (t holds at least
// one), the identity of its storage.
func dataAddr(t *tensor.Tensor) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(t.Data())))
}
