package nn

// Pooling: MaxPool, AvgPool and their gradients for rank 3, 4 and 5 inputs.
//
// Shape legend (channels-last): N batch, D/H/W input spatial sizes (the
// missing ones of a rank-3 or rank-4 input are 1), C channels, OD/OH/OW
// output sizes, K the window, S the strides, P the cells padded before.
// A channels-first input (NCW, NCHW, NCDHW) is the same computation over
// N·C images of one channel, which is how the kernels below see it.
//
// Window of output o along one axis: start = o·S − P, real cells
// [max(start, 0), min(start+K, In)). Under SAME every window holds at
// least one real cell, because P < K and (Out−1)·S < In; explicit
// paddings are held to P < K (before and after) for the same reason.

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// poolGeom is the validated geometry of one pooling call.
type poolGeom struct {
	outShape []int // outDims[:rank], set by poolSetup only
	outDims  [5]int
	rank     int
	chLast   bool
	batch    int // N of the tensor
	chans    int // C of the tensor
	// Kernel view: n images of c interleaved channels (channels-first:
	// n = N·C, c = 1).
	n, c int
	// Per spatial axis, in D, H, W order; absent axes have size 1.
	in, k, s, pad, out [3]int
}

// poolSetup validates a pooling call on an input of the given shape.
func poolSetup(op string, shape []int, o PoolOptions) (*poolGeom, error) {
	g := new(poolGeom)
	if err := poolSetupInto(g, op, shape, o); err != nil {
		return nil, err
	}
	g.outShape = g.outDims[:g.rank]
	return g, nil
}

// poolSetupInto is poolSetup writing into g, which may then stay on the
// caller's stack: it sets every field but outShape (the caller takes
// the output shape from outDims[:rank]).
func poolSetupInto(g *poolGeom, op string, shape []int, o PoolOptions) error {
	r := len(shape)
	if r < 3 || r > 5 {
		return fmt.Errorf("nn: %s wants a rank-3, 4 or 5 input (NWC, NHWC or NDHWC), got shape %v", op, slices.Clone(shape))
	}
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("nn: %s: negative dimension in input shape %v", op, slices.Clone(shape))
		}
	}
	chLast, err := channelsLast(r, o.DataFormat)
	if err != nil {
		return poolErr(op, err)
	}
	pad := strings.ToUpper(o.Padding)
	if pad != "SAME" && pad != "VALID" && pad != "" && pad != "EXPLICIT" {
		return fmt.Errorf("nn: %s: padding %q: want \"SAME\", \"VALID\" or \"EXPLICIT\"", op, o.Padding)
	}
	if pad == "EXPLICIT" && len(o.ExplicitPaddings) == 0 {
		return fmt.Errorf("nn: %s: padding \"EXPLICIT\" needs ExplicitPaddings", op)
	}
	nsp := r - 2
	var kBuf, sBuf [3]int
	var axBuf [3]axis
	k, err := spatialParam(&kBuf, "ksize", o.KSize, nsp, chLast)
	if err != nil {
		return poolErr(op, err)
	}
	s, err := spatialParam(&sBuf, "strides", o.Strides, nsp, chLast)
	if err != nil {
		return poolErr(op, err)
	}
	first := 1
	if !chLast {
		first = 2
	}
	sp := shape[first : first+nsp]
	ax, err := windowAxes(&axBuf, sp, k, s, ones[:nsp], pad, o.ExplicitPaddings, chLast)
	if err != nil {
		return poolErr(op, err)
	}
	for i, a := range ax {
		// Every window keeps a real cell: a padding of K or more would
		// make windows of padding alone (−∞ for max, no divisor for avg),
		// and so would any padding around a dimension of size 0.
		if a.PadBefore >= a.K || a.PadAfter >= a.K {
			return fmt.Errorf("nn: %s: explicit paddings %v: padding (%d, %d) of dimension %d must be smaller than the window %d", op, o.ExplicitPaddings, a.PadBefore, a.PadAfter, i, a.K)
		}
		if a.In == 0 && a.Out > 0 {
			return fmt.Errorf("nn: %s: explicit paddings %v: padding (%d, %d) around dimension %d of size 0 makes windows of padding alone", op, o.ExplicitPaddings, a.PadBefore, a.PadAfter, i)
		}
	}
	*g = poolGeom{chLast: chLast, batch: shape[0], rank: r}
	copy(g.outDims[:], shape)
	if chLast {
		g.chans = shape[r-1]
		g.n, g.c = g.batch, g.chans
	} else {
		g.chans = shape[1]
		g.n, g.c = g.batch*g.chans, 1
	}
	for i := 0; i < 3; i++ {
		g.in[i], g.k[i], g.s[i], g.out[i] = 1, 1, 1, 1
	}
	for i, a := range ax {
		j := 3 - nsp + i
		g.in[j], g.k[j], g.s[j], g.pad[j], g.out[j] = a.In, a.K, a.Stride, a.PadBefore, a.Out
		g.outDims[first+i] = a.Out
	}
	return nil
}

