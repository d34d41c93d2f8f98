package nn

import "github.com/convnet-go/convnet/internal/kernels"

// Plain-loop references of the convolution ops on channels-last data,
// generic over float32 and float64: the oracle of the fast paths (in
// float32) and of the finite-difference gradient checks (in float64).
// Shapes: x [N, D, H, W, C], w [KD, KH, KW, C, F], y [N, OD, OH, OW, F],
// with the geometry g (size-1 leading dimensions for 1-D and 2-D).

// refTap calls fn for every (input cell, filter cell, output position)
// triple of the convolution g that reads a real (non-padding) input cell:
// xi is the flat index of x without the channel, wi the flat window
// index (kd, kh, kw) and yi the flat output position.
func refTap(g *kernels.ConvGeom, fn func(xi, wi, yi int)) {
	for n := 0; n < g.N; n++ {
		for od := 0; od < g.Out[0]; od++ {
			for oh := 0; oh < g.Out[1]; oh++ {
				for ow := 0; ow < g.Out[2]; ow++ {
					yi := ((n*g.Out[0]+od)*g.Out[1]+oh)*g.Out[2] + ow
					for kd := 0; kd < g.K[0]; kd++ {
						id := od*g.Stride[0] - g.Pad[0] + kd*g.Dilation[0]
						for kh := 0; kh < g.K[1]; kh++ {
							ih := oh*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
							for kw := 0; kw < g.K[2]; kw++ {
								iw := ow*g.Stride[2] - g.Pad[2] + kw*g.Dilation[2]
								if id < 0 || id >= g.In[0] || ih < 0 || ih >= g.In[1] || iw < 0 || iw >= g.In[2] {
									continue
								}
								xi := ((n*g.In[0]+id)*g.In[1]+ih)*g.In[2] + iw
								wi := (kd*g.K[1]+kh)*g.K[2] + kw
								fn(xi, wi, yi)
							}
						}
					}
				}
			}
		}
	}
}

// convRef: y[n, o, f] = Σ_{k, c} x[n, o·s − pad + k·d, c] · w[k, c, f].
func convRef[T float](g *kernels.ConvGeom, f int, x, w, y []T) {
	clear(y)
	c := g.C
	refTap(g, func(xi, wi, yi int) {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < f; j++ {
				y[yi*f+j] += x[xi*c+ch] * w[(wi*c+ch)*f+j]
			}
		}
	})
}

// convBackpropInputRef: dx[n, i, c] = Σ over taps reading i of dy[n, o, f] · w[k, c, f].
func convBackpropInputRef[T float](g *kernels.ConvGeom, f int, w, dy, dx []T) {
	clear(dx)
	c := g.C
	refTap(g, func(xi, wi, yi int) {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < f; j++ {
				dx[xi*c+ch] += dy[yi*f+j] * w[(wi*c+ch)*f+j]
			}
		}
	})
}

// convBackpropFilterRef: dw[k, c, f] = Σ_{n, o} x[n, o·s − pad + k·d, c] · dy[n, o, f].
func convBackpropFilterRef[T float](g *kernels.ConvGeom, f int, x, dy, dw []T) {
	clear(dw)
	c := g.C
	refTap(g, func(xi, wi, yi int) {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < f; j++ {
				dw[(wi*c+ch)*f+j] += x[xi*c+ch] * dy[yi*f+j]
			}
		}
	})
}

// depthwiseRef: y[n, o, c·M + m] = Σ_k x[n, o·s − pad + k·d, c] · w[k, c, m].
func depthwiseRef[T float](g *kernels.ConvGeom, m int, x, w, y []T) {
	clear(y)
	c := g.C
	refTap(g, func(xi, wi, yi int) {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < m; j++ {
				y[(yi*c+ch)*m+j] += x[xi*c+ch] * w[(wi*c+ch)*m+j]
			}
		}
	})
}

// depthwiseBackpropInputRef: dx[n, i, c] = Σ over taps reading i, and m, of dy[n, o, c·M + m] · w[k, c, m].
func depthwiseBackpropInputRef[T float](g *kernels.ConvGeom, m int, w, dy, dx []T) {
	clear(dx)
	c := g.C
	refTap(g, func(xi, wi, yi int) {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < m; j++ {
				dx[xi*c+ch] += dy[(yi*c+ch)*m+j] * w[(wi*c+ch)*m+j]
			}
		}
	})
}

// depthwiseBackpropFilterRef: dw[k, c, m] = Σ_{n, o} x[n, o·s − pad + k·d, c] · dy[n, o, c·M + m].
func depthwiseBackpropFilterRef[T float](g *kernels.ConvGeom, m int, x, dy, dw []T) {
	clear(dw)
	c := g.C
	refTap(g, func(xi, wi, yi int) {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < m; j++ {
				dw[(wi*c+ch)*m+j] += x[xi*c+ch] * dy[(yi*c+ch)*m+j]
			}
		}
	})
}
