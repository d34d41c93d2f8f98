package nn

// The conv plan: every choice of how a convolution runs — pointwise
// GEMM, Winograd (and which scheme), the direct single-channel loop, or
// im2col + sgemm and its chunking — is made by planConv, one call per
// geometry and pass, into a convPlan that the executors in conv.go,
// winograd*.go and conv_c1.go follow. The sizes and thresholds those
// choices use are the fields of one tuning value, tune.
//
// Shape legend as in conv.go: N batch, C input channels, F output
// channels, P = KD·KH·KW·C the patch length, rows = N·OD·OH·OW.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/convnet-go/convnet/internal/env"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// tuning holds every size and threshold by which package nn picks and
// cuts its convolution, depthwise and matrix-product paths. The one value
// in use is tune, set by defaultTuning; tests that force a path or tiny
// chunks change its fields and restore the saved value afterwards.
type tuning struct {
	// PatchBytes (bytes) bounds the patch matrix of one chunk of a
	// stride > 1 input gradient (dy·wᵀ then Col2im). Sgemm packs it into
	// L2-sized blocks itself, so the chunk only needs to stay in L3 and
	// be long enough to amortise the packing of the filter. Measured on
	// the lecture's conv2 (GFLOP per CPU-second, forward / backprop-input):
	// 512 KiB 34–40 / 25–34, 2 MiB 43–55 / 33–50, 8 MiB 37–40 / 31–36.
	PatchBytes int

	// WorkerPatchBytes (bytes) bounds the patch matrix of one chunk of a
	// forward convolution: each worker fills and multiplies its own
	// chunks, so the chunk and the packed filter stay in that core's
	// 512 KiB L2 between Im2col and the GEMM. Measured on the lecture
	// model (convnet bench --runs 10, train step / inference ms): 2 MiB
	// chunks each split over both workers 105.4 / 41.3; per-worker chunks
	// of 128 KiB 103.2 / 36.3, 256 KiB 97.9 / 34.6, 384 KiB 98.5 / 34.8.
	WorkerPatchBytes int

	// InputGradChunkScale (a factor) scales WorkerPatchBytes for a
	// stride-1 input gradient run as a forward convolution. Its patch rows
	// are longer (the lecture's conv2: K = 5·5·64 against 5·5·32
	// forward), and chunks of as many rows as the forward pass's multiply
	// faster. Measured on that product (ms, two runs each, 2 threads):
	// 256 KiB 23.9 / 24.2, 512 KiB 21.3 / 21.3, 768 KiB 22.1 / 21.7,
	// 1 MiB 23.8 / 22.0.
	InputGradChunkScale int

	// FilterPatchBytes (bytes) bounds the patch matrix of one chunk of a
	// filter gradient. The chunks are summed in maxGroups fixed groups,
	// one worker each, so the chunks must be many (the lecture's conv1 at
	// 2 MiB has 5: groups of 3 and 2 chunks on two workers) and each
	// should stay near L2. Measured (ms at 2 threads, conv2 / conv1 filter
	// gradient): 2 MiB 24.7–26.0 / 6.9–8.1, 1 MiB 24.2–24.4 / 6.0–6.6,
	// 768 KiB 24.0–24.6 / 6.2–7.0, 256 KiB 26.7–27.0 / 5.8–6.1.
	FilterPatchBytes int

	// FlipMinChannels (channels) is the fewest input channels C for which
	// a stride-1 input gradient runs as the forward convolution of dy
	// with the flipped filter: its GEMM has C columns, and narrower
	// products run faster as dy·wᵀ followed by Col2im.
	FlipMinChannels int

	// PhaseMinChannels (channels) is the fewest input channels C for
	// which a strided input gradient (dilation 1) runs by sub-pixel
	// phases (conv_strided.go) instead of dy·wᵀ and Col2im: the phase
	// GEMMs have sw·C columns. math.MaxInt turns the path off.
	// BenchmarkStridedInputGrad (batch 128, 28×28 input, 3×3 stride 2 to
	// 32 channels, a shared Zen 5 at load average 2, medians of five or
	// six alternating runs, ms, phases against col2im): 16 channels 1.74
	// against 2.07, 8 channels 1.31 against 1.40, 6 channels 1.43
	// against 1.20, 4 channels 1.38 against 0.92, 3 channels 1.36
	// against 0.79.
	PhaseMinChannels int

	// PhasePatchBytes (bytes) bounds the patches (and the products) of
	// one piece of a sub-pixel input gradient, gathered and multiplied by
	// one worker; pieces run over the images of the batch, so small
	// images still give long products. BenchmarkStridedInputGrad on a
	// shared Zen 5 (GFLOP/cpu-s, medians of six alternating runs, the
	// pieces then in row-phase order): ResNet 3×3 with pieces of 32, 64,
	// 128, 256 KiB 67.8, 84.1, 83.9, 82.0; 14×14×32 → 64 91.1, 96.6,
	// 109.2, 108.9. 128 KiB pieces in image order against pieces of one
	// image each: 14×14×32 → 64 105.9 against 80.5, the ResNet's 1×1
	// 41.4 against 40.9, its 3×3 76.0 against 76.9 (ten runs).
	PhasePatchBytes int

	// Winograd enables the Winograd path (false under
	// CONVNET_WINOGRAD=off; the "ref" Sgemm never takes it).
	Winograd bool

	// WinoMinChannels (channels) is the fewest input and output channels
	// for which the transforms of a 5×5 Winograd convolution pay for
	// themselves.
	WinoMinChannels int

	// Wino3MinChannels (channels) is the same for 3×3 convolutions, whose
	// transforms are as costly per tile but save less (36 products for
	// 16 outputs of 9 taps against F(2×2, 5×5)'s 36 for 4 outputs of 25).
	Wino3MinChannels int

	// Wino3ChannelMultiple (channels): a 3×3 convolution takes Winograd
	// only when its input and output channels are multiples of this, the
	// width of the AVX2 transforms; the channels past the last whole
	// group run through Go loops, which cost more than the saving.
	// Measured (GFLOP/cpu-s, best of five alternating runs, batch 128,
	// 28×28, forward / filter gradient): 8→8 channels Winograd 15.9 /
	// 25.4 against im2col 11.0 / 13.8, but 12→12 Winograd 6.9 / 9.7
	// against 16.9 / 25.5. Where the transforms do every channel in
	// assembly (kernels.WinoMaskedTails, the AVX-512 path) the filter
	// gradient skips the rule; the forward pass keeps it (its narrow
	// products lose, not the transforms). BenchmarkWino3OddChannels,
	// best of five on a shared Zen 5, forward / filter gradient, Winograd
	// against im2col: 12→12 10.5 / 59.3 against 33.4 / 33.8, 20→20
	// 42.1 / 114.2 against 64.6 / 66.6 (CONVNET_KERNELS=avx2 in the same
	// loop: filter gradient 11.8 and 29.0 against 34.0 and 46.3).
	Wino3ChannelMultiple int

	// WinoBlock (tiles of F(2×2, 5×5); other schemes hold as many
	// products: 36/cells as many tiles) is the number of tiles a worker
	// transforms and multiplies together in a forward pass. Measured on
	// the lecture's conv2 forward and input gradient (GFLOP per
	// CPU-second, F(4×4), three runs): blocks of 18 tiles 125–151, 24
	// tiles 123–140, 36 tiles 134–148, 54 tiles 137–155 (WinoBlock 32 to
	// 96); F(2×2) blocks of 24 to 72 tiles measured alike. Blocks are
	// whole multiples of the micro-kernel's rows (kernels.TileRowsFor).
	WinoBlock int

	// WinoSplitMin is the fewest multiply-adds (tiles · cells · C · F)
	// for which a Winograd convolution of fewer blocks than workers (a
	// batch of one) shares each block's transforms and products out among
	// the workers (winogradSplit) instead of running on one goroutine. The
	// three phases split different axes (tiles, cells, tiles), so each
	// hands most of its output to the other core, and a line written on
	// one core and read on the other costs far more on these VMs than the
	// arithmetic saved on small layers. Measured on Zen 5 at 2 threads
	// (`go test -run '^$' -bench WinoBatch1 ./nn`, µs, split → one
	// goroutine, two runs): 28×28×16 3×3/16 (0.45 M multiply-adds) 45–46
	// → 20–21; 14×14×32 3×3/32 (0.59 M) 71 → 34–35; 14×14×32 5×5/64
	// (3.6 M) 172 → 175–181; 28×28×64 3×3/64 (7.2 M) 181–188 → 211–213.
	// Below 4 M the one goroutine wins.
	WinoSplitMin int

	// SpreadMin is the fewest multiply-adds of a convolution of fewer
	// blocks than workers (a batch of one) that may spread its work over
	// the workers instead of running on one goroutine: a Winograd pass
	// of fewer than WinoSplitMin its tiles (spreadBlock), an im2col one
	// of one chunk and fewer than spreadMax its rows. It runs the way
	// that has been taking less time, trying the other now and then
	// (wayTimer), because which way wins changes on these VMs in phases
	// of minutes. Measured on Zen 4 at 2 threads (`go test -run '^$'
	// -bench 'Infer/model=(resnet|lecture)/batch=1$'
	// ./internal/benchmark`, alternated runs, ms), the ResNet's forward:
	// one goroutine 0.136–0.144; its Winograd layers (28×28×16, 0.45 M
	// multiply-adds over 49 tiles; 14×14×32, 0.59 M over 16) always
	// spread 0.106–0.112, on the timer 0.108–0.111; with its stride-2
	// 3×3 layer's rows (0.90 M) on the timer too, 0.098–0.103 (nine runs
	// of a quiet phase; AVX2 alike). In a slow phase of about a minute
	// the same binaries took 0.137–0.144, 0.162 and 0.128–0.145; on
	// another day always spreading took 0.133 to
	// 0.105–0.111 in some runs and to 0.16–0.21 in others. The lecture's
	// forward, whose conv2 is 2.1 M over 16 tiles, went from 0.180 to
	// 0.149 always spread (medians; in its slowest runs about even) and
	// is the same on the timer. The cause of the slow phases was not
	// found (the helper stayed awake, the threads on two CPUs, and a
	// cache line passed between the cores in 100–130 ns a round trip in
	// both phases). Below 256 K the two ways were not measured.
	SpreadMin int

	// WinoStreamMin is the fewest output values (N·OH·OW·F) of a forward
	// Winograd pass whose output transforms store streaming
	// (kernels.WinoScheme.OutputStream: straight to memory, no read of
	// the lines first). Outputs larger than the cores' caches go out to
	// memory anyway, and a plain store first reads each line in; smaller
	// ones are read back from the caches by the next layer. 1 Mi values
	// (4 MiB) is twice the L2 of the two cores of the machines measured.
	// Measured on Zen 4 (`go test -run '^$' -bench 'Infer/model=(resnet|
	// lecture)/batch=128$|TrainStep/model=(resnet|lecture)'
	// ./internal/benchmark`, five runs alternated, lower quartiles, ms),
	// plain → streaming, AVX-512: the ResNet's forward 11.24 → 9.57, its
	// train step 43.09 → 39.46, the lecture's forward 10.55 → 10.10, its
	// step 32.30 → 31.88; AVX2 (GODEBUG=cpu.avx512f=off): 12.34 → 10.22,
	// 49.16 → 43.65, 11.54 → 10.95, 35.71 → 34.71. Streaming from 512 Ki
	// values (the ResNet's 14×14×32 layers too) measured the same as from
	// 1 Mi.
	WinoStreamMin int

	// C1MinPer (multiply-adds) and Im2colMinRows (patch rows) are the
	// least work per worker for which a single image's single-channel
	// convolution shares out its output rows, and the patch rows of an
	// im2col convolution with fewer chunks than workers are copied by
	// several workers. Smaller splits hand each core's rows to the other
	// (the GEMM or the next layer reads them all), which costs more on
	// these VMs than the copy or the products saved. ResNet batch-1
	// inference (`go test -run '^$' -bench 'Infer/model=resnet/batch=1$'
	// -benchtime 5000x ./internal/benchmark`, five alternations, Zen 5):
	// 152–160 µs with 32 K and 32, 132–151 µs with 32 K and 1024, 124–137
	// µs with 512 K and 1024 (one goroutine alone: 122–126 µs).
	C1MinPer, Im2colMinRows int

	// WinoGradBlock (tiles of F(2×2, 5×5), scaled like WinoBlock) is the
	// K of the products of one block of a Winograd filter gradient. Long
	// products multiply faster, though V and Dŷ of a block (36·(C+F)
	// floats per tile, 2.6 MiB at 196 tiles of conv2's 32 + 64 channels)
	// outgrow L2. Measured on the lecture's conv2 (fastest of six runs in
	// each of three sessions on a busy machine, ms at 2 threads): 32 tiles
	// 19.1; 49 16.3; 98 12.9, 14.1, 15.1; 196 13.3, 14.4, 13.3; 256 13.8,
	// 14.8; 392 16.5. 196 tiles are four of conv2's 7×7-tile images, and
	// its 6272 tiles make 32 blocks, four per group.
	WinoGradBlock int

	// WinoPadMax is the most floats a padded copy of one image slice
	// (the rows and columns its tiles span, times C) may take for the
	// Winograd input transforms to read the tiles over the padding from
	// it (winoEdge); a larger slice, or 0, gathers each such tile with
	// zeros on its own. 64 Ki floats is a quarter of a 1 MiB L2.
	WinoPadMax int

	// WinoScheme, when not nil (tests), is the scheme every Winograd
	// convolution with its filter size uses instead of the one with the
	// fewest products.
	WinoScheme *kernels.WinoScheme

	// DepthwisePerPixel turns the depthwise row path (depthwise_rows.go)
	// off, for tests of the per-pixel loop.
	DepthwisePerPixel bool

	// RowsScratchFloats (floats) bounds the weights a depthwise row path
	// expands over a run (forward) and its per-tap accumulators (filter
	// gradient): 1 MiB, far above what 3x3 or 5x5 windows need
	// (9·64·15 floats for the lecture's five RGB filters), so only huge
	// windows (box:1024 needs 1024²·64·3) are split into chunks of taps.
	RowsScratchFloats int

	// MatmulSwap enables the transposed evaluation (b·aᵀ)ᵀ of a·bᵀ when a
	// has at most SwapMaxRows rows (rows), b at least SwapRatio times as
	// many, and the products are at least 4m long (the packing saved
	// grows with n·k, the transpose added with m·n). Measured on the
	// current sgemm engines (Zen 5, AVX-512, 2 threads; µs, a [m,k], b
	// [n,k], as is → swapped, transpose included): m=128 n=3136 k=1024
	// (the lecture's fc input gradient) 2670–2835 → 2589–2650 (one run
	// 3369); m=32 n=3136 k=1024 922–1000 → 579–590; but m=128 n=2048
	// k=1024 1652–1712 → 2527–2810, m=128 n=1024 k=512 387–423 →
	// 813–856, m=64 n=1024 k=256 105–107 → 632–658, m=32 n=1024 k=2048
	// 601–631 → 705–733; m=64 n=3136 k=1024 and m=64 n=600 k=300 even.
	// The swap wins only for the tallest b here, so SwapRatio is 24.
	// `go test -run '^$' -bench MatMulSwap ./nn` reruns them; on a busier
	// host the lecture's shape once went the other way (2975–3027 →
	// 3879–3924 µs) while run alone it gave 2519–2561 → 2308–2332.
	// The swap is taken only where Sgemm then reads b in place
	// (kernels.SgemmReadsAInPlace): on Zen 4's 8-way L1d the 14×32 tile
	// packs b (rows 4 KiB apart thrash it), and there the lecture's shape
	// ran 4.71–5.03 ms swapped against 4.62–4.65 as is (row tails in
	// neither); with the 6×16 AVX2 tile the swap still reads b in place.
	MatmulSwap             bool
	SwapMaxRows, SwapRatio int
}