// ones is the dilation of every pooling window.
var ones = []int{1, 1, 1}

func poolErr(op string, err error) error {
	return fmt.Errorf("nn: %s: %s", op, strings.TrimPrefix(err.Error(), "nn: "))
}

// window returns the real cells [lo, hi) of output o along axis i.
func (g *poolGeom) window(i, o int) (lo, hi int) {
	start := o*g.s[i] - g.pad[i]
	return max(start, 0), min(start+g.k[i], g.in[i])
}

// inLen and outLen are the element counts of one image in the kernel view.
// windowOffsets appends to offs the offsets, within one image, of the
// C-channel cells of the window [d0,d1)×[h0,h1)×[w0,w1), in scan order.
func (g *poolGeom) windowOffsets(offs []int, d0, d1, h0, h1, w0, w1 int) []int {
	C, H, W := g.c, g.in[1], g.in[2]
	for d := d0; d < d1; d++ {
		for h := h0; h < h1; h++ {
			row := (d*H + h) * W
			for w := w0; w < w1; w++ {
				offs = append(offs, (row+w)*C)
			}
		}
	}
	return offs
}

func (g *poolGeom) inLen() int  { return g.in[0] * g.in[1] * g.in[2] * g.c }
func (g *poolGeom) outLen() int { return g.out[0] * g.out[1] * g.out[2] * g.c }

// rowsMinPer is the number of output rows (n, od, oh) worth a goroutine.
func (g *poolGeom) rowsMinPer() int {
	work := g.out[2] * g.c * g.k[0] * g.k[1] * g.k[2]
	return max(1, 1<<14/max(work, 1))
}

func poolInput(op string, input *tensor.Tensor) error {
	if input == nil {
		return fmt.Errorf("nn: %s: input tensor is nil", op)
	}
	return nil
}

// MaxPool returns the maximum of each window, like tf.nn.max_pool.
//
// input is [N, W, C], [N, H, W, C] or [N, D, H, W, C] (or channels-first
// with o.DataFormat "NCW", "NCHW", "NCDHW"); the output has the same
// layout with each spatial size replaced by OutputSize(in, k, s, 1,
// o.Padding). y[n, o…, c] = max over the window's real cells of
// x[n, o·S − P + i…, c]: under SAME the padded cells never win, so a
// window of negative values gives a negative result. o.KSize and
// o.Strides take 1, one-per-spatial-dimension or full-rank values (1 over
// batch and channels); nil means 1. o.Padding "EXPLICIT" takes
// o.ExplicitPaddings, a (before, after) pair per spatial dimension or per
// dimension of the full rank (zeros at batch and channels), like
// tf.nn.max_pool's padding=[[0,0],[1,1],[2,0],[0,0]]: the padded cells are
// −∞, so they never win; each pair must be smaller than the window. Sizes
// follow OutputSize: VALID with a window that overhangs the input by less
// than the stride gives an empty output, by more an error, as in TF.
func MaxPool(input *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) {
	if err := poolInput("MaxPool", input); err != nil {
		return nil, err
	}
	var g poolGeom // on the stack: newResult gets a copy of the shape
	if err := poolSetupInto(&g, "MaxPool", input.Shape(), o); err != nil {
		return nil, err
	}
	y := newResult(slices.Clone(g.outDims[:g.rank])...) // every window has a real cell
	maxPoolFast(&g, input.Data(), y.Data(), nil)
	return y, nil
}

