//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

//go:generate go -C _asm run . -set vec -out ../vec_amd64.s -stubs ../vec_stubs_amd64.go -pkg kernels

// vecFMA selects the AVX2 assembly loops of the vec*.go routines (this
// CPU has AVX2 and FMA; AdamUpdate uses no FMA).
var vecFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// vecWide selects the AVX-512 loops of the vec*.go routines over the
// AVX2 ones (set at start-up, see dispatch.go). They need AVX-512F and
// BMI2 (the tail masks).
var vecWide bool

// gemvWide selects Gemv's AVX-512 loop: with vecWide under
// rateRules.gemv512 (full-rate 512-bit FMAs), or with an implementation
// pinned by CONVNET_KERNELS (set at start-up, see dispatch.go).
var gemvWide bool

// hasBMI2: this CPU has BMI2 (BZHI).
var hasBMI2 = cpu.X86.HasBMI2

// The streaming output transforms, where there is assembly (winoAlg.streamed).
func init() {
	wino2.streamed = winoOutputs{output: winoOutputStreamAVX2, output512: winoOutputStreamAVX512,
		ep:    [4]winoOutputEp{winoOutputBiasStreamAVX2, winoOutputBiasReluStreamAVX2, winoOutputBiasSkipReluStreamAVX2, winoOutputSkipStreamAVX2},
		ep512: [4]winoOutputEp{winoOutputBiasStreamAVX512, winoOutputBiasReluStreamAVX512, winoOutputBiasSkipReluStreamAVX512, winoOutputSkipStreamAVX512}}
	wino4.streamed = winoOutputs{output: winoOutput8StreamAVX2, output512: winoOutput8StreamAVX512,
		ep:    [4]winoOutputEp{winoOutput8BiasStreamAVX2, winoOutput8BiasReluStreamAVX2, winoOutput8BiasSkipReluStreamAVX2, winoOutput8SkipStreamAVX2},
		ep512: [4]winoOutputEp{winoOutput8BiasStreamAVX512, winoOutput8BiasReluStreamAVX512, winoOutput8BiasSkipReluStreamAVX512, winoOutput8SkipStreamAVX512}}
	wino43.streamed = winoOutputs{output: winoOutput43StreamAVX2, output512: winoOutput43StreamAVX512,
		ep:    [4]winoOutputEp{winoOutput43BiasStreamAVX2, winoOutput43BiasReluStreamAVX2, winoOutput43BiasSkipReluStreamAVX2, winoOutput43SkipStreamAVX2},
		ep512: [4]winoOutputEp{winoOutput43BiasStreamAVX512, winoOutput43BiasReluStreamAVX512, winoOutput43BiasSkipReluStreamAVX512, winoOutput43SkipStreamAVX512}}
}

// StreamFence orders the streaming stores this goroutine made
// (WinoScheme.OutputStream, OutputBiasStream) before its later stores:
// run it before another goroutine may read what they wrote.
func StreamFence() { streamFence() }

// Prefetch asks for the cache lines of x to be brought into L2
// (PREFETCHT1), without waiting for them: for data a pass will read
// soon, whose loads would otherwise wait on memory. x should start on a
// line; a last line it only enters is not asked for.
func Prefetch(x []float32) {
	if n := len(x) / 16; n > 0 {
		prefetchLines(&x[0], n)
	}
}
