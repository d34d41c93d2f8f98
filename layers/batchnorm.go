package layers

import (
	"math"
	"sync"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// BatchNormConfig holds Keras BatchNormalization's arguments. The zero
// value of each field is Keras's default. The layer normalises the last
// axis (Keras axis=−1), the channels of NHWC data.
type BatchNormConfig struct {
	// Momentum of the moving statistics; 0 means 0.99 (write a tiny
	// value such as 1e-9 for a momentum of practically zero).
	Momentum float32
	// Epsilon is added to the variance; 0 means 1e-3.
	Epsilon float32
	// NoCenter drops β (Keras center=False); NoScale drops γ (scale=False).
	NoCenter, NoScale bool
	// Initializers of γ (default ones), β (zeros), the moving mean
	// (zeros) and the moving variance (ones).
	GammaInitializer, BetaInitializer                initializers.Initializer
	MovingMeanInitializer, MovingVarianceInitializer initializers.Initializer
	// Seed seeds the initializers.
	Seed uint64
}

// BatchNormalization is Keras's BatchNormalization on the last axis of
// x [N, …, C]:
//
//	training:  y = (x − μ_B)·γ/√(σ²_B + ε) + β, μ_B and σ²_B the batch's
//	           mean and biased variance over every axis but the last, and
//	           moving = moving·momentum + batch·(1 − momentum) for the mean
//	           and the variance
//	inference: y = (x − moving_mean)·γ/√(moving_variance + ε) + β
//
// The moving variance is fed the biased batch variance, as Keras 3 and
// TensorFlow.js do (TF's older fused kernel fed the Bessel-corrected
// one). Weights, in Keras order: name/gamma [C], name/beta [C] (trainable),
// name/moving_mean [C], name/moving_variance [C] (NonTrainable).
type BatchNormalization struct {
	Base
	cfg                     BatchNormConfig
	gamma, beta, mean, vari *autograd.Var
	fold                    bnFoldState // inference's fold into the conv before it
}

// NewBatchNormalization returns a BatchNormalization layer with scope name.
func NewBatchNormalization(name string, cfg BatchNormConfig) *BatchNormalization {
	return &BatchNormalization{Base: NewBase(name, cfg.Seed), cfg: cfg}
}

// Config returns the layer's configuration.
func (l *BatchNormalization) Config() BatchNormConfig { return l.cfg }

func (l *BatchNormalization) momentum() float32 {
	if l.cfg.Momentum == 0 {
		return 0.99
	}
	return l.cfg.Momentum
}

func (l *BatchNormalization) epsilon() float32 {
	if l.cfg.Epsilon == 0 {
		return 1e-3
	}
	return l.cfg.Epsilon
}

// OutputShape returns the input shape.
func (l *BatchNormalization) OutputShape(in []int) ([]int, error) {
	const kind = "BatchNormalization"
	if m := l.cfg.Momentum; !(m >= 0 && m <= 1) {
		return nil, l.errorf(kind, "momentum must be in [0, 1], got %v", m)
	}
	if e := l.cfg.Epsilon; !(e >= 0) || math.IsInf(float64(e), 0) {
		return nil, l.errorf(kind, "epsilon must be finite and ≥ 0, got %v", e)
	}
	if len(in) < 2 || in[len(in)-1] < 1 {
		return nil, l.errorf(kind, "input must be [N, …, C] with C > 0, got shape %v", in)
	}
	return append([]int(nil), in...), nil
}

// Build creates gamma, beta, moving_mean and moving_variance, all [C].
func (l *BatchNormalization) Build(in []int) error {
	return l.BuildOnce(in, func(in []int) error {
		if _, err := l.OutputShape(in); err != nil {
			return err
		}
		c := []int{in[len(in)-1]}
		l.gamma, l.beta = nil, nil
		if !l.cfg.NoScale {
			l.gamma = l.AddWeight("gamma", c, orInit(l.cfg.GammaInitializer, initializers.Ones{}), true)
		}
		if !l.cfg.NoCenter {
			l.beta = l.AddWeight("beta", c, orInit(l.cfg.BetaInitializer, initializers.Zeros{}), true)
		}
		l.mean = l.AddWeight("moving_mean", c, orInit(l.cfg.MovingMeanInitializer, initializers.Zeros{}), false)
		l.vari = l.AddWeight("moving_variance", c, orInit(l.cfg.MovingVarianceInitializer, initializers.Ones{}), false)
		return nil
	})
}

// Call normalises x with the batch's statistics and updates the moving
// ones when ctx.Training, and with the moving statistics otherwise.
func (l *BatchNormalization) Call(x *autograd.Var, ctx Context) *autograd.Var {
	return l.call(x, ctx, false)
}

// call is Call, followed by a ReLU when relu: fused into the batch norm
// while training (autograd.FusedBatchNormRelu), applied after it
// otherwise. Functional models and Sequentials use it for a
// BatchNormalization whose only consumer is a ReLU (isReluLayer).
func (l *BatchNormalization) call(x *autograd.Var, ctx Context, relu bool) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	if !ctx.Training {
		y := autograd.BatchNormalization(x, l.mean.Value(), l.vari.Value(), l.beta, l.gamma, l.epsilon())
		if relu {
			y = autograd.Relu(y)
		}
		return y
	}
	fused := autograd.FusedBatchNorm
	if relu {
		fused = autograd.FusedBatchNormRelu
	}
	return l.trained(fused(x, l.gamma, l.beta, l.epsilon()))
}