// AvgPool returns the mean of each window, like tf.nn.avg_pool.
//
// Shapes and options are those of MaxPool. y[n, o…, c] = (Σ x over the
// window's real cells) / (number of real cells): under SAME and EXPLICIT
// the padded cells count neither in the sum nor in the divisor, so a
// corner window of a 2x2 pool may average fewer than 4 values.
func AvgPool(input *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) {
	if err := poolInput("AvgPool", input); err != nil {
		return nil, err
	}
	g, err := poolSetup("AvgPool", input.Shape(), o)
	if err != nil {
		return nil, err
	}
	y := newZeroResult(g.outShape...)
	avgPoolFast(g, input.Data(), y.Data())
	return y, nil
}

// MaxPoolGrad returns the gradient of MaxPool(input, o) with respect to
// input, given grad, the gradient with respect to its output (shape of
// MaxPool's output). Each grad value goes to the input cell that was the
// maximum of its window, recomputed from input; on ties the first
// maximum in window scan order (row-major over D, H, W) wins, as TF's
// CPU kernel for 1-D and 2-D pooling does. Overlapping windows add up.
// The result has input's shape.
//
// For rank-5 inputs TF's CPU MaxPool3DGrad instead sends the gradient to
// every cell within 1e-5 of the maximum; this implementation keeps the
// first-maximum rule there too, which is the gradient of MaxPool.
func MaxPoolGrad(input, grad *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) {
	if err := poolInput("MaxPoolGrad", input); err != nil {
		return nil, err
	}
	g, err := poolSetup("MaxPoolGrad", input.Shape(), o)
	if err != nil {
		return nil, err
	}
	if err := poolGradShape("MaxPoolGrad", g, grad); err != nil {
		return nil, err
	}
	dx := newZeroResult(input.Shape()...)
	maxPoolGradFast(g, input.Data(), grad.Data(), dx.Data())
	return dx, nil
}

// AvgPoolGrad returns the gradient of AvgPool with respect to an input of
// shape inputShape, given grad, the gradient with respect to AvgPool's
// output. Each grad value is spread evenly over its window's real cells:
// dx[cell] += grad[o] / (number of real cells in window o), which under
// SAME is the count without padding (TF's semantics; TensorFlow.js
// divides by the full window instead).
func AvgPoolGrad(inputShape []int, grad *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) {
	g, err := poolSetup("AvgPoolGrad", inputShape, o)
	if err != nil {
		return nil, err
	}
	if err := poolGradShape("AvgPoolGrad", g, grad); err != nil {
		return nil, err
	}
	if _, err := checkShape("AvgPoolGrad", inputShape); err != nil {
		return nil, err
	}
	dx := newResult(inputShape...)
	avgPoolGradFast(g, grad.Data(), dx.Data())
	return dx, nil
}

func poolGradShape(op string, g *poolGeom, grad *tensor.Tensor) error {
	if grad == nil {
		return fmt.Errorf("nn: %s: grad tensor is nil", op)
	}
	if !tensor.SameShape(grad.Shape(), g.outShape) {
		return fmt.Errorf("nn: %s: grad has shape %v, want the pooled output's shape %v", op, grad.Shape(), g.outShape)
	}
	return nil
}

