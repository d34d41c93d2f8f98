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
	return backpropInputOp("nn.DepthwiseConv2DBackpropInput", 2, inputShape, filter, grad, o, true, depthwiseBackpropInput)
}

// DepthwiseConv2DBackpropFilter is tf.raw_ops.DepthwiseConv2dNativeBackpropFilter:
// the gradient of DepthwiseConv2D with respect to its filter of shape
// filterShape [KH, KW, C, M], given the input [N, H, W, C] and the output
// gradient grad [N, OH, OW, C·M]:
// dw[kh, kw, c, m] = Σ_{n,oh,ow} x[n, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · dy[n, oh, ow, c·M + m].
func DepthwiseConv2DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return backpropFilterOp("nn.DepthwiseConv2DBackpropFilter", 2, input, filterShape, grad, o, true, depthwiseBackpropFilter)
}

// depthwisePerPixel turns the row path (depthwise_rows.go) off, for
// tests of the per-pixel loop below.
var depthwisePerPixel = false

// depthwiseForward computes y [N, OH, OW, C·M] from x [N, H, W, C] and
// w [KH, KW, C, M]; the geometry's depth dimension has size 1. Output rows
// are independent, so the row split does not change any result.
func depthwiseForward(g *kernels.ConvGeom, m int, x, w, y []float32) {
	h, wd, c := g.In[1], g.In[2], g.C
	oh, ow := g.Out[1], g.Out[2]
	cm := c * m
	if g.OutPositions() == 0 || cm == 0 {
		return
	}
	if depthwiseRowsApply(g) && !depthwisePerPixel {
		depthwiseForwardRows(g, m, x, w, y)
		return
	}
	parallel.For(g.N*oh, 1, func(lo, hi int) {
		taps := make([]dwTap, 0, g.K[1]*g.K[2])
		for r := lo; r < hi; r++ {
			n, i := r/oh, r%oh
			row := y[r*ow*cm : (r+1)*ow*cm]
			for j := 0; j < ow; j++ {
				// The window cells of output (i, j) that read real input cells.
				taps = taps[:0]
				for kh := 0; kh < g.K[1]; kh++ {
					ih := i*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
					if ih < 0 || ih >= h {
						continue
					}
					for kw := 0; kw < g.K[2]; kw++ {
						iw := j*g.Stride[2] - g.Pad[2] + kw*g.Dilation[2]
						if iw >= 0 && iw < wd {
							taps = append(taps, dwTap{((n*h+ih)*wd + iw) * c, (kh*g.K[2] + kw) * cm})
						}
					}
				}
				acc := row[j*cm : (j+1)*cm]
				if m == 1 {
					dotTaps(acc, x, w, taps)
					continue
				}
				clear(acc)
				for _, t := range taps {
					xs, ws := x[t.a:t.a+c], w[t.b:t.b+cm]
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
	if m == 1 && g.Stride == [3]int{1, 1, 1} && !depthwisePerPixel {
		depthwiseBackpropInputFlipped(g, w, dy, dx)
		return
	}
	sh, sw := g.Stride[1], g.Stride[2]
	parallel.For(g.N*h, 1, func(lo, hi int) {
		taps := make([]dwTap, 0, g.K[1]*g.K[2])
		for r := lo; r < hi; r++ {
			n, ih := r/h, r%h
			row := dx[r*wd*c : (r+1)*wd*c]
			for iw := 0; iw < wd; iw++ {
				// The (output cell, window cell) pairs that read input (ih, iw).
				taps = taps[:0]
				for kh := 0; kh < g.K[1]; kh++ {
					t := ih + g.Pad[1] - kh*g.Dilation[1]
					if t < 0 || t%sh != 0 || t/sh >= oh {
						continue
					}
					i := t / sh
					for kw := 0; kw < g.K[2]; kw++ {
						u := iw + g.Pad[2] - kw*g.Dilation[2]
						if u >= 0 && u%sw == 0 && u/sw < ow {
							taps = append(taps, dwTap{((n*oh+i)*ow + u/sw) * cm, (kh*g.K[2] + kw) * cm})
						}
					}
				}
				acc := row[iw*c : (iw+1)*c]
				if m == 1 {
					dotTaps(acc, dy, w, taps)
					continue
				}
				clear(acc)
				for _, t := range taps {
					ds, ws := dy[t.a:t.a+cm], w[t.b:t.b+cm]
					for ch := range acc {
						var s float32
						dm, wm := ds[ch*m:(ch+1)*m], ws[ch*m:(ch+1)*m]
						for k, dv := range dm {
							s += dv * wm[k]
						}
						acc[ch] += s
					}
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
	h, wd, c := g.In[1], g.In[2], g.C
	oh, ow := g.Out[1], g.Out[2]
	cm := c * m
	size := g.K[1] * g.K[2] * cm
	if depthwiseRowsApply(g) && !depthwisePerPixel {
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
		taps := make([]dwTap, 0, g.K[1]*g.K[2])
		for grp := lo; grp < hi; grp++ {
			dst := dw
			if grp > 0 {
				dst = (*acc)[(grp-1)*size : grp*size]
			}
			for r := grp * rows / groups; r < (grp+1)*rows/groups; r++ {
				n, i := r/oh, r%oh
				for j := 0; j < ow; j++ {
					taps = taps[:0]
					for kh := 0; kh < g.K[1]; kh++ {
						ih := i*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
						if ih < 0 || ih >= h {
							continue
						}
						for kw := 0; kw < g.K[2]; kw++ {
							iw := j*g.Stride[2] - g.Pad[2] + kw*g.Dilation[2]
							if iw >= 0 && iw < wd {
								taps = append(taps, dwTap{((n*h+ih)*wd + iw) * c, (kh*g.K[2] + kw) * cm})
							}
						}
					}
					ds := dy[(r*ow+j)*cm : (r*ow+j+1)*cm]
					for _, t := range taps {
						xs, dk := x[t.a:t.a+c], dst[t.b:t.b+cm]
						if m == 1 {
							mulAdd(dk, xs, ds)
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

// dwTap is one window cell that lands inside the input: the offsets of
// its C·M (or C) values in the two operands.
type dwTap struct{ a, b int }

// dotTaps sets out[c] = Σ_taps a[t.a + c]·b[t.b + c] for c < len(out),
// summing the taps in order. Eight channels at a time are kept in
// registers across the taps, so each output is stored once.
func dotTaps(out, a, b []float32, taps []dwTap) {
	c := len(out)
	c0 := 0
	for ; c0+8 <= c; c0 += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for _, t := range taps {
			as := a[t.a+c0 : t.a+c0+8 : t.a+c0+8]
			bs := b[t.b+c0 : t.b+c0+8 : t.b+c0+8]
			s0 += as[0] * bs[0]
			s1 += as[1] * bs[1]
			s2 += as[2] * bs[2]
			s3 += as[3] * bs[3]
			s4 += as[4] * bs[4]
			s5 += as[5] * bs[5]
			s6 += as[6] * bs[6]
			s7 += as[7] * bs[7]
		}
		o := out[c0 : c0+8 : c0+8]
		o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; c0 < c; c0++ {
		var s float32
		for _, t := range taps {
			s += a[t.a+c0] * b[t.b+c0]
		}
		out[c0] = s
	}
}

// mulAdd sets dst[i] += a[i]·b[i].
func mulAdd(dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		d := dst[i : i+8 : i+8]
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		d[0] += x[0] * y[0]
		d[1] += x[1] * y[1]
		d[2] += x[2] * y[2]
		d[3] += x[3] * y[3]
		d[4] += x[4] * y[4]
		d[5] += x[5] * y[5]
		d[6] += x[6] * y[6]
		d[7] += x[7] * y[7]
	}
	for ; i < n; i++ {
		dst[i] += a[i] * b[i]
	}
}
