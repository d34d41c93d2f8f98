//go:build purego || !amd64

package kernels

// vecFMA, vecWide and gemvWide are false: no assembly in this build.
var vecFMA, vecWide, gemvWide = false, false, false

// hasBMI2: no assembly in this build.
var hasBMI2 = false

func sumProductsAVX2(out *float32, n int, a, b *float32, aOff, bOff *int, taps int) {
	panic("kernels: sumProductsAVX2 called without assembly")
}

func adamAVX2(w, grad, m, v *float32, n int, k *[4]float32) {
	panic("kernels: adamAVX2 called without assembly")
}

func repeatAVX2(dst, src *float32, n, c, cm int, idx *[16]int32) {
	panic("kernels: repeatAVX2 called without assembly")
}

func biasReluAVX2(dst, x, b *float32, rows, c int) {
	panic("kernels: biasReluAVX2 called without assembly")
}

func biasSkipReluAVX2(dst, x, s, b *float32, rows, c int) {
	panic("kernels: biasSkipReluAVX2 called without assembly")
}

func biasAddAVX2(dst, x, b *float32, rows, c int) {
	panic("kernels: biasAddAVX2 called without assembly")
}

func reluGradSumAVX2(dx, grad, y *float32, acc *float64, rows, c int) {
	panic("kernels: reluGradSumAVX2 called without assembly")
}

func argmaxReluGradSumAVX2(dx, grad, z *float32, arg *int32, acc *float64, cols, rep, c int, base int32) {
	panic("kernels: argmaxReluGradSumAVX2 called without assembly")
}

func argmaxReluGradSumAVX512(dx, grad, z *float32, arg *int32, acc *float64, cols, rep, c int, base int32) {
	panic("kernels: argmaxReluGradSumAVX512 called without assembly")
}

func argmaxWindowAVX2(dst *float32, arg *int32, x *float32, offs *int, cells, c int, base int32, windows, step int) {
	panic("kernels: argmaxWindowAVX2 called without assembly")
}

func maxWindowAVX2(dst, x *float32, offs *int, cells, c, windows, step int) {
	panic("kernels: maxWindowAVX2 called without assembly")
}

func gemvAVX2(y, x, w *float32, k, n, ldw int) {
	panic("kernels: gemvAVX2 called without assembly")
}

func mulAddAVX2(acc, a, b *float32, n int) {
	panic("kernels: mulAddAVX2 called without assembly")
}

func winoInputAVX2(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int) {
	panic("kernels: winoInputAVX2 called without assembly")
}

func winoOutputAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, n8 int) {
	panic("kernels: winoOutputAVX2 called without assembly")
}

func winoOutputGradAVX2(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int) {
	panic("kernels: winoOutputGradAVX2 called without assembly")
}

func winoInput8AVX2(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int) {
	panic("kernels: winoInput8AVX2 called without assembly")
}

func winoOutput8AVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, n8 int) {
	panic("kernels: winoOutput8AVX2 called without assembly")
}

func winoOutputGrad8AVX2(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int) {
	panic("kernels: winoOutputGrad8AVX2 called without assembly")
}

func winoOutput43AVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, n8 int) {
	panic("kernels: winoOutput43AVX2 called without assembly")
}

func winoOutputGrad43AVX2(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int) {
	panic("kernels: winoOutputGrad43AVX2 called without assembly")
}

func winoInputAVX512(dst *float32, dstStride int, src *float32, rowStride, colStride int, n int) {
	panic("kernels: winoInputAVX512 called without assembly")
}

func winoOutputGradAVX512(dst *float32, dstStride int, src *float32, rowStride, colStride int, n int) {
	panic("kernels: winoOutputGradAVX512 called without assembly")
}

func winoInput8AVX512(dst *float32, dstStride int, src *float32, rowStride, colStride int, n int) {
	panic("kernels: winoInput8AVX512 called without assembly")
}

func winoOutputGrad8AVX512(dst *float32, dstStride int, src *float32, rowStride, colStride int, n int) {
	panic("kernels: winoOutputGrad8AVX512 called without assembly")
}

func winoOutputGrad43AVX512(dst *float32, dstStride int, src *float32, rowStride, colStride int, n int) {
	panic("kernels: winoOutputGrad43AVX512 called without assembly")
}

func winoOutputAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, n int) {
	panic("kernels: winoOutputAVX512 called without assembly")
}

func winoOutput8AVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, n int) {
	panic("kernels: winoOutput8AVX512 called without assembly")
}

func winoOutput43AVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, n int) {
	panic("kernels: winoOutput43AVX512 called without assembly")
}

func winoOutputBiasAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutputBiasAVX2 called without assembly")
}

func winoOutputBiasAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutputBiasAVX512 called without assembly")
}

func winoOutputBiasReluAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutputBiasReluAVX2 called without assembly")
}

func winoOutputBiasReluAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutputBiasReluAVX512 called without assembly")
}

func winoOutputBiasSkipReluAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutputBiasSkipReluAVX2 called without assembly")
}

func winoOutputBiasSkipReluAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutputBiasSkipReluAVX512 called without assembly")
}

func winoOutput8BiasAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput8BiasAVX2 called without assembly")
}

func winoOutput8BiasAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput8BiasAVX512 called without assembly")
}

func winoOutput8BiasReluAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput8BiasReluAVX2 called without assembly")
}

func winoOutput8BiasReluAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput8BiasReluAVX512 called without assembly")
}

func winoOutput8BiasSkipReluAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput8BiasSkipReluAVX2 called without assembly")
}

func winoOutput8BiasSkipReluAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput8BiasSkipReluAVX512 called without assembly")
}

func winoOutput43BiasAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput43BiasAVX2 called without assembly")
}

func winoOutput43BiasAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput43BiasAVX512 called without assembly")
}

func winoOutput43BiasReluAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput43BiasReluAVX2 called without assembly")
}

func winoOutput43BiasReluAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput43BiasReluAVX512 called without assembly")
}

func winoOutput43BiasSkipReluAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput43BiasSkipReluAVX2 called without assembly")
}

func winoOutput43BiasSkipReluAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput43BiasSkipReluAVX512 called without assembly")
}

func sumProductsAVX512(out *float32, n int, a, b *float32, aOff, bOff *int, taps int) {
	panic("kernels: sumProductsAVX512 called without assembly")
}

func adamAVX512(w, grad, m, v *float32, n int, k *[4]float32) {
	panic("kernels: adamAVX512 called without assembly")
}

func biasReluAVX512(dst, x, b *float32, rows, c int) {
	panic("kernels: biasReluAVX512 called without assembly")
}

func biasSkipReluAVX512(dst, x, s, b *float32, rows, c int) {
	panic("kernels: biasSkipReluAVX512 called without assembly")
}

func biasAddAVX512(dst, x, b *float32, rows, c int) {
	panic("kernels: biasAddAVX512 called without assembly")
}

func reluGradSumAVX512(dx, grad, y *float32, acc *float64, rows, c int) {
	panic("kernels: reluGradSumAVX512 called without assembly")
}

func argmaxWindowAVX512(dst *float32, arg *int32, x *float32, offs *int, cells, c int, base int32, windows, step int) {
	panic("kernels: argmaxWindowAVX512 called without assembly")
}

func maxWindowAVX512(dst, x *float32, offs *int, cells, c, windows, step int) {
	panic("kernels: maxWindowAVX512 called without assembly")
}

func gemvAVX512(y, x, w *float32, k, n, ldw int) {
	panic("kernels: gemvAVX512 called without assembly")
}

func mulAddAVX512(acc, a, b *float32, n int) {
	panic("kernels: mulAddAVX512 called without assembly")
}

func reluAVX2(dst, x *float32, n int) { panic("kernels: reluAVX2 called without assembly") }

func reluGradAVX2(dx, grad, y *float32, n int) {
	panic("kernels: reluGradAVX2 called without assembly")
}

func reluAVX512(dst, x *float32, n int) { panic("kernels: reluAVX512 called without assembly") }

func reluGradAVX512(dx, grad, y *float32, n int) {
	panic("kernels: reluGradAVX512 called without assembly")
}

func addAVX2(dst, a, b *float32, n int) {
	panic("kernels: addAVX2 called without assembly")
}

func addAVX512(dst, a, b *float32, n int) {
	panic("kernels: addAVX512 called without assembly")
}

func copyRowsAVX512(dst *float32, dstStride int, src *float32, srcStride, n, rows int) {
	panic("kernels: copyRowsAVX512 called without assembly")
}

func copyRowsAVX2(dst *float32, dstStride int, src *float32, srcStride, n, rows int) {
	panic("kernels: copyRowsAVX2 called without assembly")
}

// StreamFence does nothing: without assembly no store streams.
func StreamFence() {}

// Prefetch does nothing without assembly: the loads wait on memory.
func Prefetch(x []float32) {}

func winoOutputSkipAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutputSkipAVX2 called without assembly")
}

func winoOutputSkipAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutputSkipAVX512 called without assembly")
}

func winoOutput8SkipAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput8SkipAVX2 called without assembly")
}

func winoOutput8SkipAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput8SkipAVX512 called without assembly")
}

func winoOutput43SkipAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n8 int) {
	panic("kernels: winoOutput43SkipAVX2 called without assembly")
}

func winoOutput43SkipAVX512(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int) {
	panic("kernels: winoOutput43SkipAVX512 called without assembly")
}
