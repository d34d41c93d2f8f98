package nn

import (
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// recycle hands the storage of the given tensors to the pool, as
// autograd does (see
// pool.Recycle: small tensors, sub-slices and duplicates are skipped).
// The caller must own each tensor outright: afterwards nothing may read
// or write it or any view of its data.
func recycle(ts ...*tensor.Tensor) {
	ds := make([][]float32, 0, len(ts))
	for _, t := range ts {
		if t != nil {
			ds = append(ds, t.Data())
		}
	}
	pool.Recycle(ds...)
}

func TestRecycleReusesWholeArraysOnce(t *testing.T) {
	n := pool.RecycleMin + 3
	a := tensor.Zeros(n)
	b, _ := a.Reshape(1, n)
	small := tensor.Zeros(pool.RecycleMin - 1)
	recycle(a, b, nil, small) // b is a view of a: kept once
	got := []*float32{unsafe.SliceData(resultData(n)), unsafe.SliceData(resultData(n))}
	if got[0] != unsafe.SliceData(a.Data()) && got[1] != unsafe.SliceData(a.Data()) {
		t.Skip("the pool dropped the buffer (a garbage collection ran); nothing to check")
	}
	if got[0] == got[1] {
		t.Fatal("one recycled array was handed out twice")
	}
	part := make([]float32, 2*n)
	pt := tensor.Must(tensor.New([]int{n}, part[:n]))
	recycle(pt) // part of a larger array: ignored
	if d := resultData(n); unsafe.SliceData(d) == unsafe.SliceData(part) {
		t.Fatal("a slice of a larger array was recycled")
	}
}

// Ops whose results may come from recycled storage write every element:
// with NaN-filled storage of the right length waiting in the pool, each
// op returns the bits it returns on fresh memory.
func TestResultsOverwriteRecycledStorage(t *testing.T) {
	x := tensor.Must(tensor.New([]int{4, 64, 64, 8}, opsRandom(4*64*64*8, 1)))
	w := tensor.Must(tensor.New([]int{3, 3, 8, 8}, opsRandom(3*3*8*8, 2)))
	bias := tensor.Must(tensor.New([]int{8}, opsRandom(8, 3)))
	a := tensor.Must(tensor.New([]int{256, 300}, opsRandom(256*300, 4)))
	b := tensor.Must(tensor.New([]int{300, 256}, opsRandom(300*256, 5)))
	empty := tensor.Zeros(256, 0)
	emptyB := tensor.Zeros(0, 256)
	pool := PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	same := ConvOptions{Padding: "SAME"}
	y, _ := Conv2D(x, w, same)
	x64 := tensor.Must(tensor.New([]int{2, 16, 16, 64}, opsRandom(2*16*16*64, 7)))
	w64 := tensor.Must(tensor.New([]int{5, 5, 64, 64}, opsRandom(5*5*64*64, 8)))
	y64, _ := Conv2D(x64, w64, same)
	nchw := ConvOptions{Padding: "SAME", DataFormat: "NCHW"}
	xT := tensor.Must(tensor.New([]int{4, 8, 64, 64}, x.Data()))
	py, arg, _ := MaxPoolWithArgmax(x, pool)
	ops := []struct {
		name string
		run  func() (*tensor.Tensor, error)
	}{
		{"Conv2D", func() (*tensor.Tensor, error) { return Conv2D(x, w, same) }},
		{"Conv2DBackpropInput", func() (*tensor.Tensor, error) { return Conv2DBackpropInput(x.Shape(), w, y, same) }},
		{"Conv2DBackpropFilter", func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(x64, w64.Shape(), y64, same) }},
		{"Conv2D/NCHW", func() (*tensor.Tensor, error) { return Conv2D(xT, w, nchw) }},
		{"DepthwiseConv2D", func() (*tensor.Tensor, error) {
			return DepthwiseConv2D(x, tensor.Must(tensor.New([]int{3, 3, 8, 1}, opsRandom(72, 6))), same)
		}},
		{"MatMul", func() (*tensor.Tensor, error) { return MatMul(a, b, false, false) }},
		{"MatMul/k=0", func() (*tensor.Tensor, error) { return MatMul(empty, emptyB, false, false) }},
		{"BiasAdd", func() (*tensor.Tensor, error) { return BiasAdd(x, bias, "") }},
		{"BiasAddRelu", func() (*tensor.Tensor, error) { return BiasAddRelu(x, bias, "") }},
		{"BiasAddReluGrad", func() (*tensor.Tensor, error) {
			d, _, err := BiasAddReluGrad(x, x, "")
			return d, err
		}},
		{"Relu", func() (*tensor.Tensor, error) { return Relu(x), nil }},
		{"ReluGrad", func() (*tensor.Tensor, error) { return ReluGrad(x, x) }},
		{"MaxPool", func() (*tensor.Tensor, error) { return MaxPool(x, pool) }},
		{"MaxPoolGrad", func() (*tensor.Tensor, error) { return MaxPoolGrad(x, py, pool) }},
		{"MaxPoolGradWithArgmax", func() (*tensor.Tensor, error) { return MaxPoolGradWithArgmax(x.Shape(), py, arg) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			want, err := op.run()
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				dirty := tensor.Zeros(want.Shape()...)
				dirty.Fill(float32(math.NaN()))
				recycle(dirty)
			}
			got, err := op.run()
			if err != nil {
				t.Fatal(err)
			}
			bitsEqual(t, fmt.Sprintf("%s on recycled storage", op.name), got.Data(), want.Data())
		})
	}
}