// callJoin is Relu(Add(Call(x), skip)) while training, in one op
// (autograd.FusedBatchNormAddRelu): a batch norm read only by a residual
// join's Add → ReLU (planBNJoins); skip has x's shape (nn's op fails
// otherwise).
func (l *BatchNormalization) callJoin(x, skip *autograd.Var) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	return l.trained(autograd.FusedBatchNormAddRelu(x, skip, l.gamma, l.beta, l.epsilon()))
}

// trained returns a training op's output y, first folding the batch's
// statistics into the moving ones when the op succeeded.
func (l *BatchNormalization) trained(y *autograd.Var, mean, variance *tensor.Tensor) *autograd.Var {
	if y.Err() != nil {
		return y
	}
	m := l.momentum()
	// Keras's assign_moving_average: moving −= (moving − batch)·(1 − m).
	for _, s := range [][2][]float32{{l.mean.Value().Data(), mean.Data()}, {l.vari.Value().Data(), variance.Data()}} {
		mov, batch := s[0], s[1]
		for c := range mov {
			mov[c] -= (mov[c] - batch[c]) * (1 - m)
		}
	}
	l.mean.Value().MarkChanged()
	l.vari.Value().MarkChanged()
	return y
}

// planBNRelu finds, in the graph order, the ReLU layers whose input is a
// BatchNormalization read by nothing else (and not a model output): it
// maps each such ReLU node to its batch-norm node, which training runs
// fused with the ReLU. uses are the graph's useCounts.
func planBNRelu(order []*Node, uses map[*Node]int) map[*Node]*Node {
	plan := map[*Node]*Node{}
	for _, n := range order {
		if len(n.inputs) == 1 && uses[n.inputs[0]] == 1 && fusesBNRelu(n.inputs[0].layer, n.layer) {
			plan[n] = n.inputs[0]
		}
	}
	return plan
}

// useCounts returns how many times each node of the graph order is
// read: once per consumer's input slot, and twice more for a model
// output, so that a node the caller reads never counts as having a
// single consumer and is never fused or folded away.
func useCounts(order, outputs []*Node) map[*Node]int {
	uses := map[*Node]int{}
	for _, n := range order {
		for _, p := range n.inputs {
			uses[p]++
		}
	}
	for _, o := range outputs {
		uses[o] += 2
	}
	return uses
}

// seqBNRelu reports whether the layers start with a BatchNormalization
// followed by a ReLU, which a training Sequential runs fused.
func seqBNRelu(ls []Layer) bool { return len(ls) >= 2 && fusesBNRelu(ls[0], ls[1]) }

// fusesBNRelu is the rule both planners apply to a layer and its only
// consumer: a BatchNormalization read by a ReLU layer trains as one op.
func fusesBNRelu(bn, relu any) bool {
	_, ok := bn.(*BatchNormalization)
	return ok && isReluLayer(relu)
}