// defaultTuning is the tuning in use unless a test changes it.
func defaultTuning() tuning {
	return tuning{
		PatchBytes:           2 << 20,
		WorkerPatchBytes:     256 << 10,
		InputGradChunkScale:  2,
		FilterPatchBytes:     1 << 20,
		FlipMinChannels:      16,
		PhaseMinChannels:     8,
		PhasePatchBytes:      128 << 10,
		Winograd:             !env.WinogradOff(),
		WinoMinChannels:      8,
		Wino3MinChannels:     8,
		Wino3ChannelMultiple: 8,
		WinoBlock:            96,
		WinoSplitMin:         1 << 22,
		SpreadMin:            1 << 18,
		WinoStreamMin:        1 << 20,
		C1MinPer:             1 << 19,
		Im2colMinRows:        1024,
		WinoGradBlock:        196,
		WinoPadMax:           1 << 16,
		DepthwisePerPixel:    false,
		RowsScratchFloats:    1 << 18,
		MatmulSwap:           true,
		SwapMaxRows:          128,
		SwapRatio:            24,
	}
}

// tune is the tuning in use.
var tune = defaultTuning()

// maxGroups bounds the partial sums a filter gradient is split into; the
// split is fixed, independent of the worker count.
const maxGroups = 8

// convPass is the product of a convolution a plan is for.
type convPass int

