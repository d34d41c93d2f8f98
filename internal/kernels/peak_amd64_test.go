//go:build !purego

package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/internal/cputime"
	"golang.org/x/sys/cpu"
)

// BenchmarkFMAPeak measures the machine's FMA peak with register-only
// loops (no loads, no stores): 12 chains of 8-lane FMAs (AVX2) or 24 of
// 16-lane FMAs (AVX-512), on one core and on GOMAXPROCS cores at once.
// It is the yardstick for the sgemm figures: on Zen 4 both widths give
// the same peak (512-bit FMAs issue as two halves), on Zen 5 and Intel
// server cores AVX-512 gives twice AVX2's.
//
//	go test -run '^$' -bench FMAPeak ./internal/kernels
func BenchmarkFMAPeak(b *testing.B) {
	probes := []struct {
		name  string
		ok    bool
		flops float64 // per round
		run   func(iters int)
	}{
		{"avx2", cpu.X86.HasAVX2 && cpu.X86.HasFMA, 12 * 8 * 2, fmaPeakAVX2},
		{"avx512", cpu.X86.HasAVX512F, 24 * 16 * 2, fmaPeakAVX512},
	}
	for _, p := range probes {
		for _, cores := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("isa=%s/cores=%d", p.name, cores), func(b *testing.B) {
				if !p.ok {
					b.Skipf("%s NOT EXECUTED: not supported by this CPU", p.name)
				}
				// 1<<16 rounds is about 100 µs: short asm calls stay preemptible.
				const iters = 1 << 16
				cpu0 := cputime.Process()
				for b.Loop() {
					var wg sync.WaitGroup
					for range cores {
						wg.Go(func() { p.run(iters) })
					}
					wg.Wait()
				}
				reportFlops(b, p.flops*iters*float64(cores), cputime.Process()-cpu0)
			})
		}
	}
}
