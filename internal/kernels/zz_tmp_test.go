package kernels

import (
	"fmt"
	"testing"
)

func BenchmarkTmpGemvSize(b *testing.B) {
	for _, k := range []int{256, 1024, 3136, 8192, 32768} {
		n := 64
		slabs := 16
		w := make([]float32, k*n*slabs)
		for i := range w {
			w[i] = float32(i%7) * 0.1
		}
		x := make([]float32, k)
		y := make([]float32, n)
		b.Run(fmt.Sprintf("MB=%.1f", float64(len(w))*4/1e6), func(b *testing.B) {
			b.SetBytes(int64(len(w)) * 4)
			for i := 0; i < b.N; i++ {
				for s := 0; s < slabs; s++ {
					Gemv(y, x, w[s*k*n:(s+1)*k*n], k, n)
				}
			}
		})
	}
}