const (
	passForward    convPass = iota // y from x and w
	passInputGrad                  // dx from w and dy
	passFilterGrad                 // dw from x and dy
)

var passNames = [...]string{"forward", "input-grad", "filter-grad"}

// convAlgo is how a plan computes its product.
type convAlgo int

const (
	// algoClear: an empty product (no output positions, channels or
	// taps): the output is zeros.
	algoClear convAlgo = iota
	// algoPointwise: 1×1, stride 1, unpadded: the input is its own patch
	// matrix, one GEMM.
	algoPointwise
	// algoWinograd: stride-1 3×3 or 5×5 with enough channels, by scheme.
	algoWinograd
	// algoDirectC1: one input channel, stride 1, a multiple of 16
	// filters (kernels.ConvC1 and ConvC1x16).
	algoDirectC1
	// algoIm2col: patch chunks times the filter, one GEMM per chunk.
	// Forward: each worker fills and multiplies whole chunks against a
	// filter packed once (shared), unless there are fewer than two chunks
	// per worker, then each chunk is filled and multiplied by all of
	// them (split). Filter gradient: the chunks summed in groups, one
	// worker per group (unless split likewise).
	algoIm2col
	// algoFlip: a stride-1 input gradient run as the forward convolution
	// of dy with the flipped filter over geometry back (plan inner).
	algoFlip
	// algoCol2im: an input gradient as dpatches = dy·wᵀ per chunk,
	// scattered back with Col2im.
	algoCol2im
	// algoPhases: a strided input gradient (dilation 1) as one stride-1
	// product per sub-pixel phase of dx (conv_strided.go).
	algoPhases
)

