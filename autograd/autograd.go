// Package autograd is convnet's reverse-mode automatic differentiation:
// a graph of Vars built by calling ops, differentiated by Gradient.
//
// It follows micrograd's design. Each op computes its output value at once
// (eagerly, with the nn package) and attaches a backward closure that
// ADDS its contribution into its inputs' gradients, so a Var used twice
// (fan-out) receives the sum of both paths for free. Gradient sorts the
// graph topologically from the loss, seeds ∂loss/∂loss = 1 and runs the
// closures from the loss back to the leaves, the way TensorFlow's
// GradientTape does. There is no tape object: the graph is the record.
//
// Every differentiable nn op has a wrapper here whose backward calls the
// op's exported gradient op (Conv2DBackpropInput, MaxPoolGrad, ReluGrad,
// …) and nothing else; only Scale, ReduceSum, ReduceMean and Reshape
// compute their gradients inline. Custom adds an op whose value and
// gradients the caller computes.
//
// Errors are sticky: an op whose inputs carry an error, or whose nn call
// fails, returns a Var carrying the error instead of panicking, and the
// error surfaces at Gradient (or at Err). A model can therefore be
// written without an error check per layer.
//
// Gradients are computed only along paths that lead to the requested
// vars: the backward of Conv2D applied to a constant image, for example,
// skips Conv2DBackpropInput. Gradient stores intermediate gradients on the
// Vars while it runs and clears them before it returns, so one graph (or
// two graphs sharing Vars) must not be differentiated concurrently.
//
// Memory: a training loop keeps one Workspace, takes each step's
// gradients from Workspace.Gradient and calls Reset when the step is
// over, so the next step reuses the step's activations and gradients
// instead of fresh pages. Values handed out by Value stay the caller's;
// gradients from Workspace.Gradient are valid until Reset.
package autograd

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Var is a node of the graph: a value, the nodes it was computed from and
// the closure that sends its gradient back to them. The zero Var is not
// usable; make leaves with Variable or Constant and inner nodes with ops.
type Var struct {
	value   *tensor.Tensor
	name    string
	parents []*Var
	// backward adds the contribution of g = ∂loss/∂this into the grads of
	// the parents whose needed flag is set. Nil for leaves.
	backward backprop
	// owner is the node whose op allocated the storage: the node
	// itself, or for a value sharing a parent's storage (a Reshape view)
	// that parent's owner. Nil for leaves. exposed (below, beside the
	// flags so that a Var fits a smaller allocation) is set on an owner
	// once Value has handed its value, or a view of it, out: Release and
	// Workspace.Reset then leave the storage to the caller.
	owner *Var
	// side holds what only a few Vars have (an error, aux storage,
	// packed forms), so that the many inner nodes of a forward pass
	// stay small: a Var is 96 bytes, one allocation of the 96-byte
	// size class (TestVarSize).
	side *varSide

	// State that lives only during one Gradient call.
	grad       *tensor.Tensor // ∂loss/∂this, accumulated over fan-out
	gradShared bool           // grad aliases a tensor owned by someone else
	needed     bool           // some requested var is reachable from here (or this is one)
	walked     bool           // met by release's walk (inner nodes only)
	released   bool           // Release ended this inner node: Err is errReleased

	exposed atomic.Bool
}

// backprop is a node's backward: backFunc for an op's closure, or the
// node's own type (unaryVar), which then needs no closure of its own.
type backprop interface {
	backprop(g *tensor.Tensor) error
}

// backFunc is a backward closure as a backprop (a func value converts
// to an interface without an allocation).
type backFunc func(g *tensor.Tensor) error

func (f backFunc) backprop(g *tensor.Tensor) error { return f(g) }

// varSide is the rarely needed part of a Var.
type varSide struct {
	// err is the error a failed Var carries.
	err error
	// aux holds storage the op allocated beside its value for its
	// backward (MaxPool's argmax offsets, Dropout's mask), recycled with
	// the value by Release and Workspace.Reset. Never handed out.
	aux *tensor.Tensor
	// packed keeps the forms ops prepare from a Variable's value
	// (nn.Packed: MatMul's slabs, Conv2D's Winograd filters) between
	// calls, rebuilt when the value's Version moves on. Nil for other
	// Vars.
	packed *nn.Packed
}

// errOf returns the error v carries, or nil.
func (v *Var) errOf() error {
	switch {
	case v.side != nil && v.side.err != nil:
		return v.side.err
	case v.released:
		return errReleased
	}
	return nil
}

// packedOf returns the packed forms of a Variable, or nil.
func (v *Var) packedOf() *nn.Packed {
	if v.side == nil {
		return nil
	}
	return v.side.packed
}

