package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/convnet-go/convnet/internal/env"
)

// Dispatch: every op family runs one path, decided here at start-up by
// the CPU's features and model (see Paths):
//
//	family    paths, fastest first where the CPU allows
//	sgemm     avx512, avx2, purego, ref (see below)
//	conv-c1   avx512, avx2, go   (ConvC1, ConvC1Grad, ConvC1x16, ConvC1Grad16)
//	winograd  avx512, avx2, go   (the Winograd tile transforms)
//	vector    avx512, avx2, go   (SumProducts, AdamUpdate, Repeat, MulAdd, Gemv, the bias/ReLU and pooling loops)
//
// Sgemm implementations:
//
//	avx512  14×32 AVX-512F assembly kernels (amd64 CPUs with AVX-512F)
//	avx2    6×16 AVX2+FMA assembly kernels (amd64 CPUs with AVX2 and FMA)
//	purego  4×4 Go kernel with the same packing and blocking (everywhere)
//	ref     SgemmRef, plain loops accumulating in float64 (everywhere)
//
// AVX-512 is chosen wherever the CPU has it (and BMI2 for the masked
// tails of the winograd and vector loops, vecWide; Repeat has no AVX-512
// loop and keeps its AVX2 one), also where 512-bit FMAs run at half rate
// (full512): Zen 4 issues them as two 256-bit halves, so the 14×32 tile
// brings no more FLOP per cycle than AVX2's 6×16, but it needs fewer
// loads and broadcasts per FMA, and the transforms and vector loops fewer
// instructions and no Go tails. Measured on Zen 4 (family 19h, 2 cores,
// shared with other work): sgemm 1024³ 188–194 GFLOP/s against AVX2's
// 172–174, the lecture's conv1 161 against 106 and its filter gradient
// 158–162 against 82–86 (BenchmarkSgemm); the Winograd transforms
// faster by up to 40% but for the output gradients at c ≥ 24, even or
// slower (BenchmarkWinoTransforms, one core); ConvC1 12.8 against
// 16.3–21.0 µs; the vector loops within the noise of each other, but for
// Gemv over packed slabs, which keeps its AVX2 loop at half rate
// (rateRules.gemv512; Paths lists it as "vector-gemv"). Model steps (go test
// -bench 'TrainStep|Infer' ./internal/benchmark, six alternations,
// medians; the build after had these rules but for the Gemv one): the
// ResNet's training step 65.2 → 57.8 ms, the lecture's 45.4 → 40.7;
// batch-128 inference 17.9 → 14.3 ms (ResNet) and 15.2 → 13.4
// (lecture). The Winograd AVX-512 transforms give the AVX2 ones' bits on the
// channels those take (whole groups of 8; the AVX2 path leaves the rest
// to Go). Where the rate is half, more rules differ: they are gathered,
// with what measured them, in rateRules. Apart from the rate, an L1d of
// at most 8 ways keeps aliasing rows of A out of place (thrashL1).
//
// On the default avx512 path, a product with n ≤ 16 columns of C
// (narrowN) does not run the 14×32 tile, which would compute 32 columns
// to keep 16. Measured per shape on Zen 5 (BenchmarkSgemmSmall, GFLOP
// per CPU-second, 14×32 vs the AVX2 6×16): N = 16 convolutions of the
// benchmark ResNet 23 vs 58 (K = 9), 71 vs 85 (K = 144), 33 vs 67 (a
// Winograd cell, K = 16), 68 vs 73 (a filter gradient, 144×16 over K =
// 20k), N = 10 dense layers 25 vs 30 and 1.5 vs 2.3 (M = 1); from N = 32
// on the 14×32 tile won every shape (N = 32: 114 to 170 vs 65 to 95;
// N = 1024 at M = 1: 11 vs 7). Such a product runs the 28×16 AVX-512
// tile (avx512-28x16) when A is transposed or K ≤ rules.narrowMaxK, and the
// AVX2 6×16 tile otherwise. The 28×16 tile reads A in place as 28 rows
// (transposed, as contiguous columns). Measured on one core
// (BenchmarkSgemmNarrow -cpu 1, GFLOP per CPU-second, 28×16 vs 6×16):
// 100k rows over K = 32 110 vs 69, K = 64 73 vs 74, K = 96 75 vs 84,
// K = 144 62 vs 90 (A streamed from memory as 28 rows at once); 25k rows
// over K = 9 110 vs 67, K = 16 125 vs 91, K = 32 150 vs 98; Aᵀ over K =
// 20k (a filter gradient chunk) 149 vs 95. The choice depends on the shape
// alone (n, k and whether A is transposed; SgemmPackedB's A never is, so
// PackB knows the engine from k and n), so the same shape always runs
// the same kernel and gives the same bits for a given GOMAXPROCS. Paths
// reports the two as the families "sgemm-n≤16,k≤32|Aᵀ" (k≤16 at half
// rate) and "sgemm-n≤16".
// A product of 16 or 32 rows and at most 32 columns of C (smallMN;
// Sgemm and SgemmSerial know m) runs a 16×16 AVX-512 tile
// (avx512-16x16, the family "sgemm-m,n≤32"), whatever K and A's
// layout: a Winograd filter gradient's cells over the tiles (Aᵀ, 16×16
// or 32×32 over K = 196) computed 28 rows to keep 16, or 42 to keep 32.
// Measured on one core (BenchmarkSgemmSmallTile -cpu 1, GFLOP per
// CPU-second, the engine the other rules pick vs 16×16): Aᵀ 16×16 over
// K = 196 20 (28×16) vs 103, Aᵀ 32×32 over K = 196 87 (14×32) vs 142,
// over K = 49 59 vs 98; A in place 16×16 over K = 9 6 (28×16) vs 18,
// over K = 144 52 (6×16) vs 128; 32×32 over K = 32 84 (14×32) vs 114,
// over K = 288 122 vs 173. (10×10 over K = 1024, a partial tile, ran 17
// on the 6×16 tile and 13 on the 16×16 one: rows that are no multiple
// of 16 keep the other rules.) The benchmark ResNet's 28×28×16 filter
// gradient (BenchmarkConvPlanned, both cores) went from 1.66–2.27 to
// 1.27–1.86 ms in three alternated runs.
//
// The environment variable CONVNET_KERNELS overrides the choice: avx512
// or avx2 pins sgemm (for every shape) and every family with that path (the others keep
// their AVX2 loops); purego or ref pins sgemm and turns every other
// family to its Go loops, so that no assembly runs. A name that is unknown or that this CPU or
// build cannot run does not stop the program: a one-line warning goes to
// stderr and the default is used instead.