var algoNames = [...]string{"clear", "pointwise", "winograd", "direct-c1", "im2col", "flip", "col2im", "phases"}

// convPlan is how one convolution product runs: the algorithm and what
// it needs (a Winograd scheme and block, or the chunks of the patch
// matrix). It depends on the geometry, the pass, tune and the kernels in
// use; only whether the im2col chunks are split over the workers and a
// small forward Winograd pass's block (spreadBlock) consult the worker
// count (split and shared forward chunks give the same values, and so do
// Winograd blocks of any size; a filter gradient's chunks are summed in
// another order when split).
type convPlan struct {
	pass convPass
	algo convAlgo

	scheme *kernels.WinoScheme // algoWinograd
	block  int                 // algoWinograd: tiles per block
	spread int                 // algoWinograd forward: the block of the pass spread over the workers (spreadBlock), 0 if it never is
	ways   *wayTimer           // forward algoWinograd with spread, algoIm2col split: chooses call by call between one goroutine and spread
	stream bool                // algoWinograd forward: outputs stored streaming (tune.WinoStreamMin)

	c1 c1Plan // algoDirectC1: the padded image and its taps

	chunks   [][2]int // algoIm2col, algoCol2im: patch rows [lo, hi)
	perImage int      // chunks per image (0: chunks of whole images)
	longest  int      // rows of the longest chunk (algoPhases: piece)
	split    bool     // algoIm2col: each chunk split over the workers; algoWinograd: phases shared out (winogradSplit)
	groups   int      // filter-gradient algoIm2col: fixed partial sums

	back  kernels.ConvGeom // algoFlip: the forward geometry over dy
	backF int              // algoFlip: its output channels (C)
	inner *convPlan        // algoFlip: its forward plan

	phases      []inputPhase // algoPhases: the row phases of dx with input cells
	pieces      []phasePiece // algoPhases: the work of one image
	phaseCols   int          // algoPhases: columns of the products, sw·C
	subFloats   int          // algoPhases: the sub-filters' floats
	patchFloats int          // algoPhases: the largest piece's patches
}

