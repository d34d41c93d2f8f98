//go:build purego || !amd64

package kernels

func convC1AVX2(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1AVX2 called without assembly")
}

func convC1GradAVX2(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1GradAVX2 called without assembly")
}

func convC1AVX512(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1AVX512 called without assembly")
}

func convC1GradAVX512(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1GradAVX512 called without assembly")
}

func convC1x16AVX2(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1x16AVX2 called without assembly")
}

func convC1Grad16AVX2(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1Grad16AVX2 called without assembly")
}

func convC1x16AVX512(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1x16AVX512 called without assembly")
}

func convC1Grad16AVX512(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int) {
	panic("kernels: convC1Grad16AVX512 called without assembly")
}