const envKernels = env.Kernels

var impl string

func init() {
	name, warning := chooseImpl(env.KernelsChoice())
	if warning != "" {
		fmt.Fprintln(os.Stderr, warning)
	}
	if err := SetImpl(name); err != nil {
		panic(err) // chooseImpl only returns available names
	}
	pinned := env.KernelsChoice() != "" && warning == ""
	if !pinned {
		setNarrow()
	}
	if name == "purego" || name == "ref" {
		vecFMA = false
	}
	c1Wide = vecFMA && hasAVX512F && name != "avx2"
	vecWide = c1Wide && hasBMI2
	gemvWide = vecWide && (rules.gemv512 || pinned)
}

// c1Wide selects the AVX-512 loops of the conv-c1 family (over the AVX2
// ones, which vecFMA selects).
var c1Wide bool

// preferred is the default Sgemm implementation: the first of Available.
func preferred() string { return Available()[0] }

// narrowN is the widest C (in columns) that the default avx512 path
// hands to a narrower tile (see the dispatch notes above).
const narrowN = 16

// rateRules are the dispatch rules that depend on whether 512-bit FMAs
// run at full rate (full512). The full-rate choices are those measured
// fastest on Zen 5; each half-rate one was measured on Zen 4 (family
// 19h, 2 cores shared with other work), and its field says how.
// rulesFor gives them for either rate, rules holds this CPU's, and
// tests set either.
type rateRules struct {
	// narrowMaxK is the longest K (A not transposed) of a product of at
	// most narrowN columns that the 28×16 tile takes; longer ones run
	// AVX2's 6×16. At half rate, K = 32 and 64 ran 31–34 GFLOP/s on the
	// 28×16 tile against AVX2's 65–69 (BenchmarkSgemmNarrow -cpu 1);
	// with the A value broadcast in the FMA, 60–77 and 34–50 against
	// 78–90 and 71–81 (three runs, 100,352 rows).
	narrowMaxK int
	// gemv512 runs Gemv's AVX-512 loop (where vecWide allows it) rather
	// than its AVX2 one. At half rate, a dense layer's batch-1 product
	// over nn's packed 64-column slabs (3136×1024, streamed from L3) took
	// 178–181 µs against AVX2's 158–162 on one core (four runs each);
	// 176–214 against 166–182 with the loads apart from the FMAs, slower
	// still with software prefetching. The cause is not known.
	gemv512 bool
	// bPastHalfL1 makes the 14×32 tile read a non-transposed B in place
	// for products of any rows once a packed micro-panel of a K-panel
	// (KC×32 floats) would fill more than half the L1d (bRowsFromKC, set
	// by withRules; see avx512Engine for the measurements).
	bPastHalfL1 bool
}

