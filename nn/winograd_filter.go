package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// The filter gradient of a convolution on the Winograd path is the
// adjoint algorithm, F(5×5, 2×2) (or F(5×5, 4×4) when the forward pass
// runs F(4×4, 5×5), with 8×8 cells and 4×4 blocks of dy; the
// description below is for the former): with the input windows transformed as
// in the forward pass (V = Bᵀ·d·B) and each 2×2 block of dy transformed
// by the transpose of the output transform (Dŷ = A·dy·Aᵀ,
// kernels.WinoScheme.OutputGrad), the gradient summed over the tiles is
//
//	Ŵ_ξᵀ[F, C] = Σ_tiles Dŷ_ξ[tile, F]ᵀ · V_ξ[tile, C]
//
// 36 products with the tiles as their long inner dimension (as F×C: the
// Sgemm's 6-row tiles cover 64 output channels with less waste than 32
// input channels), and then dw = Gᵀ·Ŵ·G per channel pair
// (kernels.WinoScheme.FilterGrad). That is 36 multiply-adds per tile and
// channel pair instead of 100.
//
// For a 3×3 convolution the same holds with F(3×3, 4×4): 6×6 cells and
// 4×4 blocks of dy.
//
// The tiles are cut into fixed blocks (tune.WinoGradBlock; the blocks'
// products run with K = the block's tiles), the blocks into at most
// maxGroups fixed groups, each summed by one worker into its own Ŵ, and
// the groups' Ŵ added in group order: dw does not depend on the number
// of workers.

// winogradFilterGrad computes dw [1, K, K, C, F] from x [N, D, H, W, C]
// and dy [N, D, OH, OW, F] (stride 1, the padding of g) as the adjoint of
// the scheme of plan pl: F(5×5, 2×2) for F(2×2, 5×5), F(5×5, 4×4) for
// F(4×4, 5×5), F(3×3, 4×4) for F(4×4, 3×3); x's values go through pro
// as they are read.
func winogradFilterGrad(pl *convPlan, g *kernels.ConvGeom, f int, x, dy, dw []float32, pro prologue) {
	s := pl.scheme
	cells := s.Cells()
	c := g.C
	cf := c * f
	tl := newWinoTiles(s, g)
	tl.pro = pro
	nb := pl.block
	blocks := ceilDiv(tl.n, nb)
	groups := min(blocks, maxGroups)
	partb := getScratch(groups * cells * cf)
	parts := *partb
	parallel.For(groups, 1, func(lo, hi int) {
		vb, db := getScratch(cells*(nb*c+winoSkew)), getScratch(cells*(nb*f+winoSkew))
		edge, edgeDy := tl.newEdge(true), getScratch(s.Out*s.Out*f)
		v, d := *vb, *db
		for gi := lo; gi < hi; gi++ {
			part := parts[gi*cells*cf : (gi+1)*cells*cf]
			var beta float32
			for b := gi * blocks / groups; b < (gi+1)*blocks/groups; b++ {
				t0 := b * nb
				nt := min(nb, tl.n-t0)
				vs, ds := nt*c+winoSkew, nt*f+winoSkew // cell strides of V and Dŷ
				tl.inputs(x, t0, nt, v, vs, &edge)
				tl.outputGrads(dy, f, t0, nt, d, ds, *edgeDy)
				for xi := 0; xi < cells; xi++ {
					kernels.SgemmSerial(true, false, f, c, nt, 1, d[xi*ds:], f, v[xi*vs:], c, beta, part[xi*cf:], c)
				}
				beta = 1
			}
		}
		putScratch(vb)
		putScratch(db)
		edge.put()
		putScratch(edgeDy)
	})
	// Add the groups' Ŵ into the first, in group order.
	sum := parts[:cells*cf]
	sumGroups(sum, parts, groups)
	// The products are Ŵ_ξᵀ [F, C], and so dw comes out as [K², F, C]:
	// transposed tap by tap.
	dwtb := getScratch(len(dw))
	dwt := *dwtb
	s.FilterGrad(dwt, sum, f, c)
	for k := 0; k < s.K*s.K; k++ {
		transpose(dw[k*cf:(k+1)*cf], dwt[k*cf:(k+1)*cf], f, c)
	}
	putScratch(dwtb)
	putScratch(partb)
}

// outputGrads transforms the output blocks of dy [slices, OH, OW, F] of
// tiles t0 … t0+nt−1: tile t0+t's cell ξ goes to d[ξ·ds + t·F:][:F].
// Blocks over the bottom or right edge are padded with zeros in edge
// (Out²·F floats).
func (tl winoTiles) outputGrads(dy []float32, f, t0, nt int, d []float32, ds int, edge []float32) {
	out := tl.s.Out
	oh, ow := tl.g.Out[1], tl.g.Out[2]
	c := tl.cursor(t0)
	for t := 0; t < nt; t++ {
		img, oy, ox := c.take()
		tl.prefetchNext(dy, oh*ow*f, img, oy, ox)
		if oy+out <= oh && ox+out <= ow {
			tl.s.OutputGrad(d[t*f:], ds, dy[((img*oh+oy)*ow+ox)*f:], ow*f, f, f)
			continue
		}
		clear(edge)
		for a := 0; a < out && oy+a < oh; a++ {
			for b := 0; b < out && ox+b < ow; b++ {
				copy(edge[(a*out+b)*f:(a*out+b+1)*f], dy[((img*oh+oy+a)*ow+ox+b)*f:])
			}
		}
		tl.s.OutputGrad(d[t*f:], ds, edge, out*f, f, f)
	}
}