// planConv returns the plan of pass over geometry g with f the filter's
// last dimension (output channels). It is the one place where a
// convolution's path is chosen.
func planConv(pass convPass, g *kernels.ConvGeom, f int) *convPlan {
	p := planOf(pass, g, f)
	if w := planLog.Load(); w != nil {
		explainOnce(*w, pass, g, f, p)
	}
	return p
}

// spreadBlock returns the block (in tiles) of a forward Winograd pass of
// tiles tiles planned as blocks of block tiles, with workers workers. A
// pass of fewer blocks than workers and too little work to share each
// block's phases out (tune.WinoSplitMin) would run on one goroutine;
// from tune.SpreadMin multiply-adds on (planChunked checks both), its
// tiles are spread instead over blocks of equal size (give or take a
// tile), at most one a worker and of at least spreadMinTiles, each
// worker transforming and multiplying its own tiles, so that no phase's
// output crosses to the other core. Tiles' outputs do not depend on
// their block; a block need not be whole micro-kernel tiles (an engine
// without row tails multiplies the rest of its last tile as zeros).
// See tune.SpreadMin for what it was measured to save.
func spreadBlock(tiles, block, workers int) int {
	if workers < 2 || ceilDiv(tiles, block) >= workers {
		return block
	}
	n := min(workers, tiles/spreadMinTiles)
	if n < 2 {
		return block
	}
	return ceilDiv(tiles, n)
}