// rulesFor returns the rate rules where 512-bit FMAs run at full rate
// (fullRate) or at half rate.
func rulesFor(fullRate bool) rateRules {
	if fullRate {
		return rateRules{narrowMaxK: 32, gemv512: true}
	}
	return rateRules{narrowMaxK: 16, bPastHalfL1: true}
}

// rules are this CPU's rate rules.
var rules = rulesFor(full512.ok)

// narrowWideFamily names the products that the 28×16 tile takes, as
// Paths lists them: "sgemm-n≤16,k≤32|Aᵀ" at full rate.
func narrowWideFamily() string {
	return fmt.Sprintf("sgemm-n≤%d,k≤%d|Aᵀ", narrowN, rules.narrowMaxK)
}

// smallMN is the most rows and columns of C of a product that runs the
// 16×16 AVX-512 tile (avx512-16x16) on the default avx512 path, its rows
// a multiple of 16 (see the dispatch notes above).
const smallMN = 32

// narrow and narrowWide are the engines of the products with n ≤
// narrowN (narrowWide for those with Aᵀ or k ≤ rules.narrowMaxK), nil when
// every product runs curEngine (an implementation pinned by SetImpl or
// CONVNET_KERNELS, or a default other than avx512); small is the engine
// of the products of 16 or 32 rows and at most smallMN columns, the
// 16×16 AVX-512 tile, set with them.
//
// The small rule is the same at both rates. At half rate the 16×16 tile
// once lost to AVX2's 6×16 (at most 16 columns) and to the 14×32 tile,
// while it broadcast each A value into a register of its own; with the
// broadcast in the FMA it won or tied on every shape (Zen 4, one core,
// BenchmarkSgemmSmallTile, three runs, GFLOP per CPU-second, 16×16;
// 14×32; AVX2's 6×16): Aᵀ 16×16 over K = 196 95–97; 26–29; 86–92; A
// 16×16 over K = 144 91; 26–28; 85–87, over K = 9 21; 9; 18–20; Aᵀ
// 32×32 over K = 196 108–109; 105–107; 93–98, over K = 49 87–95; 91–92;
// 82–83; A 32×32 over K = 32 85; 80–81; 68–71, over K = 288 109–110;
// 108–110; 100–101.
var narrow, narrowWide, small *engine

// setNarrow turns on the narrow-N rule when the implementation in use
// is avx512 and the avx2 engine is available.
func setNarrow() {
	narrow, narrowWide, small = nil, nil, nil
	if impl != "avx512" {
		return
	}
	for _, e := range archEngines() {
		if e.name == "avx2" {
			narrow = e
		}
	}
	if narrow != nil {
		narrowWide, small = avx512Tiles() // neither nil: avx512 runs only with AVX-512F
		sgemm, sgemmSerial = sgemmByShape, sgemmSerialByShape
	}
}

// engineFor is the engine that runs a product with n columns of C over
// k steps, A transposed or not (nil for "ref").
func engineFor(transA bool, k, n int) *engine {
	if narrow != nil && n <= narrowN {
		if transA || k <= rules.narrowMaxK {
			return narrowWide
		}
		return narrow
	}
	return curEngine
}

// engineForShape is engineFor with the rows of C known: a product of
// 16 or 32 rows and at most smallMN columns runs small. (SgemmPackedB
// does not know its rows when B is packed, and keeps engineFor's
// choice.)
func engineForShape(transA bool, m, k, n int) *engine {
	if small != nil && m > 0 && m%16 == 0 && m <= smallMN && n <= smallMN {
		return small
	}
	return engineFor(transA, k, n)
}

