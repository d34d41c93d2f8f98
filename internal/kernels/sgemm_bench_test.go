package kernels

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/convnet-go/convnet/internal/cputime"
)

// benchShapes: square sizes and the lecture model's GEMMs at batch 128
// (conv as patches[M, K] · filter[K, N]; backward passes with the same
// matrices transposed).
var benchShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
	refToo         bool // small enough for SgemmRef
}{
	{name: "64", m: 64, n: 64, k: 64, refToo: true},
	{name: "256", m: 256, n: 256, k: 256, refToo: true},
	{name: "1024", m: 1024, n: 1024, k: 1024},
	{name: "conv1", m: 128 * 28 * 28, n: 32, k: 5 * 5 * 1},                       // forward
	{name: "conv1-dW", transA: true, m: 5 * 5 * 1, n: 32, k: 128 * 28 * 28},      // patchesᵀ·dY
	{name: "conv1-dW-chunk", transA: true, m: 5 * 5 * 1, n: 32, k: 26 * 28 * 28}, // one im2col chunk of it
	{name: "conv2", m: 128 * 14 * 14, n: 64, k: 5 * 5 * 32},                      // forward
	{name: "conv2-dW", transA: true, m: 5 * 5 * 32, n: 64, k: 128 * 14 * 14},     // patchesᵀ·dY
	{name: "conv2-dX", transB: true, m: 128 * 14 * 14, n: 5 * 5 * 32, k: 64},     // dY·filterᵀ
	{name: "conv2-dX-flip", m: 128 * 14 * 14, n: 32, k: 5 * 5 * 64},              // dY patches · flipped filter (stride-1 input gradient)
	{name: "fc", m: 128, n: 1024, k: 3136},                                       // x·W
	{name: "fc-dX", transB: true, m: 128, n: 3136, k: 1024},                      // dY·Wᵀ
	{name: "fc-dX-swap", transB: true, m: 3136, n: 128, k: 1024},                 // (W·dYᵀ)ᵀ, as nn.MatMul runs dY·Wᵀ
	{name: "fc-dW", transA: true, m: 3136, n: 1024, k: 128},                      // xᵀ·dY
}

// BenchmarkSgemm reports GFLOP/s (2·m·n·k per call) for every available
// implementation: go test -run '^$' -bench Sgemm ./internal/kernels/
func BenchmarkSgemm(b *testing.B) {
	defer func(prev string) { _ = SetImpl(prev) }(Impl())
	r := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.Float64()*2 - 1)
		}
		return s
	}
	for _, name := range Available() {
		b.Run("impl="+name, func(b *testing.B) {
			for _, sh := range benchShapes {
				if name == "ref" && !sh.refToo {
					continue
				}
				b.Run(sh.name, func(b *testing.B) {
					if err := SetImpl(name); err != nil {
						b.Fatal(err)
					}
					lda, ldb := sh.k, sh.n
					if sh.transA {
						lda = sh.m
					}
					if sh.transB {
						ldb = sh.k
					}
					a, bm, c := fill(sh.m*sh.k), fill(sh.k*sh.n), fill(sh.m*sh.n)
					Sgemm(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n) // warm buffers
					b.ResetTimer()
					cpu0 := cputime.Process()
					for b.Loop() {
						Sgemm(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
					}
					reportFlops(b, 2*float64(sh.m)*float64(sh.n)*float64(sh.k), cputime.Process()-cpu0)
				})
			}
		})
	}
}

// reportFlops reports GFLOP/s of wall time and GFLOP per CPU-second (the
// process's user+system time: on a shared machine the first drops with
// the load while the second mostly reflects the code).
func reportFlops(b *testing.B, flopsPerOp float64, cpu time.Duration) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkSgemmKernel times one micro-kernel call over a 256-long
// K-panel with A, B and C in L1/L2: the ceiling of the blocked driver.
func BenchmarkSgemmKernel(b *testing.B) {
	const k = 256
	for _, e := range append(archEngines(), &pureGoEngine) {
		b.Run("impl="+e.name, func(b *testing.B) {
			a := make([]float32, e.mr*k)
			bp := make([]float32, e.nr*k)
			c := make([]float32, e.mr*e.nr)
			for i := range a {
				a[i] = float32(i%7) * 0.25
			}
			for i := range bp {
				bp[i] = float32(i%5) * 0.5
			}
			cpu0 := cputime.Process()
			for b.Loop() {
				e.kernels[aPacked][bPacked](k, a, e.mr, bp, e.nr, c, e.nr, 1, 1)
			}
			reportFlops(b, 2*float64(e.mr*e.nr*k), cputime.Process()-cpu0)
		})
	}
}

// smallShapes: the narrow and short GEMMs of the benchmark's ResNet at
// batch 128 (28×28 stage of 16 channels, 14×14 stage of 32; conv as
// patches[M = N·H·W, K = 9·C] · filter[K, F], the 1×1 projection, the
// dense layer, and the backward products) and of the lecture model at
// batch 1.
var smallShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{name: "res-stem", m: 128 * 784, n: 16, k: 9},
	{name: "res-c16", m: 128 * 784, n: 16, k: 144},
	{name: "res-c16-dX", transB: true, m: 128 * 784, n: 144, k: 16},
	{name: "res-c16-dW-chunk", transA: true, m: 144, n: 16, k: 26 * 784},
	{name: "res-wino16", m: 128 * 196, n: 16, k: 16}, // one Winograd cell, 16→16
	{name: "res-s2", m: 128 * 196, n: 32, k: 144},
	{name: "res-c32", m: 128 * 196, n: 32, k: 288},
	{name: "res-c32-dX", transB: true, m: 128 * 196, n: 288, k: 32},
	{name: "res-proj", m: 128 * 196, n: 32, k: 16},
	{name: "res-wino32", m: 128 * 49, n: 32, k: 32},
	{name: "res-dense", m: 128, n: 10, k: 32},
	{name: "lec1-conv1", m: 784, n: 32, k: 25},
	{name: "lec1-conv2", m: 196, n: 64, k: 800},
	{name: "lec1-fc", m: 1, n: 1024, k: 3136},
	{name: "lec1-fc2", m: 1, n: 10, k: 1024},
}

// BenchmarkSgemmSmall times the avx512 and avx2 engines on smallShapes,
// alternating the two on each shape (shape/impl), in GFLOP/s of wall and
// of CPU time: go test -run '^$' -bench SgemmSmall -count 6 ./internal/kernels/
func BenchmarkSgemmSmall(b *testing.B) {
	defer func(prev string) { _ = SetImpl(prev) }(Impl())
	r := rand.New(rand.NewPCG(5, 6))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.Float64()*2 - 1)
		}
		return s
	}
	for _, sh := range smallShapes {
		lda, ldb := sh.k, sh.n
		if sh.transA {
			lda = sh.m
		}
		if sh.transB {
			ldb = sh.k
		}
		a, bm, c := fill(sh.m*sh.k), fill(sh.k*sh.n), fill(sh.m*sh.n)
		for _, name := range Available() {
			if name == "purego" || name == "ref" {
				continue
			}
			b.Run(sh.name+"/impl="+name, func(b *testing.B) {
				if err := SetImpl(name); err != nil {
					b.Fatal(err)
				}
				Sgemm(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n) // warm buffers
				b.ResetTimer()
				cpu0 := cputime.Process()
				for b.Loop() {
					Sgemm(sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
				}
				reportFlops(b, 2*float64(sh.m)*float64(sh.n)*float64(sh.k), cputime.Process()-cpu0)
			})
		}
	}
}