// spreadMax is the most multiply-adds of a one-chunk im2col convolution
// that may spread its rows over the workers (wayTimer): from about there
// kernels.Sgemm shares out a product itself.
const spreadMax = 1 << 20

// spreadMinTiles is the fewest tiles of a block that spreadBlock makes:
// the lecture's 16 tiles at batch 1 on two workers, the smallest spread
// measured.
const spreadMinTiles = 8

func planOf(pass convPass, g *kernels.ConvGeom, f int) *convPlan {
	return planChunked(pass, g, f, tune.WorkerPatchBytes)
}

// planChunked is planOf with forward im2col chunks of at most
// forwardBytes.
func planChunked(pass convPass, g *kernels.ConvGeom, f, forwardBytes int) *convPlan {
	p := &convPlan{pass: pass}
	if g.OutPositions() == 0 || f == 0 || g.PatchLen() == 0 {
		return p // algoClear
	}
	if pointwise(g) {
		p.algo = algoPointwise
		return p
	}
	switch pass {
	case passForward, passFilterGrad:
		if s := winoScheme(pass, g, f); s != nil {
			p.algo, p.scheme = algoWinograd, s
			if pass == passForward {
				// Blocks hold about the same number of products whatever
				// the scheme, in whole micro-kernel tiles (a tile's
				// outputs do not depend on the block it is in) of the
				// engine that runs F columns, but for a small pass
				// spread over the workers.
				mr := kernels.TileRowsFor(g.C, f)
				p.block = max(mr, tune.WinoBlock*kernels.WinoCells/s.Cells()/mr*mr)
				// Outputs too large for the caches are stored streaming.
				p.stream = kernels.WinoStreams() && g.OutPositions()*f >= tune.WinoStreamMin
				// A pass of fewer blocks than workers (a batch of one)
				// shares each block's phases out (split) from
				// WinoSplitMin multiply-adds; from SpreadMin it
				// runs on one goroutine or spreads its tiles over the
				// workers, whichever has been taking less time (ways);
				// below, on one goroutine.
				tiles := newWinoTiles(s, g).n
				if ceilDiv(tiles, p.block) < parallel.Workers() {
					switch work := tiles * s.Cells() * g.C * f; {
					case work >= tune.WinoSplitMin:
						p.split = true
					case work >= tune.SpreadMin:
						if b := spreadBlock(tiles, p.block, parallel.Workers()); b < p.block {
							p.spread, p.ways = b, new(wayTimer)
						}
					}
				}
			} else {
				p.block = max(1, tune.WinoGradBlock*kernels.WinoCells/s.Cells())
			}
			return p
		}
		if useConvC1(g, f) {
			p.algo, p.c1 = algoDirectC1, newC1Plan(g, f)
			return p
		}
		p.algo = algoIm2col
		if pass == passForward {
			p.chunksOf(g, forwardBytes)
			p.split = len(p.chunks) < 2*parallel.Workers()
			if work := g.OutPositions() * g.PatchLen() * f; p.split && parallel.Workers() > 1 && work >= tune.SpreadMin && work < spreadMax {
				p.ways = new(wayTimer)
			}
		} else {
			p.chunksOf(g, tune.FilterPatchBytes)
			p.groups = min(len(p.chunks), maxGroups)
			p.split = p.groups < 2*parallel.Workers()
		}
		return p
	}
	// The input gradient. With stride 1 it is itself a convolution: with
	// k' = K−1−k the input cell i = o − pad + k·d reads o = i − pad' +
	// k'·d, pad' = (K−1)·d − pad, so dx = conv(dy, w') with w'[k', f, c] =
	// w[K−1−k', c, f], planned as a forward pass with chunks
	// InputGradChunkScale times as large.
	if g.Stride == [3]int{1, 1, 1} && g.C >= tune.FlipMinChannels {
		p.algo = algoFlip
		p.back = flippedGeom(g, f)
		p.backF = g.C
		p.inner = planChunked(passForward, &p.back, g.C, tune.InputGradChunkScale*tune.WorkerPatchBytes)
		return p
	}
	// Strided: one stride-1 product per sub-pixel phase of dx.
	if g.Stride != [3]int{1, 1, 1} && g.Dilation == [3]int{1, 1, 1} && g.C >= tune.PhaseMinChannels {
		if p.planPhases(g, f, tune.PhasePatchBytes) {
			return p
		}
		p = &convPlan{pass: pass}
	}
	p.algo = algoCol2im
	p.chunksOf(g, tune.PatchBytes)
	return p
}