// setAux gives v aux storage for its backward.
func (v *Var) setAux(t *tensor.Tensor) {
	if v.side == nil {
		v.side = new(varSide)
	}
	v.side.aux = t
}

// Variable returns a trainable leaf named name holding t (not copied: an
// optimizer updates t in place). A nil t gives a Var carrying an error.
//
// MatMul (as b) and Conv2D and Conv2DBiasRelu (as the filter) keep the
// forms they prepare from a Variable's value for the next call (see
// nn.Packed) until t.Version changes: code that writes t's values in
// place must call t.MarkChanged afterwards, as the optimizers and
// SetWeights do.
func Variable(name string, t *tensor.Tensor) *Var {
	if t == nil {
		return &Var{name: name, side: &varSide{err: fmt.Errorf("autograd: Variable %q: nil tensor", name)}}
	}
	return &Var{value: t, name: name, side: &varSide{packed: nn.NewPacked(t)}}
}

// Constant returns a leaf holding t (not copied), such as an input batch.
// It differs from a Variable only in having no name; Gradient will
// still differentiate with respect to it if asked.
func Constant(t *tensor.Tensor) *Var {
	if t == nil {
		return &Var{side: &varSide{err: errors.New("autograd: Constant: nil tensor")}}
	}
	return &Var{value: t}
}

// Value returns the Var's value, or nil when it carries an error. The
// tensor is the caller's to keep: neither Release nor Workspace.Reset
// recycles storage that Value handed out, so it stays valid after the
// graph is released.
// (Shape gives the shape without that.)
func (v *Var) Value() *tensor.Tensor {
	if v.owner != nil {
		v.owner.exposed.Store(true)
	}
	return v.value
}

// Shape returns the shape of the Var's value, or nil when it carries an
// error. Unlike Value it hands out no storage, so Release may still
// recycle the value.
func (v *Var) Shape() []int {
	if v.value == nil {
		return nil
	}
	return v.value.Shape()
}

// Name returns the name given to Variable, or the op's name ("Conv2D",
// "Add", …) for an inner node, or "" for a Constant.
func (v *Var) Name() string { return v.name }

// Err returns the error carried by the Var: the first error met while
// building it or any of its inputs.
func (v *Var) Err() error { return v.errOf() }

// Gradient returns ∂loss/∂v for each v in vars, in order. loss must hold
// exactly one element (any shape, e.g. [] from ReduceMean or [1]). A var
// the loss does not depend on gets a nil gradient, like TF's None.
// Returned tensors are fresh: they alias neither values nor each other.
// It fails when loss carries an error, is not a single element, a var is
// nil, or a backward op fails.
func Gradient(loss *Var, vars ...*Var) ([]*tensor.Tensor, error) {
	if loss == nil {
		return nil, errors.New("autograd: Gradient: nil loss")
	}
	if err := loss.errOf(); err != nil {
		return nil, err
	}
	if loss.value == nil {
		return nil, errors.New("autograd: Gradient: loss is a zero Var")
	}
	if n := loss.value.Len(); n != 1 {
		return nil, fmt.Errorf("autograd: Gradient: loss must have one element, got shape %v (%d elements)", loss.value.Shape(), n)
	}
	for i, v := range vars {
		if v == nil {
			return nil, fmt.Errorf("autograd: Gradient: var %d is nil", i)
		}
		if err := v.errOf(); err != nil {
			return nil, fmt.Errorf("autograd: Gradient: var %d (%q): %w", i, v.name, err)
		}
		if v.value == nil {
			return nil, fmt.Errorf("autograd: Gradient: var %d is a zero Var", i)
		}
	}

	topo, uses := topoSort(loss)
	wanted := make(map[*Var]bool, len(vars))
	for _, v := range vars {
		wanted[v] = true
	}
	fuse(topo, uses, wanted)
	defer func() {
		for _, v := range topo {
			v.grad, v.gradShared, v.needed = nil, false, false
		}
	}()
	// Parents come before children in topo, so one forward sweep marks
	// every node from which a wanted var can be reached.
	for _, v := range topo {
		v.needed = wanted[v]
		for _, p := range v.parents {
			if p.needed {
				v.needed = true
				break
			}
		}
	}
	if !loss.needed {
		return make([]*tensor.Tensor, len(vars)), nil
	}

	seed := tensor.Zeros(loss.value.Shape()...)
	seed.Fill(1)
	loss.grad = seed
	for i := len(topo) - 1; i >= 0; i-- {
		v := topo[i]
		if v.grad == nil || v.backward == nil || !v.needed {
			continue
		}
		if err := v.backward.backprop(v.grad); err != nil {
			return nil, err
		}
	}

	out := make([]*tensor.Tensor, len(vars))
	for i, v := range vars {
		if v.grad == nil {
			continue
		}
		g := v.grad
		if v.gradShared || seen(out[:i], g) {
			g = g.Clone()
		}
		out[i] = g
	}
	recycleGrads(topo, out)
	return out, nil
}