// maxPoolFast computes y = MaxPool(x) in the kernel view, vectorised
// along the contiguous channels (kernels.MaxWindows: a later cell wins
// only when strictly greater) and split across output rows (n, od, oh).
// With arg (one offset per output element) it also records where each
// maximum came from (kernels.ArgmaxWindows, the same comparisons).
func maxPoolFast(g *poolGeom, x, y []float32, arg []int32) {
	rows, minPer := g.n*g.out[0]*g.out[1], g.rowsMinPer()
	if parallel.Split(rows, minPer) == 1 {
		maxPoolRows(g, x, y, arg, 0, rows) // no closure to allocate
		return
	}
	gc := *g // the closure's own copy, so that g may live on the caller's stack
	parallel.For(rows, minPer, func(lo, hi int) { maxPoolRows(&gc, x, y, arg, lo, hi) })
}

// maxPoolRows computes output rows [lo, hi) (n, od, oh) of maxPoolFast,
// a run of windows that share their cells' offsets in one call.
func maxPoolRows(g *poolGeom, x, y []float32, arg []int32, lo, hi int) {
	C := g.c
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	inLen := g.inLen()
	offs := make([]int, 0, g.k[0]*g.k[1]*g.k[2])
	for r := lo; r < hi; r++ {
		n, od, oh := r/(OD*OH), r/OH%OD, r%OH
		d0, d1 := g.window(0, od)
		h0, h1 := g.window(1, oh)
		xi := x[n*inLen : (n+1)*inLen]
		yr := y[r*OW*C : (r+1)*OW*C]
		for ow := 0; ow < OW; {
			w0, w1 := g.window(2, ow)
			offs = g.windowOffsets(offs[:0], d0, d1, h0, h1, w0, w1)
			k := g.fullRun(ow)
			dst := yr[ow*C : (ow+k)*C]
			if arg == nil {
				kernels.MaxWindows(dst, xi, offs, C, g.s[2]*C)
			} else {
				a := arg[(r*OW+ow)*C : (r*OW+ow+k)*C]
				kernels.ArgmaxWindows(dst, a, xi, offs, int32(n*inLen), C, g.s[2]*C)
			}
			ow += k
		}
	}
}

// fullRun returns how many windows along W from ow on, at least one,
// can share ow's cell offsets shifted by a stride each: ow's alone when
// it is cut by the padding, else every uncut window up to the next cut
// one (their cells all lie inside the input).
func (g *poolGeom) fullRun(ow int) int {
	s, k, pad, in := g.s[2], g.k[2], g.pad[2], g.in[2]
	if start := ow*s - pad; start < 0 || start+k > in {
		return 1
	}
	// The last uncut window starts at most in − k.
	last := min(g.out[2]-1, (in-k+pad)/s)
	return last - ow + 1
}

// avgPoolFast computes y = AvgPool(x) in the kernel view: window sums in
// scan order, divided by the real-cell count.
func avgPoolFast(g *poolGeom, x, y []float32) {
	C, H, W := g.c, g.in[1], g.in[2]
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	inLen := g.inLen()
	parallel.For(g.n*OD*OH, g.rowsMinPer(), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, od, oh := r/(OD*OH), r/OH%OD, r%OH
			d0, d1 := g.window(0, od)
			h0, h1 := g.window(1, oh)
			xi := x[n*inLen : (n+1)*inLen]
			yr := y[r*OW*C : (r+1)*OW*C]
			for ow := 0; ow < OW; ow++ {
				w0, w1 := g.window(2, ow)
				dst := yr[ow*C : ow*C+C]
				for d := d0; d < d1; d++ {
					for h := h0; h < h1; h++ {
						row := (d*H + h) * W
						for w := w0; w < w1; w++ {
							addRow(dst, xi[(row+w)*C:(row+w)*C+C])
						}
					}
				}
				cnt := float32((d1 - d0) * (h1 - h0) * (w1 - w0))
				for c := range dst {
					dst[c] /= cnt
				}
			}
		}
	})
}

