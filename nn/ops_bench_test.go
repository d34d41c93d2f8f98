package nn

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// Benchmarks of the broadcasting, reduction and transpose walks against
// their per-element references (impl=ref), on an activation-sized NHWC
// tensor [8, 28, 28, 64]. GB/s counts the bytes read and written once.

func benchImpls(b *testing.B, bytes int, fast, ref func()) {
	for _, impl := range []struct {
		name string
		f    func()
	}{{"fast", fast}, {"ref", ref}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.SetBytes(int64(bytes))
			for b.Loop() {
				impl.f()
			}
		})
	}
}

func BenchmarkBinary(b *testing.B) {
	x := randT(1, -1, 1, 8, 28, 28, 64)
	for _, c := range []struct {
		name  string
		other *tensor.Tensor
	}{
		{"same", randT(2, -1, 1, 8, 28, 28, 64)},
		{"channel", randT(3, -1, 1, 64)},
		{"scalar", randT(4, -1, 1)},
		{"general", randT(5, -1, 1, 8, 1, 28, 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]float32, x.Len())
			benchImpls(b, 4*(2*x.Len()+c.other.Len()),
				func() { runBinary(binMul, dst, x.Shape(), x.Data(), x.Shape(), c.other.Data(), c.other.Shape()) },
				func() { binaryRef(binMul, dst, x.Shape(), x.Data(), x.Shape(), c.other.Data(), c.other.Shape()) })
		})
	}
}

func BenchmarkReduce(b *testing.B) {
	x := randT(1, -1, 1, 8, 28, 28, 64)
	for _, c := range []struct {
		name string
		red  []bool
	}{
		{"rows", []bool{false, false, false, true}},
		{"channels", []bool{true, true, true, false}},
		{"all", []bool{true, true, true, true}},
		{"general", []bool{true, false, true, false}},
	} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]float32, tensor.Size(keptShape(x.Shape(), c.red)))
			benchImpls(b, 4*x.Len(),
				func() { reduceInto(dst, x.Data(), x.Shape(), c.red, redSum) },
				func() { reduceRef(dst, x.Data(), x.Shape(), c.red, redSum) })
		})
	}
}

func BenchmarkTranspose(b *testing.B) {
	x := randT(1, -1, 1, 8, 28, 28, 64)
	for _, c := range []struct {
		name string
		perm []int
	}{
		{"NHWC-NCHW", []int{0, 3, 1, 2}},
		{"swap-HW", []int{0, 2, 1, 3}},
	} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]float32, x.Len())
			benchImpls(b, 8*x.Len(),
				func() { transposeInto(dst, x.Data(), x.Shape(), c.perm) },
				func() { transposeRef(dst, x.Data(), x.Shape(), c.perm) })
		})
	}
}

// BenchmarkDropout times the training-mode mask and output of the
// lecture's dense layer ([128, 1024], rate 0.25); storage goes back to
// the pool each call, as a training step's does.
func BenchmarkDropout(b *testing.B) {
	x := randT(6, -1, 1, 128, 1024)
	for b.Loop() {
		y, mask, err := Dropout(x, 0.25, 7, true)
		if err != nil {
			b.Fatal(err)
		}
		pool.Recycle(y.Data(), mask.Data())
	}
}

// BenchmarkMatMulSwap times a·bᵀ (a [m,k], b [n,k]) as is and in the
// swapped form (b·aᵀ)ᵀ, the transpose included, on the shapes behind
// tune.SwapRatio.
func BenchmarkMatMulSwap(b *testing.B) {
	defer func(saved tuning) { tune = saved }(tune)
	tune.SwapRatio = 1 // let every shape here take the swap when asked
	for _, sh := range [][3]int{
		{128, 3136, 1024}, {32, 3136, 1024}, {64, 3136, 1024}, {128, 2048, 1024},
		{128, 1024, 512}, {64, 1024, 256}, {32, 1024, 2048}, {64, 600, 300},
	} {
		m, n, k := sh[0], sh[1], sh[2]
		x, w := randT(7, -1, 1, m, k), randT(8, -1, 1, n, k)
		for _, swap := range []bool{false, true} {
			b.Run(fmt.Sprintf("m=%d/n=%d/k=%d/swap=%v", m, n, k, swap), func(b *testing.B) {
				tune.MatmulSwap = swap
				for b.Loop() {
					y, err := MatMul(x, w, false, true)
					if err != nil {
						b.Fatal(err)
					}
					pool.Recycle(y.Data())
				}
			})
		}
	}
}