// planBNReluConv finds, among the batch norms that train fused with
// their ReLU (bnRelu, from planBNRelu), those whose ReLU is read only by
// a Conv2D without bias (fusesBNReluConv): it maps each such
// convolution's node to the ReLU's node. Training runs the three as one
// op (Conv2D.callBNRelu).
func planBNReluConv(order []*Node, uses map[*Node]int, bnRelu map[*Node]*Node) map[*Node]*Node {
	plan := map[*Node]*Node{}
	for _, n := range order {
		if len(n.inputs) == 1 && uses[n.inputs[0]] == 1 && bnRelu[n.inputs[0]] != nil && fusesBNReluConv(n.layer) {
			plan[n] = n.inputs[0]
		}
	}
	return plan
}

// seqBNReluConv reports whether the layers start with a
// BatchNormalization, a ReLU and a Conv2D that a training Sequential
// runs as one op.
func seqBNReluConv(ls []Layer) bool { return len(ls) >= 3 && seqBNRelu(ls) && fusesBNReluConv(ls[2]) }

// fusesBNReluConv is the rule both planners apply to the reader of a
// fused batch norm and ReLU: a Conv2D without bias (with one, its
// output pass adds the bias and applies a ReLU in the same sweep, which
// it would lose) makes the batch norm's output itself, as it reads its
// input.
func fusesBNReluConv(conv any) bool {
	c, ok := conv.(*Conv2D)
	return ok && c.cfg.NoBias
}

// foldsConvBN is the rule both planners apply to a layer and its only
// consumer: a Conv2D without activation read by a BatchNormalization
// runs, at inference, as one convolution.
func foldsConvBN(conv, bn any) bool {
	c, ok := conv.(*Conv2D)
	_, isBN := bn.(*BatchNormalization)
	return ok && c.cfg.Activation == nil && isBN
}

// Folding at inference. A Conv2D without activation whose only consumer
// is a BatchNormalization (in a functional Model: the next layer in a
// Sequential) computes, outside training,
//
//	y = (conv(x, W) + bias − mean)·a + β,  a = γ/√(moving_variance + ε)
//
// which is one convolution with the kernel scaled per output channel and
// a new bias:
//
//	W'[…, k] = W[…, k]·a[k]      b'[k] = (bias[k] − mean[k])·a[k] + β[k]
//
// and when the batch norm's only consumer is a ReLU layer (or an
// Activation layer of "relu"), the ReLU rides
// on the same convolution (autograd.Conv2DBiasRelu). The folded kernel
// and bias are kept from call to call (bnFolded), with the Winograd
// transform of the kernel: made again for every call, they took a third
// of a batch-1 forward pass of the small ResNet. They are made again when
// a weight they come from changes (its tensor's Version), and they enter
// the graph as autograd.CustomWeight nodes whose backward is the fold's
// algebra, so the gradients of an inference pass still reach W, bias, γ
// and β. The result equals the unfolded layers up to float32 rounding.
// Training never folds: it needs the batch's statistics.

// bnFold is one conv → batch norm (→ ReLU) chain of a functional model.
type bnFold struct {
	conv  *Node // its input is the chain's input
	bn    *Node
	relu  *Node // nil when the ReLU is not part of the chain
	inner []*Node
}

// planBNFolds finds the chains of the graph order (every node after its
// inputs) that fold, keyed by their last node. A node that a model output
// or two consumers read (uses, the graph's useCounts) is never folded
// away.
func planBNFolds(order []*Node, uses map[*Node]int) map[*Node]*bnFold {
	consumer := map[*Node]*Node{}
	for _, n := range order {
		for _, p := range n.inputs {
			consumer[p] = n
		}
	}
	folds := map[*Node]*bnFold{}
	for _, n := range order {
		if uses[n] != 1 || !foldsConvBN(n.layer, consumer[n].layer) {
			continue
		}
		bnNode := consumer[n]
		f := &bnFold{conv: n, bn: bnNode, inner: []*Node{n}}
		last := bnNode
		if r := consumer[bnNode]; uses[bnNode] == 1 && r != nil && isReluLayer(r.layer) {
			f.relu, f.inner, last = r, append(f.inner, bnNode), r
		}
		folds[last] = f
	}
	return folds
}

// call computes the chain's output from the convolution's input x.
func (f *bnFold) call(x *autograd.Var) *autograd.Var {
	return foldedConvBN(f.conv.layer.(*Conv2D), f.bn.layer.(*BatchNormalization), f.relu != nil, x)
}

