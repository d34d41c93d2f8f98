package nn

// Depthwise convolution (tf.nn.depthwise_conv2d) and its gradient ops.
//
// Shape legend: N batch; H, W input sizes; C input channels; M channel
// multiplier; KH, KW window sizes; OH, OW output sizes. Each input channel
// c is convolved with its own M filters w[:, :, c, m], giving output
// channel c·M + m:
//
//	y[n, oh, ow, c·M + m] = Σ_{kh,kw} x[n, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · w[kh, kw, c, m]
//
// The loops keep the C·M values of one pixel innermost, contiguous in x,
// w and y. Unequal strides and dilations are supported (TF's CPU kernel
// refuses them, but their meaning is the formula above); strides above 1
// together with dilations above 1 are refused as in tf.nn.depthwise_conv2d.

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// DepthwiseConv2D is tf.nn.depthwise_conv2d: input [N, H, W, C] (or
// [N, C, H, W] with DataFormat "NCHW"), filter [KH, KW, C, M], output
// [N, OH, OW, C·M] with output channel c·M + m =
// Σ_{kh,kw} x[n, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · w[kh, kw, c, m].
// Output sizes and padding are those of Conv2D; Dilations is TF's rate.
func DepthwiseConv2D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return forwardOp("nn.DepthwiseConv2D", 2, input, filter, o, true, depthwiseForward)
}

// DepthwiseConv2DBackpropInput is tf.raw_ops.DepthwiseConv2dNativeBackpropInput:
// the gradient of DepthwiseConv2D with respect to its input of shape
// inputShape, given the filter [KH, KW, C, M] and the output gradient
// grad [N, OH, OW, C·M]:
// dx[n, ih, iw, c] = Σ_{m, taps reading (ih, iw)} dy[n, oh, ow, c·M + m] · w[kh, kw, c, m].
func DepthwiseConv2DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return backpropInputOp("nn.DepthwiseConv2DBackpropInput", 2, inputShape, filter, grad, nil, o, true,
		func(g *kernels.ConvGeom, f int, w, dy, dx, _ []float32) { depthwiseBackpropInput(g, f, w, dy, dx) })
}

// DepthwiseConv2DBackpropFilter is tf.raw_ops.DepthwiseConv2dNativeBackpropFilter:
// the gradient of DepthwiseConv2D with respect to its filter of shape
// filterShape [KH, KW, C, M], given the input [N, H, W, C] and the output
// gradient grad [N, OH, OW, C·M]:
// dw[kh, kw, c, m] = Σ_{n,oh,ow} x[n, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · dy[n, oh, ow, c·M + m].
func DepthwiseConv2DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return backpropFilterOp("nn.DepthwiseConv2DBackpropFilter", 2, input, filterShape, grad, o, true, depthwiseBackpropFilter)
}

// depthwiseForward computes y [N, OH, OW, C·M] from x [N, H, W, C] and
// w [KH, KW, C, M]; the geometry's depth dimension has size 1. Output rows
// are independent, so the row split does not change any result.
func depthwiseForward(g *kernels.ConvGeom, m int, x, w, y []float32) {
	c := g.C
	oh, ow := g.Out[1], g.Out[2]
	cm := c * m
	if g.OutPositions() == 0 || cm == 0 {
		return
	}
	// With M = 1 and a stride along W the per-pixel loop below already
	// runs SumProducts over C contiguous channels and measured as fast as
	// the row path (BenchmarkDepthwiseStrided), so it keeps that case.
	if depthwiseRowsApply(g) && (m > 1 || g.Stride[2] == 1) && !tune.DepthwisePerPixel {
		depthwiseForwardRows(g, m, x, w, y)
		return
	}
	parallel.For(g.N*oh, 1, func(lo, hi int) {
		aOff, bOff := make([]int, 0, g.K[1]*g.K[2]), make([]int, 0, g.K[1]*g.K[2])
		for r := lo; r < hi; r++ {
			n, i := r/oh, r%oh
			row := y[r*ow*cm : (r+1)*ow*cm]
			for j := 0; j < ow; j++ {
				// The window cells of output (i, j) that read real input cells.
				aOff, bOff = inputTaps(g, n, i, j, cm, aOff[:0], bOff[:0])
				acc := row[j*cm : (j+1)*cm]
				if m == 1 {
					kernels.SumProducts(acc, x, w, aOff, bOff)
					continue
				}
				clear(acc)
				for k, ta := range aOff {
					tb := bOff[k]
					xs, ws := x[ta:ta+c], w[tb:tb+cm]
					for ch, xv := range xs {
						a, wm := acc[ch*m:(ch+1)*m], ws[ch*m:(ch+1)*m]
						for k := range a {
							a[k] += xv * wm[k]
						}
					}
				}
			}
		}
	})
}