// flippedGeom is the geometry of a stride-1 input gradient of g run as
// a forward convolution over dy (c channels) with the flipped filter:
// input and output sizes swapped, pads (K−1)·d − pad.
func flippedGeom(g *kernels.ConvGeom, c int) kernels.ConvGeom {
	back := kernels.ConvGeom{N: g.N, C: c, In: g.Out, K: g.K, Out: g.In,
		Stride: g.Stride, Dilation: g.Dilation}
	for i := range back.Pad {
		back.Pad[i] = (g.K[i]-1)*g.Dilation[i] - g.Pad[i]
	}
	return back
}

// chunksOf sets the chunks of g's patch matrix, each at most bytes.
func (p *convPlan) chunksOf(g *kernels.ConvGeom, bytes int) {
	p.chunks, p.perImage, p.longest = planChunksOf(g, bytes)
}

// winoScheme returns the Winograd scheme for g with f output channels,
// or nil where the path does not apply: stride 1, no dilation, a K×K
// window of a scheme (a 3-D window of depth 1), at least
// WinoMinChannels (5×5) or Wino3MinChannels (3×3) input and output
// channels, for 3×3 multiples of Wino3ChannelMultiple (but for the filter
// gradient where kernels.WinoMaskedTails). Of the schemes for that K it takes the one with the fewest
// products (tiles × cells; F(4×4) wastes more of its tiles on small or
// odd outputs; the lecture's 14×14 output takes 16 tiles of 64 cells
// against 49 of 36), the first listed on a tie.
func winoScheme(pass convPass, g *kernels.ConvGeom, f int) *kernels.WinoScheme {
	k := g.K[1]
	minCh := tune.WinoMinChannels
	if k == 3 {
		minCh = tune.Wino3MinChannels
	}
	if !tune.Winograd || kernels.Impl() == "ref" || g.K[0] != 1 || g.K[2] != k ||
		g.Stride != [3]int{1, 1, 1} || g.Dilation[1] != 1 || g.Dilation[2] != 1 || g.Pad[0] != 0 ||
		g.C < minCh || f < minCh {
		return nil
	}
	if k == 3 && !(pass == passFilterGrad && kernels.WinoMaskedTails()) &&
		(g.C%tune.Wino3ChannelMultiple != 0 || f%tune.Wino3ChannelMultiple != 0) {
		return nil
	}
	if s := tune.WinoScheme; s != nil {
		if s.K == k {
			return s
		}
		return nil
	}
	var best *kernels.WinoScheme
	bestWork := 0
	for _, s := range kernels.WinoSchemes {
		if s.K != k {
			continue
		}
		work := ceilDiv(g.Out[1], s.Out) * ceilDiv(g.Out[2], s.Out) * s.Cells()
		if best == nil || work < bestWork {
			best, bestWork = s, work
		}
	}
	return best
}