// seqFold reports how many of the layers, from the first, fold into one
// convolution at inference: 3 for Conv2D (no activation), BN, ReLU; 2
// without the ReLU; 0 when they do not fold.
func seqFold(ls []Layer) int {
	if len(ls) < 2 || !foldsConvBN(ls[0], ls[1]) {
		return 0
	}
	if len(ls) > 2 && isReluLayer(ls[2]) {
		return 3
	}
	return 2
}

// isReluLayer reports whether l is a ReLU layer or an Activation layer
// of "relu" (Keras models write Activation('relu') as often as ReLU()).
func isReluLayer(l any) bool {
	switch l := l.(type) {
	case *ReLU:
		return true
	case *ActivationLayer:
		return l.err == nil && isRelu(l.act)
	}
	return false
}

// foldedConvBN runs conv → bn (→ ReLU when relu) on x as one convolution
// with the folded kernel and bias (see above), building both layers first
// when needed.
func foldedConvBN(conv *Conv2D, bn *BatchNormalization, relu bool, x *autograd.Var) *autograd.Var {
	return foldedJoin(conv, bn, relu, x, nil)
}

// foldedJoin is foldedConvBN, and with a skip (relu not set) the residual
// join ReLU(bn(conv(x)) + skip) as one convolution, the skip added in
// its epilogue (autograd.Conv2DBiasAddRelu). The graph's shapes make
// the skip's shape the convolution's output shape (an Add of other
// shapes is not built; the op fails otherwise).
func foldedJoin(conv *Conv2D, bn *BatchNormalization, relu bool, x, skip *autograd.Var) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	in := shapeOf(x)
	if err := conv.Build(in); err != nil {
		return autograd.Failed(err)
	}
	out, err := conv.OutputShape(in)
	if err == nil {
		err = bn.Build(out)
	}
	if err != nil {
		return autograd.Failed(err)
	}
	_, s, d, pad, _ := conv.geometry(in)
	o := nn.ConvOptions{Strides: s[:], Padding: pad, Dilations: d[:]}
	f := bn.folded(conv)
	w, b := f.vars()
	switch {
	case relu:
		return autograd.Conv2DBiasRelu(x, w, b, o)
	case skip != nil:
		return autograd.Conv2DBiasAddRelu(x, w, b, skip, o)
	}
	return autograd.Conv2DBias(x, w, b, o)
}

// bnFolded is a batch norm folded into the convolution before it: the
// kernel W' and bias b' of the one convolution, kept from call to call
// (the Winograd forms of W' with them, in its nn.Packed) while the
// tensors they were computed from keep their Versions. Its slices are
// never written once it is made, so calls share it.
type bnFolded struct {
	conv *Conv2D
	src  [6]*tensor.Tensor // kernel, bias, γ, β, moving mean, moving variance (nil when absent)
	ver  [6]uint64
	w, b *nn.Packed
	// r = 1/√(moving_variance + ε); a = γ·r (r without γ); shift =
	// bias − mean (−mean without a bias): W'[…, k] = W[…, k]·a[k],
	// b'[k] = shift[k]·a[k] + β[k].
	r, a, shift []float32
	// The inputs and backward functions of W' and b' (backward).
	wName, bName string
	wIn, bIn     []*autograd.Var
	wBack, bBack func(*tensor.Tensor) ([]*tensor.Tensor, error)
}

// bnFoldState guards a batch norm's bnFolded.
type bnFoldState struct {
	mu  sync.Mutex
	cur *bnFolded
}

