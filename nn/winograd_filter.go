package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// The filter gradient of a convolution on the Winograd path is the
// adjoint algorithm, F(5×5, 2×2): with the input windows transformed as
// in the forward pass (V = Bᵀ·d·B) and each 2×2 block of dy transformed
// by the transpose of the output transform (Dŷ = A·dy·Aᵀ,
// kernels.WinogradOutputGrad), the gradient summed over the tiles is
//
//	Ŵ_ξ[C, F] = Σ_tiles V_ξ[tile, C]ᵀ · Dŷ_ξ[tile, F]
//
// 36 products with the tiles as their long inner dimension, and then
// dw = Gᵀ·Ŵ·G per channel pair (kernels.WinogradFilterGrad). That is 36
// multiply-adds per tile and channel pair instead of 100.
//
// The tiles are cut into fixed blocks of winoGradBlock (the blocks'
// products run with K = the block's tiles), the blocks into at most
// maxGroups fixed groups, each summed by one worker into its own Ŵ, and
// the groups' Ŵ added in group order: dw does not depend on the number
// of workers.

// winoGradBlock is the number of tiles transformed and multiplied
// together in the filter gradient. Longer blocks make longer products;
// V and Dŷ of a block take 36·(C+F) floats per tile (96 KiB per 256
// tiles of conv2's 32 + 64 channels … ×36 / 256). Measured on the
// lecture's conv2 (ms at 2 threads): see winograd_filter_test.go's
// benchmark notes in the commit log. A variable so that tests can force
// partial blocks.
var winoGradBlock = 256

// winogradFilterGrad computes dw [1, 5, 5, C, F] from x [N, D, H, W, C]
// and dy [N, D, OH, OW, F] (stride 1, the padding of g) as F(5×5, 2×2).
func winogradFilterGrad(g *kernels.ConvGeom, f int, x, dy, dw []float32) {
	const cells = kernels.WinoCells
	c := g.C
	cf := c * f
	tl := newWinoTiles(g)
	nb := winoGradBlock
	blocks := ceilDiv(tl.n, nb)
	groups := min(blocks, maxGroups)
	partb := getScratch(groups * cells * cf)
	parts := *partb
	parallel.For(groups, 1, func(lo, hi int) {
		vb, db := getScratch(cells*(nb*c+winoSkew)), getScratch(cells*(nb*f+winoSkew))
		edge, edgeDy := getScratch(kernels.WinoTile*kernels.WinoTile*c), getScratch(kernels.WinoOut*kernels.WinoOut*f)
		v, d := *vb, *db
		for gi := lo; gi < hi; gi++ {
			part := parts[gi*cells*cf : (gi+1)*cells*cf]
			var beta float32
			for b := gi * blocks / groups; b < (gi+1)*blocks/groups; b++ {
				t0 := b * nb
				nt := min(nb, tl.n-t0)
				vs, ds := nt*c+winoSkew, nt*f+winoSkew // cell strides of V and Dŷ
				tl.inputs(x, t0, nt, v, vs, *edge)
				tl.outputGrads(dy, f, t0, nt, d, ds, *edgeDy)
				for xi := 0; xi < cells; xi++ {
					kernels.SgemmSerial(true, false, c, f, nt, 1, v[xi*vs:], c, d[xi*ds:], f, beta, part[xi*cf:], f)
				}
				beta = 1
			}
		}
		putScratch(vb)
		putScratch(db)
		putScratch(edge)
		putScratch(edgeDy)
	})
	// Add the groups' Ŵ into the first, element by element in group
	// order (the elements split across the workers).
	sum := parts[:cells*cf]
	parallel.For(len(sum), 1<<12, func(lo, hi int) {
		for gi := 1; gi < groups; gi++ {
			for i, v := range parts[gi*cells*cf+lo : gi*cells*cf+hi] {
				sum[lo+i] += v
			}
		}
	})
	kernels.WinogradFilterGrad(dw, sum, c, f)
	putScratch(partb)
}

// outputGrads transforms the 2×2 blocks of dy [slices, OH, OW, F] of
// tiles t0 … t0+nt−1: tile t0+t's cell ξ goes to d[ξ·ds + t·F:][:F].
// Blocks over the bottom or right edge (odd output sizes) are padded
// with zeros in edge (4·F floats).
func (tl winoTiles) outputGrads(dy []float32, f, t0, nt int, d []float32, ds int, edge []float32) {
	const out = kernels.WinoOut
	oh, ow := tl.g.Out[1], tl.g.Out[2]
	for t := 0; t < nt; t++ {
		img, oy, ox := tl.at(t0 + t)
		if oy+out <= oh && ox+out <= ow {
			kernels.WinogradOutputGrad(d[t*f:], ds, dy[((img*oh+oy)*ow+ox)*f:], ow*f, f, f)
			continue
		}
		clear(edge)
		for a := 0; a < out && oy+a < oh; a++ {
			for b := 0; b < out && ox+b < ow; b++ {
				copy(edge[(a*out+b)*f:(a*out+b+1)*f], dy[((img*oh+oy+a)*ow+ox+b)*f:])
			}
		}
		kernels.WinogradOutputGrad(d[t*f:], ds, edge, out*f, f, f)
	}
}