// String describes the plan, e.g. "winograd F(4x4,3x3), blocks of 84
// tiles" or "im2col+sgemm, 98 chunks of ≤ 455 rows, packed filter shared".
func (p *convPlan) String() string {
	switch p.algo {
	case algoWinograd:
		s := fmt.Sprintf("winograd %s, blocks of %d tiles", p.scheme.Name, p.block)
		switch {
		case p.spread > 0:
			s += fmt.Sprintf(" on one goroutine, or of %d spread over the workers, whichever has been faster", p.spread)
		case p.split:
			s += ", each block's phases shared out among the workers"
		}
		if p.stream {
			s += ", outputs stored streaming"
		}
		return s
	case algoIm2col:
		s := fmt.Sprintf("im2col+sgemm, %d chunks of ≤ %d rows", len(p.chunks), p.longest)
		switch {
		case p.split && p.ways != nil:
			s += ", each on one goroutine or its rows spread over the workers, whichever has been faster"
		case p.split:
			s += ", each split over the workers"
		case p.pass == passFilterGrad:
			s += fmt.Sprintf(", summed in %d groups", p.groups)
		default:
			s += ", packed filter shared"
		}
		return s
	case algoFlip:
		return fmt.Sprintf("flipped filter, forward over dy %s: %v", geomString(&p.back, p.backF), p.inner)
	case algoDirectC1:
		return "direct-c1, " + p.c1.String()
	case algoCol2im:
		return fmt.Sprintf("dy·wᵀ then col2im, %d chunks of ≤ %d rows", len(p.chunks), p.longest)
	case algoPhases:
		return p.phasesString()
	}
	return algoNames[p.algo]
}

// geomString describes geometry g: input [N, D, H, W, C] (D left out
// when 1), window, stride, dilation (when not 1), pads before, and the
// filter's last dimension f.
func geomString(g *kernels.ConvGeom, f int) string {
	dims := func(v [3]int) string {
		if v[0] == 1 {
			return fmt.Sprintf("%dx%d", v[1], v[2])
		}
		return fmt.Sprintf("%dx%dx%d", v[0], v[1], v[2])
	}
	s := fmt.Sprintf("N=%d in %sx%d k %s", g.N, dims(g.In), g.C, dims(g.K))
	if g.Stride != [3]int{1, 1, 1} {
		s += " stride " + dims(g.Stride)
	}
	if g.Dilation != [3]int{1, 1, 1} {
		s += " dilation " + dims(g.Dilation)
	}
	if g.K[0] == 1 && g.Pad[0] == 0 {
		s += fmt.Sprintf(" pad %d,%d", g.Pad[1], g.Pad[2])
	} else {
		s += fmt.Sprintf(" pad %d,%d,%d", g.Pad[0], g.Pad[1], g.Pad[2])
	}
	return s + fmt.Sprintf(" → %s F=%d", dims(g.Out), f)
}

// planLog is where plans are explained (nil: nowhere); explained holds
// the (pass, geometry, f) already written there.
var (
	planLog   atomic.Pointer[io.Writer]
	planMu    sync.Mutex
	explained = map[planKey]bool{}
)

type planKey struct {
	pass convPass
	g    kernels.ConvGeom
	f    int
}

func init() {
	if env.DebugOn("plan") {
		ExplainPlans(os.Stderr)
	}
}

// ExplainPlans makes every convolution (Conv1D/2D/3D, their gradients
// and Conv2DBiasRelu) write one line to w the first time a pass over a
// geometry is planned: the pass, the geometry and the chosen path, e.g.
//
//	conv plan: forward N=128 in 28x28x16 k 3x3 pad 1,1 → 28x28 F=16: winograd F(4x4,3x3), blocks of 84 tiles
//
// nil turns it off. CONVNET_DEBUG=plan sets it to standard error at
// start. Lines already written are not repeated after a change of w.
func ExplainPlans(w io.Writer) {
	if w == nil {
		planLog.Store(nil)
		return
	}
	planLog.Store(&w)
}

// explainOnce writes p's line to w unless it was written before.
func explainOnce(w io.Writer, pass convPass, g *kernels.ConvGeom, f int, p *convPlan) {
	planMu.Lock()
	defer planMu.Unlock()
	k := planKey{pass, *g, f}
	if explained[k] {
		return
	}
	explained[k] = true
	fmt.Fprintf(w, "conv plan: %s %s: %v\n", passNames[pass], strings.TrimSpace(geomString(g, f)), p)
}