// recycleGrads hands the intermediate gradients of topo back to nn's ops
// for the storage of later results: nobody outside Gradient
// can reach them. Storage shared with a returned gradient or with any
// value of the graph is kept, so no tensor a caller holds is ever
// overwritten.
func recycleGrads(topo []*Var, out []*tensor.Tensor) {
	keep := make(map[*float32]bool, len(topo)+len(out))
	mark := func(t *tensor.Tensor) {
		if t != nil && len(t.Data()) > 0 {
			keep[unsafe.SliceData(t.Data())] = true
		}
	}
	for _, g := range out {
		mark(g)
	}
	for _, v := range topo {
		mark(v.value)
	}
	var spare []*tensor.Tensor
	for _, v := range topo {
		if g := v.grad; g != nil && len(g.Data()) > 0 && !keep[unsafe.SliceData(g.Data())] {
			spare = append(spare, g)
		}
	}
	recycle(spare)
}

// seen reports whether g's data is already the data of one of gs (a var
// listed twice gets two independent tensors).
func seen(gs []*tensor.Tensor, g *tensor.Tensor) bool {
	for _, h := range gs {
		if h != nil && sameData(h, g) {
			return true
		}
	}
	return false
}

// topoSort returns the nodes reachable from root, every node after all
// of its parents, and for each node the number of times the others list
// it as a parent (its uses within the graph). It is iterative so deep
// graphs cannot exhaust the stack.
func topoSort(root *Var) (order []*Var, uses map[*Var]int) {
	uses = map[*Var]int{root: 0}
	type frame struct {
		v    *Var
		next int
	}
	stack := []frame{{v: root}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.v.parents) {
			p := f.v.parents[f.next]
			f.next++
			n, visited := uses[p]
			uses[p] = n + 1
			if !visited {
				stack = append(stack, frame{v: p})
			}
			continue
		}
		order = append(order, f.v)
		stack = stack[:len(stack)-1]
	}
	return order, uses
}

// fuse lets each max pool over a Conv2DBiasRelu's output take the
// ReLU's and the bias's gradients into its own backward pass (see
// argmaxPoolVar) when nothing else in the graph uses that output and it
// is not requested: only then is the pool's gradient all of the
// output's. The gradients equal those of the ops one by one, bit for
// bit (nn.MaxPoolBiasReluGrad).
func fuse(topo []*Var, uses map[*Var]int, wanted map[*Var]bool) {
	for _, v := range topo {
		if p, ok := v.backward.(*argmaxPoolVar); ok {
			x := p.x[0]
			c, conv := x.backward.(*convBiasReluVar)
			p.fuse = conv && c.poolFusable() && uses[x] == 1 && !wanted[x]
		}
	}
}

// accumulate adds g into v.grad. When v has no gradient yet it keeps g
// itself, remembering whether g belongs to someone else (shared): a later
// addition never writes into a shared tensor. Ops pass shared = true for
// a gradient they forward unchanged (Add, BiasAdd, Reshape views) and
// false for a tensor they just allocated, which autograd then owns: the
// sum is written into whichever of v.grad and g is owned (a skip
// connection's fresh branch gradient takes the forwarded one, so fan-out
// allocates nothing), and an owned g that the sum did not land in goes
// back to internal/pool for the next result. Only when both are shared
// does the sum take new storage, from the pool. Float addition commutes,
// so which operand is written does not change a bit of the result.
func accumulate(v *Var, g *tensor.Tensor, shared bool) {
	switch {
	case v.grad == nil:
		v.grad, v.gradShared = g, shared
	case !v.gradShared:
		addTo(v.grad.Data(), v.grad.Data(), g.Data())
		if !shared && !sameData(v.grad, g) {
			recycle([]*tensor.Tensor{g})
		}
	case !shared:
		addTo(g.Data(), v.grad.Data(), g.Data())
		v.grad, v.gradShared = g, false
	default:
		dst := tensor.Must(tensor.New(v.grad.Shape(), pool.Get(len(v.grad.Data()))))
		addTo(dst.Data(), v.grad.Data(), g.Data())
		v.grad, v.gradShared = dst, false
	}
}