// sgemmByShape is Sgemm with the engine chosen by the shape
// (engineForShape).
func sgemmByShape(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	engineForShape(transA, m, k, n).sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmSerialByShape is SgemmSerial with the engine chosen by the shape.
func sgemmSerialByShape(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	engineForShape(transA, m, k, n).sgemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Path is the implementation one op family runs.
type Path struct {
	Family string // "sgemm", "conv-c1", "winograd" or "vector"
	Impl   string // "avx512", "avx2", "purego", "ref" or "go"
}

// Paths reports the path each op family runs, in the order of the table
// above (sgemm's is Impl), with narrowWideFamily and "sgemm-n≤16"
// after sgemm when the products of at most 16 columns run other engines
// (the narrow-N rule).
func Paths() []Path {
	vec := "go"
	if vecFMA {
		vec = "avx2"
	}
	c1, wide := vec, vec
	if c1Wide {
		c1 = "avx512"
	}
	if vecWide {
		wide = "avx512"
	}
	paths := []Path{{"sgemm", impl}}
	if narrow != nil {
		paths = append(paths, Path{narrowWideFamily(), narrowWide.name}, Path{"sgemm-n≤16", narrow.name},
			Path{"sgemm-m,n≤32", small.name})
	}
	paths = append(paths, Path{"conv-c1", c1}, Path{"winograd", wide}, Path{"vector", wide})
	if vecWide && !gemvWide {
		paths = append(paths, Path{"vector-gemv", vec})
	}
	return paths
}

// CPUModel describes what decided the dispatch: the CPU's vendor and
// family, and whether (and how) 512-bit FMAs were found to run at full
// rate, e.g. "AuthenticAMD family 1Ah: full-rate AVX-512 (by model)".
func CPUModel() string { return full512.why }

// chooseImpl picks the implementation for the CONVNET_KERNELS value want
// ("" = fastest available), with a warning when want cannot be used.
func chooseImpl(want string) (name, warning string) {
	best := preferred()
	if want == "" || want == best {
		return best, ""
	}
	if err := checkImpl(want); err != nil {
		return best, fmt.Sprintf("convnet: %s=%s: %v; using %s", envKernels, want, err, best)
	}
	return want, ""
}

// Impl reports the name of the Sgemm implementation in use: "avx512",
// "avx2", "purego" or "ref".
func Impl() string { return impl }

// Available lists the Sgemm implementations this CPU and build can run,
// widest first (the default is the first, or the second where AVX-512
// runs at half rate); the last two are always "purego" and "ref".
func Available() []string {
	var names []string
	for _, e := range archEngines() {
		names = append(names, e.name)
	}
	return append(names, "purego", "ref")
}

// SetImpl switches Sgemm to the named implementation (see Available),
// for every shape; "" restores the default (the preferred implementation
// with the narrow-N rule). It is meant for tests and benchmarks: it must
// not run concurrently with Sgemm calls. It returns an error, leaving the
// current implementation in place, when the name is unknown or the CPU
// or build cannot run it.
func SetImpl(name string) error {
	if name == "" {
		if err := SetImpl(preferred()); err != nil {
			return err
		}
		setNarrow()
		return nil
	}
	if err := checkImpl(name); err != nil {
		return err
	}
	switch name {
	case "ref":
		sgemm, sgemmSerial = SgemmRef, SgemmRef
		curEngine = nil
	case "purego":
		sgemm, sgemmSerial = pureGoEngine.sgemm, pureGoEngine.sgemmSerial
		curEngine = &pureGoEngine
	default:
		for _, e := range archEngines() {
			if e.name == name {
				sgemm, sgemmSerial = e.sgemm, e.sgemmSerial
				curEngine = e
			}
		}
	}
	impl, narrow, narrowWide, small = name, nil, nil, nil
	return nil
}

// checkImpl reports why name cannot be used here, or nil.
func checkImpl(name string) error {
	avail := Available()
	for _, n := range avail {
		if n == name {
			return nil
		}
	}
	list := strings.Join(avail, ", ")
	switch name {
	case "avx512", "avx2":
		for _, n := range archNames {
			if n == name {
				return fmt.Errorf("kernels: implementation %q is not supported by this CPU (available: %s)", name, list)
			}
		}
		return fmt.Errorf("kernels: implementation %q is not built into this binary (purego tag or not amd64; available: %s)", name, list)
	}
	return fmt.Errorf("kernels: unknown implementation %q, want avx512, avx2, purego or ref (available here: %s)", name, list)
}
