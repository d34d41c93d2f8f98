package nn

// Plain-loop references of the pooling kernels, generic over the element
// type: in float32 they are the oracle of the fast paths, in float64 the
// subject of the finite-difference checks. They index the tensor in its
// own layout (batch, channels, D, H, W) rather than the kernels' view.

import (
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// poolRefIndex returns the offset of (n, c, d, h, w) in a tensor of
// spatial sizes sz with the geometry's batch, channels and layout.
func (g *poolGeom) poolRefIndex(sz [3]int, n, c, d, h, w int) int {
	if g.chLast {
		return (((n*sz[0]+d)*sz[1]+h)*sz[2]+w)*g.chans + c
	}
	return (((n*g.chans+c)*sz[0]+d)*sz[1]+h)*sz[2] + w
}

// poolRefVisit calls fn(o, cells) for every output element o (its offset)
// with the offsets of its window's real input cells in scan order.
func (g *poolGeom) poolRefVisit(fn func(o int, cells []int)) {
	var cells []int
	for n := 0; n < g.batch; n++ {
		for c := 0; c < g.chans; c++ {
			for od := 0; od < g.out[0]; od++ {
				for oh := 0; oh < g.out[1]; oh++ {
					for ow := 0; ow < g.out[2]; ow++ {
						cells = cells[:0]
						for kd := 0; kd < g.k[0]; kd++ {
							d := od*g.s[0] - g.pad[0] + kd
							for kh := 0; kh < g.k[1]; kh++ {
								h := oh*g.s[1] - g.pad[1] + kh
								for kw := 0; kw < g.k[2]; kw++ {
									w := ow*g.s[2] - g.pad[2] + kw
									if d < 0 || d >= g.in[0] || h < 0 || h >= g.in[1] || w < 0 || w >= g.in[2] {
										continue // padding: never part of a max or a mean
									}
									cells = append(cells, g.poolRefIndex(g.in, n, c, d, h, w))
								}
							}
						}
						fn(g.poolRefIndex(g.out, n, c, od, oh, ow), cells)
					}
				}
			}
		}
	}
}

func maxPoolRef[T float](g *poolGeom, x []T) []T {
	y := make([]T, tensor.Size(g.outShape))
	g.poolRefVisit(func(o int, cells []int) {
		best := T(math.Inf(-1))
		for i, j := range cells {
			if i == 0 || x[j] > best {
				best = x[j]
			}
		}
		y[o] = best
	})
	return y
}

func avgPoolRef[T float](g *poolGeom, x []T) []T {
	y := make([]T, tensor.Size(g.outShape))
	g.poolRefVisit(func(o int, cells []int) {
		var s T
		for _, j := range cells {
			s += x[j]
		}
		y[o] = s / T(len(cells))
	})
	return y
}

func maxPoolGradRef[T float](g *poolGeom, x, grad []T) []T {
	dx := make([]T, len(x))
	g.poolRefVisit(func(o int, cells []int) {
		arg := cells[0]
		for _, j := range cells[1:] {
			if x[j] > x[arg] {
				arg = j
			}
		}
		dx[arg] += grad[o]
	})
	return dx
}

func avgPoolGradRef[T float](g *poolGeom, nIn int, grad []T) []T {
	dx := make([]T, nIn)
	g.poolRefVisit(func(o int, cells []int) {
		scale := 1 / T(len(cells))
		for _, j := range cells {
			dx[j] += grad[o] * scale
		}
	})
	return dx
}