// accumulateWith adds a gradient into v.grad, which must not be nil, by
// an op that sums as it writes: add(v.grad) returns the op's result plus
// v.grad as a tensor of its own (nn.Conv2DBackpropInputAdd), with the
// bits accumulate's sum would have, in one pass over memory less. That
// result becomes v's gradient; the one it replaces goes back to
// internal/pool unless it belongs to someone else.
func accumulateWith(v *Var, add func(acc *tensor.Tensor) (*tensor.Tensor, error)) error {
	old, shared := v.grad, v.gradShared
	sum, err := add(old)
	if err != nil {
		return err
	}
	v.grad, v.gradShared = sum, false
	if !shared {
		recycle([]*tensor.Tensor{old})
	}
	return nil
}

// addTo sets dst = a + b elementwise; all three have the same length.
// The sum is split over the workers (each element is one addition, so
// the split does not change the bits).
func addTo(dst, a, b []float32) {
	parallel.For(len(dst), addMinPer, func(lo, hi int) {
		kernels.Add(dst[lo:hi], a[lo:hi], b[lo:hi])
	})
}

// addMinPer is the number of elements worth a worker in addTo.
const addMinPer = 1 << 15

// sameData reports whether a and b share their first element's storage.
func sameData(a, b *tensor.Tensor) bool {
	da, db := a.Data(), b.Data()
	if len(da) == 0 || len(db) == 0 {
		return false
	}
	return unsafe.SliceData(da) == unsafe.SliceData(db)
}

// fromOp accumulates the result r of a gradient op called with incoming
// gradient g into v, treating r as shared if the op handed g back.
func fromOp(v *Var, r, g *tensor.Tensor) {
	accumulate(v, r, sameData(r, g))
}

// inputErr returns the first error among the inputs of an op named op,
// including a nil input.
func inputErr(op string, in ...*Var) error {
	for i, v := range in {
		if v == nil {
			return fmt.Errorf("autograd: %s: input %d is nil", op, i)
		}
		if err := v.errOf(); err != nil {
			return err
		}
		if v.value == nil {
			return fmt.Errorf("autograd: %s: input %d is a zero Var (make leaves with Variable or Constant)", op, i)
		}
	}
	return nil
}

// Failed returns a Var that carries err, for code that reports an error
// through a forward pass instead of returning it (a layer whose
// configuration does not fit its input, say). Every op that takes it
// returns it again, and Gradient returns err.
func Failed(err error) *Var {
	if err == nil {
		err = fmt.Errorf("autograd: Failed called with a nil error")
	}
	return &Var{name: "Failed", side: &varSide{err: err}}
}

// failed returns a Var carrying err.
func failed(op string, err error) *Var { return &Var{name: op, side: &varSide{err: err}} }

// opErr wraps an nn error with the autograd op name.
func opErr(op string, err error) *Var {
	return failed(op, fmt.Errorf("autograd: %s: %w", op, err))
}

// node returns an inner node with value, parents and backward.
func node(op string, value *tensor.Tensor, backward func(g *tensor.Tensor) error, parents ...*Var) *Var {
	v := new(Var)
	var b backprop
	if backward != nil {
		b = backFunc(backward)
	}
	initNode(v, op, value, b, parents)
	return v
}

// initNode makes v an inner node with value, parents and backward.
func initNode(v *Var, op string, value *tensor.Tensor, backward backprop, parents []*Var) {
	v.value, v.name, v.parents, v.backward = value, op, parents, backward
	v.owner = v
	if value != nil && len(value.Data()) > 0 {
		for _, p := range parents {
			if p.owner != nil && sameData(p.value, value) {
				v.owner = p.owner // a view of an inner value
				break
			}
		}
	}
}

// unaryVar is the node of an op with one differentiable input: the Var,
// its parent and its gradient in one allocation, with no closure around
// grad.
type unaryVar struct {
	Var
	grad func(g *tensor.Tensor) (*tensor.Tensor, error)
	x    [1]*Var
}

// unaryNode returns the node of an op with one differentiable input x
// and value y. Its backward adds grad(g), the op's ∂/∂x computed from the
// incoming gradient g, into x when x is needed (fromOp: a grad that
// returns g itself, or a view of it, passes it on shared).
func unaryNode(op string, x *Var, y *tensor.Tensor, grad func(g *tensor.Tensor) (*tensor.Tensor, error)) *Var {
	u := &unaryVar{grad: grad, x: [1]*Var{x}}
	initNode(&u.Var, op, y, u, u.x[:])
	return &u.Var
}

func (u *unaryVar) backprop(g *tensor.Tensor) error {
	x := u.x[0]
	if !x.needed {
		return nil
	}
	dx, err := u.grad(g)
	if err != nil {
		return backErr(u.name, err)
	}
	fromOp(x, dx, g)
	return nil
}

// backErr wraps an error raised by a gradient op.
func backErr(op string, err error) error {
	return fmt.Errorf("autograd: %s backward: %w", op, err)
}