// maxPoolGradFast scatters grad into dx (zeroed, x's shape) at each
// window's first maximum. Split across images, since overlapping windows
// of one image write the same cells.
func maxPoolGradFast(g *poolGeom, x, grad, dx []float32) {
	C, H, W := g.c, g.in[1], g.in[2]
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	inLen, outLen := g.inLen(), g.outLen()
	minPer := max(1, 1<<14/max(outLen*g.k[0]*g.k[1]*g.k[2], 1))
	parallel.For(g.n, minPer, func(lo, hi int) {
		best := make([]float32, C)
		arg := make([]int, C)
		for n := lo; n < hi; n++ {
			xi := x[n*inLen : (n+1)*inLen]
			dxi := dx[n*inLen : (n+1)*inLen]
			gi := grad[n*outLen : (n+1)*outLen]
			for od := 0; od < OD; od++ {
				d0, d1 := g.window(0, od)
				for oh := 0; oh < OH; oh++ {
					h0, h1 := g.window(1, oh)
					for ow := 0; ow < OW; ow++ {
						w0, w1 := g.window(2, ow)
						first := true
						for d := d0; d < d1; d++ {
							for h := h0; h < h1; h++ {
								row := (d*H + h) * W
								for w := w0; w < w1; w++ {
									off := (row + w) * C
									src := xi[off : off+C]
									if first {
										copy(best, src)
										for c := range arg {
											arg[c] = off
										}
										first = false
										continue
									}
									argmaxRow(best, arg, src, off)
								}
							}
						}
						o := ((od*OH+oh)*OW + ow) * C
						gr := gi[o : o+C]
						for c, a := range arg {
							dxi[a+c] += gr[c]
						}
					}
				}
			}
		}
	})
}

// avgPoolGradFast spreads grad over each window's real cells into dx
// (the input's shape, cleared here image by image): dx += grad·(1/count),
// windows in output order, split across images. An image's work is
// counted as the larger of its window cells and its input cells (a
// global pool has one window but writes every cell).
func avgPoolGradFast(g *poolGeom, grad, dx []float32) {
	C, H, W := g.c, g.in[1], g.in[2]
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	inLen, outLen := g.inLen(), g.outLen()
	minPer := max(1, 1<<14/max(outLen*g.k[0]*g.k[1]*g.k[2], inLen, 1))
	parallel.For(g.n, minPer, func(lo, hi int) {
		gs := make([]float32, C)
		for n := lo; n < hi; n++ {
			dxi := dx[n*inLen : (n+1)*inLen]
			clear(dxi)
			gi := grad[n*outLen : (n+1)*outLen]
			for od := 0; od < OD; od++ {
				d0, d1 := g.window(0, od)
				for oh := 0; oh < OH; oh++ {
					h0, h1 := g.window(1, oh)
					for ow := 0; ow < OW; ow++ {
						w0, w1 := g.window(2, ow)
						scale := 1 / float32((d1-d0)*(h1-h0)*(w1-w0))
						o := ((od*OH+oh)*OW + ow) * C
						for c, gv := range gi[o : o+C] {
							gs[c] = gv * scale
						}
						for d := d0; d < d1; d++ {
							for h := h0; h < h1; h++ {
								row := (d*H + h) * W
								for w := w0; w < w1; w++ {
									addRow(dxi[(row+w)*C:(row+w)*C+C], gs)
								}
							}
						}
					}
				}
			}
		}
	})
}

// addRow adds src to dst elementwise (kernels.Add for rows of 16 or
// more, where its call costs less than the loop it replaces; the same
// bits either way).
func addRow(dst, src []float32) {
	if len(dst) >= 16 {
		kernels.Add(dst, dst, src)
		return
	}
	src = src[:len(dst)]
	for c := range dst {
		dst[c] += src[c]
	}
}

// argmaxRow folds the row src at offset off into the running maxima best
// and their offsets arg: only a strictly greater value moves arg, so the
// first maximum of a tie stays. Branch-free like maxRow.
func argmaxRow(best []float32, arg []int, src []float32, off int) {
	src, arg = src[:len(best)], arg[:len(best)]
	for c, v := range src {
		b := best[c]
		var m uint32 // all ones when v wins
		if v > b {
			m = ^uint32(0)
		}
		am := int(int32(m))
		arg[c] = off&am | arg[c]&^am
		best[c] = math.Float32frombits(math.Float32bits(v)&m | math.Float32bits(b)&^m)
	}
}