// folded returns bn folded into conv, computed again when conv is not
// the one it was computed for or a tensor it was computed from has
// changed (its Version; code that writes weights in place calls
// MarkChanged, as the optimizers, SetWeights and the moving-statistics
// update do).
func (bn *BatchNormalization) folded(conv *Conv2D) *bnFolded {
	src := [6]*tensor.Tensor{conv.Kernel().Value(), valueOf(conv.Bias()), valueOf(bn.gamma), valueOf(bn.beta), bn.mean.Value(), bn.vari.Value()}
	var ver [6]uint64
	for i, t := range src {
		if t != nil {
			ver[i] = t.Version()
		}
	}
	bn.fold.mu.Lock()
	defer bn.fold.mu.Unlock()
	if f := bn.fold.cur; f != nil && f.conv == conv && f.src == src && f.ver == ver {
		return f
	}
	f := &bnFolded{conv: conv, src: src, ver: ver}
	kernel, mean, vari := src[0].Data(), src[4].Data(), src[5].Data()
	n := len(mean)
	f.r, f.a, f.shift = make([]float32, n), make([]float32, n), make([]float32, n)
	eps := float64(bn.epsilon())
	for k := range n {
		// The float32 operations of the unfolded layers' algebra, in
		// the order the autograd ops of earlier versions ran them.
		f.r[k] = float32(1 / math.Sqrt(float64(vari[k])+eps))
		f.a[k] = f.r[k]
		if src[2] != nil {
			f.a[k] = src[2].Data()[k] * f.r[k]
		}
		f.shift[k] = -mean[k]
		if src[1] != nil {
			f.shift[k] = src[1].Data()[k] + f.shift[k]
		}
	}
	w := tensor.Zeros(src[0].Shape()...)
	wd := w.Data()
	for i, v := range kernel {
		wd[i] = v * f.a[i%n]
	}
	b := tensor.Zeros(n)
	for k := range n {
		b.Data()[k] = f.shift[k] * f.a[k]
		if src[3] != nil {
			b.Data()[k] += src[3].Data()[k]
		}
	}
	f.w, f.b = nn.NewPacked(w), nn.NewPacked(b)
	f.backward(conv, bn)
	bn.fold.cur = f
	return f
}

// valueOf returns v's value, or nil for a nil v.
func valueOf(v *autograd.Var) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.Value()
}

// vars returns W' and b' as Vars of the graph, with the gradients of
// the fold's algebra (bnFolded.backward).
func (f *bnFolded) vars() (w, b *autograd.Var) {
	w = autograd.CustomWeight(f.wName, f.w, f.wIn, f.wBack)
	b = autograd.CustomWeight(f.bName, f.b, f.bIn, f.bBack)
	return w, b
}

// backward makes the inputs and the backward functions of W' and b',
// once per fold: for g = ∂loss/∂W' and h = ∂loss/∂b',
//
//	∂W[…, k] = g[…, k]·a[k]     ∂bias[k] = h[k]·a[k]     ∂β[k] = h[k]
//	∂γ[k] = r[k]·(Σ g[…, k]·W[…, k] + h[k]·shift[k])
//
// (the moving statistics get none, as they are not trained).
func (f *bnFolded) backward(conv *Conv2D, bn *BatchNormalization) {
	n := len(f.a)
	kernel, bias := conv.Kernel(), conv.Bias()
	f.wName, f.bName = conv.Name()+"/folded_kernel", conv.Name()+"/folded_bias"
	f.wIn = []*autograd.Var{kernel}
	if bn.gamma != nil {
		f.wIn = append(f.wIn, bn.gamma)
	}
	f.wBack = func(g *tensor.Tensor) ([]*tensor.Tensor, error) {
		gd, kd := g.Data(), kernel.Value().Data()
		dk := tensor.Zeros(g.Shape()...)
		dg := make([]float64, n)
		for i, v := range gd {
			dk.Data()[i] = v * f.a[i%n]
			dg[i%n] += float64(v) * float64(kd[i])
		}
		grads := []*tensor.Tensor{dk}
		if bn.gamma != nil {
			dgamma := tensor.Zeros(n)
			for k := range n {
				dgamma.Data()[k] = float32(dg[k] * float64(f.r[k]))
			}
			grads = append(grads, dgamma)
		}
		return grads, nil
	}
	for _, v := range []*autograd.Var{bias, bn.gamma, bn.beta} {
		if v != nil {
			f.bIn = append(f.bIn, v)
		}
	}
	f.bBack = func(h *tensor.Tensor) ([]*tensor.Tensor, error) {
		hd := h.Data()
		var grads []*tensor.Tensor
		if bias != nil {
			db := tensor.Zeros(n)
			for k, v := range hd {
				db.Data()[k] = v * f.a[k]
			}
			grads = append(grads, db)
		}
		if bn.gamma != nil {
			dgamma := tensor.Zeros(n)
			for k, v := range hd {
				dgamma.Data()[k] = v * f.shift[k] * f.r[k]
			}
			grads = append(grads, dgamma)
		}
		if bn.beta != nil {
			grads = append(grads, h.Clone())
		}
		return grads, nil
	}
}
