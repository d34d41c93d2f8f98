package nn

import (
	"sync"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// A stride-1 5×5 or 3×3 convolution with enough channels runs as
// Winograd's F(m×m, K×K) (kernels.WinoScheme: F(4×4, 5×5), or F(2×2,
// 5×5) where that makes fewer products; F(4×4, 3×3); winoScheme in
// plan.go picks): the output is cut into m×m blocks ("tiles"), each
// tile's (m+K−1)×(m+K−1) input window is transformed, and one matrix
// product per cell ξ of the transformed tile takes the place of the K²
// taps of the direct product:
//
//	M_ξ[tiles, F] = V_ξ[tiles, C] · U_ξ[C, F]
//
// That is 64 multiply-adds per 4×4 tile and channel pair (36 per 2×2
// tile) instead of 400 (100) for 5×5, and 36 instead of 144 per 4×4 tile
// for 3×3. The results differ from the direct sum by rounding only
// (about 1e-6 of the terms' magnitudes); the environment variable
// CONVNET_WINOGRAD=off turns the path off, as does the "ref" Sgemm.
//
// Tiles are numbered across the batch (image, tile row, tile column) and
// cut into fixed blocks (tune.WinoBlock); each worker transforms, multiplies
// and writes back whole blocks on its own, so the values do not depend on
// the number of workers.

// winoSkew pads the stride between the cells of V and M by one cache
// line: the transforms touch all 36 or 64 cells of a tile at once, and at
// a stride of a multiple of 4 KiB (48 tiles of 64 channels) they would
// all fall in one L1 set.
const winoSkew = 16

// winogradConv computes y [N, D, OH, OW, F] = conv(x [N, D, H, W, C],
// w [1, K, K, C, F]) (stride 1, the padding of g) with the Winograd
// scheme and blocks of plan pl, then ep on each tile's outputs while they
// are in L1; pro on x's values as the input windows are read.
func winogradConv(pl *convPlan, g *kernels.ConvGeom, f int, x, w, y []float32, ep epilogue, pro prologue) {
	s := pl.scheme
	ub := getScratch(s.Cells() * g.C * f)
	pbuf := getScratch(max(1, s.Cells()*kernels.PackedBLen(g.C, f)))
	cp := getCellPacks(s.Cells())
	winoFilters(s, g.C, f, w, *ub, *pbuf, *cp)
	winogradConvPacked(pl, g, f, x, *cp, y, ep, pro)
	cellPacks.Put(cp)
	putScratch(pbuf)
	putScratch(ub)
}

// winoFilters transforms w [K, K, C, F] into u (cells·C·F floats: U_ξ
// [C, F] for each cell ξ) and packs each U_ξ into panels (cells ·
// kernels.PackedBLen(C, F) floats, the cells' panels in one buffer),
// described by packed[ξ] (cells entries: a nil one gets a new value, the
// others are packed over). The descriptions read u and panels: both stay
// the caller's and must outlive their use.
func winoFilters(s *kernels.WinoScheme, c, f int, w, u, panels []float32, packed []*kernels.PackedB) {
	s.Filter(u, w, c, f)
	plen := kernels.PackedBLen(c, f)
	for xi := range packed[:s.Cells()] {
		if packed[xi] == nil {
			packed[xi] = new(kernels.PackedB)
		}
		kernels.PackBTo(packed[xi], panels[xi*plen:], false, c, f, u[xi*c*f:(xi+1)*c*f], f)
	}
}

// cellPacks holds the cells' packed-filter descriptions of winogradConv
// between calls (*[]*kernels.PackedB, each entry kept for the next
// call): a training step transforms the filters of every Winograd
// convolution's input gradient afresh, 36 or 64 of them a call.
var cellPacks sync.Pool

// getCellPacks returns cells descriptions from cellPacks (entries to be
// packed over) or new ones.
func getCellPacks(cells int) *[]*kernels.PackedB {
	if p, ok := cellPacks.Get().(*[]*kernels.PackedB); ok && cap(*p) >= cells {
		*p = (*p)[:cells]
		return p
	}
	p := make([]*kernels.PackedB, cells)
	return &p
}

// winogradConvPacked is winogradConv with the filters prepared by
// winoFilters.
func winogradConvPacked(pl *convPlan, g *kernels.ConvGeom, f int, x []float32, packed []*kernels.PackedB, y []float32, ep epilogue, pro prologue) {
	tl := newWinoTiles(pl.scheme, g)
	tl.pro = pro
	if pl.split {
		winogradSplit(pl, tl, f, x, packed, y, ep)
		return
	}
	if pl.spread == 0 {
		winogradBlocks(pl, tl, false, f, x, packed, y, ep)
		return
	}
	way, start := pl.ways.choose()
	defer pl.ways.record(way, start)
	winogradBlocks(pl, tl, way == waySpread, f, x, packed, y, ep)
}

// winogradBlocks runs winogradConvPacked's blocks of pl.block tiles
// shared out among the workers, or with spread, the blocks of pl.spread.
// A tile's values do not depend on its block.
func winogradBlocks(pl *convPlan, tl winoTiles, spread bool, f int, x []float32, packed []*kernels.PackedB, y []float32, ep epilogue) {
	s := pl.scheme
	cells, out := s.Cells(), s.Out
	c := tl.g.C
	tiles := tl.n
	mr := kernels.TileRowsFor(c, f)
	block := pl.block
	if spread {
		block = pl.spread
	}
	blocks := ceilDiv(tiles, block)
	// A block of tiles short of whole micro-kernel tiles (spreadBlock)
	// still multiplies whole ones on an engine without row tails.
	room := roundUp(block, mr)
	parallel.For(blocks, 1, func(lo, hi int) {
		vb, mb := getScratch(cells*(room*c+winoSkew)), getScratch(cells*(room*f+winoSkew))
		edge, edgeOut := tl.newEdge(!spread), getScratch(out*out*f)
		v, m := *vb, *mb
		for b := lo; b < hi; b++ {
			t0 := b * block
			nt := min(block, tiles-t0)
			vs, ms := winoStrides(nt, mr, c, f)
			rows := kernels.RowsToRun(nt, c, f)
			tl.inputs(x, t0, nt, v, vs, &edge)
			for xi := 0; xi < cells; xi++ {
				winoProduct(v, vs, m, ms, xi, nt, rows, c, f, packed[xi])
			}
			tl.outputs(y, t0, 0, nt, m, ms, f, ep, *edgeOut, pl.stream)
		}
		if pl.stream {
			kernels.StreamFence()
		}
		putScratch(vb)
		putScratch(mb)
		edge.put()
		putScratch(edgeOut)
	})
}

// winogradSplit runs the blocks of winogradConvPacked one at a time,
// each in three phases split across the workers: the input transforms
// by tile, the products by cell, the output transforms by tile. A tile's
// values are those of the one-goroutine path.
func winogradSplit(pl *convPlan, tl winoTiles, f int, x []float32, packed []*kernels.PackedB, y []float32, ep epilogue) {
	s, block := pl.scheme, pl.block
	cells, c := s.Cells(), tl.g.C
	vb, mb := getScratch(cells*(block*c+winoSkew)), getScratch(cells*(block*f+winoSkew))
	// One value holds the phases' state and the three loop bodies over
	// it; it is reused from call to call (winoSplitBlocks), so a call
	// allocates neither (a func literal costs an allocation each time).
	b := getWinoSplitBlock()
	*b = winoSplitBlock{s: s, tl: tl, f: f, c: c, mr: kernels.TileRowsFor(c, f),
		x: x, y: y, v: *vb, m: *mb, packed: packed, ep: ep, stream: pl.stream, bodies: b.bodies}
	for b.t0 = 0; b.t0 < tl.n; b.t0 += block {
		b.nt = min(block, tl.n-b.t0)
		b.vs, b.ms = winoStrides(b.nt, b.mr, c, f)
		b.rows = kernels.RowsToRun(b.nt, c, f)
		parallel.For(b.nt, 1, b.bodies.inputs)
		parallel.For(cells, 1, b.bodies.products)
		parallel.For(b.nt, 1, b.bodies.outputs)
	}
	*b = winoSplitBlock{bodies: b.bodies} // hold no caller's storage
	winoSplitBlocks.Put(b)
	putScratch(vb)
	putScratch(mb)
}

// winoSplitBlocks holds winoSplitBlock values (with their loop bodies)
// between winogradSplit calls.
var winoSplitBlocks sync.Pool

// getWinoSplitBlock returns a winoSplitBlock from winoSplitBlocks, or a
// new one with its loop bodies.
func getWinoSplitBlock() *winoSplitBlock {
	if b, ok := winoSplitBlocks.Get().(*winoSplitBlock); ok {
		return b
	}
	b := new(winoSplitBlock)
	b.bodies.inputs = func(lo, hi int) { b.inputs(lo, hi) }
	b.bodies.products = func(lo, hi int) { b.products(lo, hi) }
	b.bodies.outputs = func(lo, hi int) { b.outputs(lo, hi) }
	return b
}

// winoSplitBlock is the state of winogradSplit's current block: tiles
// [t0, t0+nt), their transforms in v (cell stride vs) and products in m
// (cell stride ms), the products over rows rows (winoProduct).
type winoSplitBlock struct {
	s            *kernels.WinoScheme
	tl           winoTiles
	f, c, mr     int
	x, y, v, m   []float32
	packed       []*kernels.PackedB
	ep           epilogue
	stream       bool // outputs stored streaming
	t0, nt, rows int
	vs, ms       int

	// bodies are the parallel loops' bodies over this value, made once.
	bodies struct{ inputs, products, outputs func(lo, hi int) }
}

// inputs transforms the block's tiles [lo, hi).
func (b *winoSplitBlock) inputs(lo, hi int) {
	edge := b.tl.newEdge(true)
	b.tl.inputs(b.x, b.t0+lo, hi-lo, b.v[lo*b.c:], b.vs, &edge)
	edge.put()
}

// products multiplies cells [lo, hi) of the block.
func (b *winoSplitBlock) products(lo, hi int) {
	for xi := lo; xi < hi; xi++ {
		winoProduct(b.v, b.vs, b.m, b.ms, xi, b.nt, b.rows, b.c, b.f, b.packed[xi])
	}
}

// outputs writes the block's tiles [lo, hi) back.
func (b *winoSplitBlock) outputs(lo, hi int) {
	edgeOut := getScratch(b.s.Out * b.s.Out * b.f)
	b.tl.outputs(b.y, b.t0, lo, hi, b.m, b.ms, b.f, b.ep, *edgeOut, b.stream)
	if b.stream {
		kernels.StreamFence()
	}
	putScratch(edgeOut)
}

// winoStrides returns the cell strides of V and M for a block of nt
// tiles: room for nt rounded up to whole micro-kernel tiles (mr rows),
// plus winoSkew.
func winoStrides(nt, mr, c, f int) (vs, ms int) {
	rows := roundUp(nt, mr)
	return rows*c + winoSkew, rows*f + winoSkew
}

// winoProduct computes cell xi's M_ξ [nt, F] = V_ξ [nt, C] · U_ξ [C, F]
// for a block of nt tiles, over rows ≥ nt rows (kernels.RowsToRun, once
// per block): where the engine would take a partial tile of rows into a
// scratch tile, whole micro-kernel tiles instead, the rows past nt set
// to zero and their results not read (the same multiply-adds, without
// the scratch buffers); on an engine with row tails, the nt rows.
func winoProduct(v []float32, vs int, m []float32, ms, xi, nt, rows, c, f int, u *kernels.PackedB) {
	clear(v[xi*vs+nt*c : xi*vs+rows*c])
	kernels.SgemmPackedB(rows, 1, v[xi*vs:], c, u, 0, m[xi*ms:], f)
}

// outputs transforms tiles t0+lo … t0+hi−1 of a block back from M (cell
// stride ms) into y [slices, OH, OW, F] and applies ep to their outputs,
// whole tiles in the transform itself (kernels.WinoScheme.OutputBias)
// while their outputs are in registers. Tiles over the bottom or right
// edge go through edgeOut (Out²·F floats). With stream, whole tiles are
// stored streaming (the caller fences).
func (tl winoTiles) outputs(y []float32, t0, lo, hi int, m []float32, ms, f int, ep epilogue, edgeOut []float32, stream bool) {
	s, out := tl.s, tl.s.Out
	output, outputBias := s.Output, s.OutputBias
	if stream {
		output, outputBias = s.OutputStream, s.OutputBiasStream
	}
	oh, ow := tl.g.Out[1], tl.g.Out[2]
	c := tl.cursor(t0 + lo)
	for t := lo; t < hi; t++ {
		img, oy, ox := c.take()
		if ep.skip != nil {
			tl.prefetchNext(ep.skip, oh*ow*f, img, oy, ox)
		}
		if oy+out <= oh && ox+out <= ow {
			at := ((img*oh+oy)*ow + ox) * f
			switch {
			case len(ep.bias) == 0 && ep.skip != nil:
				outputBias(y[at:], ow*f, f, m[t*f:], ms, f, nil, ep.skip[at:], false)
			case len(ep.bias) == 0:
				output(y[at:], ow*f, f, m[t*f:], ms, f)
			case ep.skip != nil:
				outputBias(y[at:], ow*f, f, m[t*f:], ms, f, ep.bias, ep.skip[at:], true)
			default:
				outputBias(y[at:], ow*f, f, m[t*f:], ms, f, ep.bias, nil, ep.relu)
			}
			continue
		}
		// A tile over the bottom or right edge: keep its valid outputs.
		s.Output(edgeOut, out*f, f, m[t*f:], ms, f)
		for a := 0; a < out && oy+a < oh; a++ {
			for bb := 0; bb < out && ox+bb < ow; bb++ {
				at := ((img*oh+oy+a)*ow + ox + bb) * f
				copy(y[at:at+f], edgeOut[(a*out+bb)*f:])
				ep.from(at).apply(y[at : at+f])
			}
		}
	}
}

// winoTiles numbers the m×m output blocks ("tiles") of a Winograd
// convolution across the batch: image slice by image slice (the batch
// and, for a 3-D convolution with a filter of depth 1, the depth), then
// block row and block column.
type winoTiles struct {
	s               *kernels.WinoScheme
	g               *kernels.ConvGeom
	tw, perImage, n int
	// ph, pw: the rows and columns of input the tiles of one slice span,
	// padding included (the size of a winoEdge's padded slice).
	ph, pw int
	// pro is applied to the input's values as windows are copied out of
	// it; with one, every window is read from a copy (see inputs).
	pro prologue
}

func newWinoTiles(s *kernels.WinoScheme, g *kernels.ConvGeom) winoTiles {
	th, tw := ceilDiv(g.Out[1], s.Out), ceilDiv(g.Out[2], s.Out)
	return winoTiles{s: s, g: g, tw: tw, perImage: th * tw, n: g.N * g.In[0] * th * tw,
		ph: (th-1)*s.Out + s.Tile, pw: (tw-1)*s.Out + s.Tile}
}

// winoEdge is where winoTiles.inputs reads the tiles over the padding
// from: a padded copy of the current image slice, made at its first
// such tile, from which that tile and the slice's others are
// transformed in place; or, for a slice too large to copy (over
// tune.WinoPadMax floats), one tile at a time gathered with zeros. A worker
// keeps one across its blocks, so that a slice split between two blocks
// is copied once. Get it from newEdge and hand it back with put.
type winoEdge struct {
	buf    *[]float32
	img    int // the slice buf holds (padded), or −1
	padded bool
}

// newEdge returns a winoEdge for tl's tiles, which copies whole padded
// slices where pad allows it. A pass spread over the workers
// (spreadBlock) gathers its tiles over the padding one at a time
// instead: each worker would copy the whole slice, the other worker's
// half of it from the other core. Measured on Zen 4 with the benchmark
// ResNet's batch-1 forward spread (SpreadMin 0), padded copies →
// tiles gathered (ten runs each of 2,000 calls, median µs of each 200):
// 108–111 → 98–100, and in a process where data crossing cores cost
// more, 178 → 134.
func (tl winoTiles) newEdge(pad bool) winoEdge {
	c := tl.g.C
	if n := tl.ph * tl.pw * c; pad && n <= tune.WinoPadMax {
		return winoEdge{buf: getScratch(n), img: -1, padded: true}
	}
	return winoEdge{buf: getScratch(tl.s.Tile * tl.s.Tile * c), img: -1}
}

func (e *winoEdge) put() { putScratch(e.buf) }

// padWindow copies the hgt × wid window of image slice img of x [slices,
// H, W, C] whose first cell is input cell (top, left) into dst (rows of
// wid·C), through tl.pro, with zeros where the window leaves the image:
// a whole padded slice (top and left the negative pads) or one tile
// over the padding (or, with a prologue, any tile).
func (tl winoTiles) padWindow(dst, x []float32, img, top, left, hgt, wid int) {
	g := tl.g
	c, h, wd := g.C, g.In[1], g.In[2]
	// Window rows [i0, i1) and columns [j0, j1) are inside the image.
	i0 := min(max(0, -top), hgt)
	i1 := min(max(h-top, i0), hgt)
	j0 := min(max(0, -left), wid)
	j1 := min(max(wd-left, j0), wid)
	row := wid * c
	clear(dst[:i0*row])
	for i := i0; i < i1; i++ {
		r := dst[i*row : (i+1)*row]
		clear(r[:j0*c])
		tl.pro.copy(r[j0*c:j1*c], x[((img*h+top+i)*wd+left+j0)*c:])
		clear(r[j1*c:])
	}
	clear(dst[i1*row : hgt*row])
}

// prefetchNext asks for the share of image slice img+1 of x (slices of
// n floats) that goes with the tile at (oy, ox) of slice img to be
// brought into L2: over a slice's tiles, the whole next slice. A pass
// that reads a slice as it transforms its tiles (its padded copy, the
// tiles in between, dy's blocks, the skip values an output transform
// adds) then finds the next one on its way. The ResNet's batch-128
// forward took 10.05 → 9.24 ms (AVX-512, lower quartiles of eight
// alternated runs) with the inputs' prefetch. The skip's took the
// 28×28 residual joins' output transforms (winoOutput43BiasSkipRelu-
// StreamAVX2, one core, 300 forwards profiled) from 2.6 to 1.2 ms a
// forward: their reads of the skip, four lines a tile, had waited on
// memory.
func (tl winoTiles) prefetchNext(x []float32, n, img, oy, ox int) {
	if img+1 >= tl.n/tl.perImage {
		return
	}
	per := roundUp(ceilDiv(n, tl.perImage), 16) // whole lines of 16 floats
	lo := (img+1)*n + (oy/tl.s.Out*tl.tw+ox/tl.s.Out)*per
	if hi := min(lo+per, (img+2)*n); lo < hi {
		kernels.Prefetch(x[lo:hi])
	}
}

// at returns tile t's image slice and the first output row and column
// of its block.
func (tl winoTiles) at(t int) (img, oy, ox int) {
	return t / tl.perImage, tl.s.Out * (t % tl.perImage / tl.tw), tl.s.Out * (t % tl.tw)
}

// tileCursor walks consecutive tiles in winoTiles' order without the
// divisions of at.
type tileCursor struct {
	img, oy, ox int
	out, w, h   int // block size, and the rows and columns the blocks span
}

// cursor returns a tileCursor at tile t.
func (tl winoTiles) cursor(t int) tileCursor {
	img, oy, ox := tl.at(t)
	out := tl.s.Out
	return tileCursor{img: img, oy: oy, ox: ox, out: out, w: tl.tw * out, h: tl.perImage / tl.tw * out}
}

// take returns the current tile's at and moves to the next tile.
func (c *tileCursor) take() (img, oy, ox int) {
	img, oy, ox = c.img, c.oy, c.ox
	if c.ox += c.out; c.ox == c.w {
		c.ox = 0
		if c.oy += c.out; c.oy == c.h {
			c.oy = 0
			c.img++
		}
	}
	return img, oy, ox
}

// inputs transforms the Tile×Tile input windows of tiles t0 … t0+nt−1 of x
// [slices, H, W, C]: tile t0+t's cell ξ goes to v[ξ·vs + t·C:][:C].
// Windows over the padding are read through e, and with a prologue
// every window: its values are made as a slice or a window is copied.
func (tl winoTiles) inputs(x []float32, t0, nt int, v []float32, vs int, e *winoEdge) {
	tile := tl.s.Tile
	g := tl.g
	c, h, wd := g.C, g.In[1], g.In[2]
	edge := *e.buf
	cur := tl.cursor(t0)
	for t := 0; t < nt; t++ {
		img, oy, ox := cur.take()
		tl.prefetchNext(x, h*wd*c, img, oy, ox)
		ih, iw := oy-g.Pad[1], ox-g.Pad[2]
		if ih >= 0 && iw >= 0 && ih+tile <= h && iw+tile <= wd && tl.pro.none() {
			tl.s.Input(v[t*c:], vs, x[((img*h+ih)*wd+iw)*c:], wd*c, c, c)
			continue
		}
		if e.padded {
			if e.img != img {
				tl.padWindow(edge, x, img, -g.Pad[1], -g.Pad[2], tl.ph, tl.pw)
				e.img = img
			}
			tl.s.Input(v[t*c:], vs, edge[(oy*tl.pw+ox)*c:], tl.pw*c, c, c)
			continue
		}
		// A tile over the padding, gathered with zeros on its own.
		tl.padWindow(edge, x, img, ih, iw, tile, tile)
		tl.s.Input(v[t*c:], vs, edge, tile*c, c, c)
	}
}

// roundUp returns a rounded up to a multiple of b.
func roundUp(a, b int) int { return ceilDiv(a, b) * b }