// depthwiseBackpropInput computes dx [N, H, W, C] from w [KH, KW, C, M]
// and dy [N, OH, OW, C·M] by gathering, for each input cell, the output
// cells whose windows read it; input rows are independent.
func depthwiseBackpropInput(g *kernels.ConvGeom, m int, w, dy, dx []float32) {
	h, wd, c := g.In[1], g.In[2], g.C
	oh, ow := g.Out[1], g.Out[2]
	cm := c * m
	if g.OutPositions() == 0 || cm == 0 {
		clear(dx)
		return
	}
	if m == 1 && g.Stride == [3]int{1, 1, 1} && !tune.DepthwisePerPixel {
		depthwiseBackpropInputFlipped(g, w, dy, dx)
		return
	}
	sh, sw := g.Stride[1], g.Stride[2]
	parallel.For(g.N*h, 1, func(lo, hi int) {
		aOff, bOff := make([]int, 0, g.K[1]*g.K[2]), make([]int, 0, g.K[1]*g.K[2])
		z := make([]float32, cm) // one input pixel's C·M tap sums (M > 1)
		for r := lo; r < hi; r++ {
			n, ih := r/h, r%h
			row := dx[r*wd*c : (r+1)*wd*c]
			for iw := 0; iw < wd; iw++ {
				// The (output cell, window cell) pairs that read input (ih, iw).
				aOff, bOff = aOff[:0], bOff[:0]
				for kh := 0; kh < g.K[1]; kh++ {
					t := ih + g.Pad[1] - kh*g.Dilation[1]
					if t < 0 || t%sh != 0 || t/sh >= oh {
						continue
					}
					i := t / sh
					for kw := 0; kw < g.K[2]; kw++ {
						u := iw + g.Pad[2] - kw*g.Dilation[2]
						if u >= 0 && u%sw == 0 && u/sw < ow {
							aOff, bOff = append(aOff, ((n*oh+i)*ow+u/sw)*cm), append(bOff, (kh*g.K[2]+kw)*cm)
						}
					}
				}
				acc := row[iw*c : (iw+1)*c]
				if m == 1 {
					kernels.SumProducts(acc, dy, w, aOff, bOff)
					continue
				}
				// The C·M products summed over the taps with the vector
				// loop, then each channel's M sums added in order.
				kernels.SumProducts(z, dy, w, aOff, bOff)
				for ch := range acc {
					var s float32
					for _, v := range z[ch*m : (ch+1)*m] {
						s += v
					}
					acc[ch] = s
				}
			}
		}
	})
}

// depthwiseBackpropFilter computes dw [KH, KW, C, M] from x [N, H, W, C]
// and dy [N, OH, OW, C·M]. Output rows are summed in a fixed number of
// groups (independent of the worker count), each into its own buffer,
// and the groups are added in order.
func depthwiseBackpropFilter(g *kernels.ConvGeom, m int, x, dy, dw []float32) {
	c := g.C
	oh, ow := g.Out[1], g.Out[2]
	cm := c * m
	size := g.K[1] * g.K[2] * cm
	if depthwiseRowsApply(g) && !tune.DepthwisePerPixel {
		depthwiseBackpropFilterRows(g, m, x, dy, dw)
		return
	}
	clear(dw)
	rows := g.N * oh
	if rows == 0 || ow == 0 || size == 0 {
		return
	}
	groups := min(rows, maxGroups)
	acc := getScratch((groups - 1) * size)
	clear(*acc)
	parallel.For(groups, 1, func(lo, hi int) {
		aOff, bOff := make([]int, 0, g.K[1]*g.K[2]), make([]int, 0, g.K[1]*g.K[2])
		for grp := lo; grp < hi; grp++ {
			dst := dw
			if grp > 0 {
				dst = (*acc)[(grp-1)*size : grp*size]
			}
			for r := grp * rows / groups; r < (grp+1)*rows/groups; r++ {
				n, i := r/oh, r%oh
				for j := 0; j < ow; j++ {
					aOff, bOff = inputTaps(g, n, i, j, cm, aOff[:0], bOff[:0])
					ds := dy[(r*ow+j)*cm : (r*ow+j+1)*cm]
					for k, ta := range aOff {
						tb := bOff[k]
						xs, dk := x[ta:ta+c], dst[tb:tb+cm]
						if m == 1 {
							kernels.MulAdd(dk, xs, ds)
							continue
						}
						for ch, xv := range xs {
							a, dm := dk[ch*m:(ch+1)*m], ds[ch*m:(ch+1)*m]
							for k := range a {
								a[k] += xv * dm[k]
							}
						}
					}
				}
			}
		}
	})
	for grp := 1; grp < groups; grp++ {
		part := (*acc)[(grp-1)*size : grp*size]
		for i, v := range part {
			dw[i] += v
		}
	}
	putScratch(acc)
}

// inputTaps appends, for output (n, i, j) of a depthwise conv with
// geometry g, the window cells that read real (unpadded) input: the
// offset of each cell's C input values in x to aOff and of its C·M
// (= cm) filter values in w to bOff, in scan order.
func inputTaps(g *kernels.ConvGeom, n, i, j, cm int, aOff, bOff []int) ([]int, []int) {
	h, wd, c := g.In[1], g.In[2], g.C
	for kh := 0; kh < g.K[1]; kh++ {
		ih := i*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
		if ih < 0 || ih >= h {
			continue
		}
		for kw := 0; kw < g.K[2]; kw++ {
			iw := j*g.Stride[2] - g.Pad[2] + kw*g.Dilation[2]
			if iw >= 0 && iw < wd {
				aOff, bOff = append(aOff, ((n*h+ih)*wd+iw)*c), append(bOff, (kh*g.K[2]+kw)*cm)
			}
		}
	}
	return aOff, bOff
}
