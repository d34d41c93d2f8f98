package nn

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/internal/pool"
)

// BenchmarkBatchNorm times the batch-norm ops on the ResNet's activation
// shapes at batch 128. GB/s counts the bytes each op reads and writes
// once (forward training: x twice, y once; backward: g and x twice, dx
// once; inference: x and y).
//
//	go test -run '^$' -bench BatchNorm ./nn
func BenchmarkBatchNorm(b *testing.B) {
	for _, shape := range [][]int{{128, 28, 28, 16}, {128, 14, 14, 32}, {128, 7, 7, 64}} {
		c := shape[3]
		x := randT(1, -1, 3, shape...)
		g := randT(2, -1, 1, shape...)
		scale, offset := randT(3, 0.5, 1.5, c), randT(4, -1, 1, c)
		mean, variance := randT(5, -1, 1, c), randT(6, 0.5, 2, c)
		n := int64(4 * x.Len())
		name := fmt.Sprintf("%dx%dx%dx%d", shape[0], shape[1], shape[2], shape[3])
		b.Run(name+"/train-forward", func(b *testing.B) {
			b.SetBytes(3 * n)
			for b.Loop() {
				y, _, _, err := FusedBatchNorm(x, scale, offset, 1e-3)
				if err != nil {
					b.Fatal(err)
				}
				pool.Put(y.Data())
			}
		})
		b.Run(name+"/train-backward", func(b *testing.B) {
			b.SetBytes(5 * n)
			for b.Loop() {
				dx, _, _, err := FusedBatchNormGrad(g, x, scale, mean, variance, 1e-3)
				if err != nil {
					b.Fatal(err)
				}
				pool.Put(dx.Data())
			}
		})
		b.Run(name+"/inference", func(b *testing.B) {
			b.SetBytes(2 * n)
			for b.Loop() {
				y, err := BatchNormalization(x, mean, variance, offset, scale, 1e-3)
				if err != nil {
					b.Fatal(err)
				}
				pool.Put(y.Data())
			}
		})
	}
}
