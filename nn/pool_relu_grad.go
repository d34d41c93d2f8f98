package nn

import (
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// MaxPoolBiasReluGrad is the backward of a max pool over y = relu(value
// + bias) (Conv2DBiasRelu's output, say) taken in one pass from the
// pool's side: given pooled and arg = MaxPoolWithArgmax(y, o) and grad =
// ∂L/∂pooled, it returns dvalue = ∂L/∂value (y's shape) and dbias =
// ∂L/∂bias [C], with the bits of
//
//	dy := MaxPoolGradWithArgmax(y.Shape(), grad, arg)
//	dvalue, dbias := BiasAddReluGrad(dy, y, o.DataFormat)
//
// When the windows do not overlap (stride ≥ window on every axis) and the
// channels are last, each input position gets its value in one pass
// (kernels.ArgmaxReluGradSum): the window's gradient where the offset
// of its maximum is that position and the maximum is positive, +0
// elsewhere; dbias sums the positions in the order BiasAddReluGrad does.
// This writes dvalue once instead of clearing it, scattering into it and
// masking it again. The pooled maximum decides the ReLU's mask: it is
// y's value at the cell the gradient goes to. Other pools take the two
// ops above.
//
// arg must be the offsets MaxPoolWithArgmax gave for y and o: in the
// one-pass form an offset outside its own window sends no gradient,
// where MaxPoolGradWithArgmax would add it elsewhere or fail.
func MaxPoolBiasReluGrad(y, pooled, grad *tensor.Tensor, arg []int32, o PoolOptions) (dvalue, dbias *tensor.Tensor, err error) {
	const op = "MaxPoolBiasReluGrad"
	for _, t := range []struct {
		name string
		t    *tensor.Tensor
	}{{"y", y}, {"pooled", pooled}, {"grad", grad}} {
		if t.t == nil {
			return nil, nil, fmt.Errorf("nn: %s: %s tensor is nil", op, t.name)
		}
	}
	var g poolGeom
	if err := poolSetupInto(&g, op, y.Shape(), o); err != nil {
		return nil, nil, err
	}
	out := g.outDims[:g.rank]
	if !slices.Equal(pooled.Shape(), out) || !slices.Equal(grad.Shape(), out) {
		return nil, nil, fmt.Errorf("nn: %s: pooled has shape %v and grad %v, want the pooled shape %v of y %v", op, pooled.Shape(), grad.Shape(), out, y.Shape())
	}
	if len(arg) != grad.Len() {
		return nil, nil, fmt.Errorf("nn: %s: argmax has %d offsets, want one per grad element (%d)", op, len(arg), grad.Len())
	}
	if !g.chLast || !g.disjoint() || y.Len() == 0 {
		dy, err := MaxPoolGradWithArgmax(y.Shape(), grad, arg)
		if err != nil {
			return nil, nil, poolErr(op, err)
		}
		dvalue, dbias, err = BiasAddReluGrad(dy, y, o.DataFormat)
		if err != nil {
			return nil, nil, poolErr(op, err)
		}
		pool.Recycle(dy.Data())
		return dvalue, dbias, nil
	}
	dvalue = newResult(y.Shape()...)
	dbias = tensor.Zeros(g.c)
	g.poolReluGrad(dvalue.Data(), dbias.Data(), grad.Data(), pooled.Data(), arg)
	return dvalue, dbias, nil
}

// disjoint reports whether no two windows share a cell: stride ≥
// window on every spatial axis.
func (g *poolGeom) disjoint() bool {
	for i := range 3 {
		if g.s[i] < g.k[i] {
			return false
		}
	}
	return true
}

// cell returns the window of output index along axis i that holds input
// index x, and ok = false when no window does (a gap between windows of
// stride > window, or rows past the last window).
func (g *poolGeom) cell(i, x int) (out int, ok bool) {
	p := x + g.pad[i]
	out = p / g.s[i]
	return out, p-out*g.s[i] < g.k[i] && out < g.out[i]
}

// poolReluGrad is MaxPoolBiasReluGrad's one-pass form for channels-last
// disjoint windows: positions (n, d, h, w) in order, in the row chunks
// of chunkSums (as biasReluGradKernel walks them), each run of positions
// that share a window, or of whole windows side by side, in one
// kernels.ArgmaxReluGradSum call.
func (g *poolGeom) poolReluGrad(dx, db, grad, z []float32, arg []int32) {
	C := g.c
	D, H, W := g.in[0], g.in[1], g.in[2]
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	sw, kw, padW := g.s[2], g.k[2], g.pad[2]
	rows := g.n * D * H * W
	sums := chunkSums(rows, C, rows*C, func(lo, hi int, acc []float64) {
		for r := lo; r < hi; {
			w, row := r%W, r/W // row = (n·D + d)·H + h
			end := min(hi, r-w+W)
			h, d, n := row%H, row/H%D, row/(H*D)
			od, okD := g.cell(0, d)
			oh, okH := g.cell(1, h)
			if !okD || !okH {
				clear(dx[r*C : end*C])
				r = end
				continue
			}
			cells := ((n*OD+od)*OH + oh) * OW
			for r < end {
				ow, ok := g.cell(2, w)
				if !ok {
					clear(dx[r*C : (r+1)*C])
					r, w = r+1, w+1
					continue
				}
				start := ow*sw - padW
				cols, rep := 1, min(start+kw, W, w+end-r)-w
				if sw == kw && w == start {
					// Whole windows from here: ow.., each kw positions.
					if full := min(OW-ow, (min(W, w+end-r)-w)/kw); full > 0 {
						cols, rep = full, kw
					}
				}
				c0 := (cells + ow) * C
				kernels.ArgmaxReluGradSum(dx[r*C:(r+cols*rep)*C], grad[c0:c0+cols*C], z[c0:c0+cols*C], arg[c0:c0+cols*C], int32(r*C), rep, acc)
				r, w = r+cols*rep, w+cols*rep
			}
		}
	})
	for c, s := range sums {
		db[c] = float32(s)
	}
}
