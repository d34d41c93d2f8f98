//go:build purego || !amd64

package kernels

func bnShiftedMomentsAVX2(acc *float64, x *float32, shift *float64, rows, c int) {
	panic("kernels: bnShiftedMomentsAVX2 called without assembly")
}

func bnGradMomentsAVX2(acc *float64, x, y *float32, shift *float64, rows, c int) {
	panic("kernels: bnGradMomentsAVX2 called without assembly")
}

func bnAffineAVX2(y, x, a, b *float32, rows, c int) {
	panic("kernels: bnAffineAVX2 called without assembly")
}

func bnAffine2AVX2(dx, grad, x, k, a, b *float32, rows, c int) {
	panic("kernels: bnAffine2AVX2 called without assembly")
}

func bnShiftedMomentsAVX512(acc *float64, x *float32, shift *float64, rows, c int) {
	panic("kernels: bnShiftedMomentsAVX512 called without assembly")
}

func bnGradMomentsAVX512(acc *float64, x, y *float32, shift *float64, rows, c int) {
	panic("kernels: bnGradMomentsAVX512 called without assembly")
}

func bnAffineAVX512(y, x, a, b *float32, rows, c int) {
	panic("kernels: bnAffineAVX512 called without assembly")
}

func bnAffine2AVX512(dx, grad, x, k, a, b *float32, rows, c int) {
	panic("kernels: bnAffine2AVX512 called without assembly")
}

func bnGradMomentsReluAVX2(acc *float64, x, y, a, b *float32, shift *float64, rows, c int) {
	panic("kernels: bnGradMomentsReluAVX2 called without assembly")
}

func bnAffineReluAVX2(y, x, a, b *float32, rows, c int) {
	panic("kernels: bnAffineReluAVX2 called without assembly")
}

func bnAffine2ReluAVX2(dx, grad, x, fa, fb, k, a, b *float32, rows, c int) {
	panic("kernels: bnAffine2ReluAVX2 called without assembly")
}

func bnGradMomentsReluAVX512(acc *float64, x, y, a, b *float32, shift *float64, rows, c int) {
	panic("kernels: bnGradMomentsReluAVX512 called without assembly")
}

func bnAffineReluAVX512(y, x, a, b *float32, rows, c int) {
	panic("kernels: bnAffineReluAVX512 called without assembly")
}

func bnAffine2ReluAVX512(dx, grad, x, fa, fb, k, a, b *float32, rows, c int) {
	panic("kernels: bnAffine2ReluAVX512 called without assembly")
}

func bnAffineAddReluAVX2(y, x, s, a, b *float32, rows, c int) {
	panic("kernels: bnAffineAddReluAVX2 called without assembly")
}

func bnAffineAddReluAVX512(y, x, s, a, b *float32, rows, c int) {
	panic("kernels: bnAffineAddReluAVX512 called without assembly")
}
