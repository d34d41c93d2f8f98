package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// MaxPoolWithArgmax gives MaxPool's values, offsets of the cells holding
// them, and a gradient equal to MaxPoolGrad's reference — also on inputs
// full of ties (values from {−1, 0, 1}), where the first maximum must win.
func TestMaxPoolWithArgmaxMatchesReference(t *testing.T) {
	for i, tc := range append(poolCases[:len(poolCases):len(poolCases)], poolParallelCases...) {
		for _, ties := range []bool{false, true} {
			name := poolCaseName(tc.shape, tc.o)
			if ties {
				name += "/ties"
			}
			t.Run(name, func(t *testing.T) {
				xd := opsRandom(tensor.Size(tc.shape), uint64(i)+7)
				if ties {
					for j, v := range xd {
						xd[j] = float32(math.Round(float64(v)))
					}
				}
				x := tensor.Must(tensor.New(tc.shape, xd))
				g, err := poolSetup("test", tc.shape, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				y, arg, err := MaxPoolWithArgmax(x, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				if !tensor.SameShape(y.Shape(), g.outShape) || len(arg) != y.Len() {
					t.Fatalf("output %v with %d offsets; want %v with one offset per element", y.Shape(), len(arg), g.outShape)
				}
				opsClose(t, "MaxPoolWithArgmax", y.Data(), maxPoolRef(g, xd), 0)
				for o, a := range arg {
					if a < 0 || int(a) >= len(xd) || xd[a] != y.Data()[o] {
						t.Fatalf("argmax[%d] = %d does not hold the maximum %v", o, a, y.Data()[o])
					}
				}
				gy := tensor.Must(tensor.New(g.outShape, opsRandom(tensor.Size(g.outShape), uint64(i)+100)))
				dx, err := MaxPoolGradWithArgmax(tc.shape, gy, arg)
				if err != nil {
					t.Fatal(err)
				}
				if !tensor.SameShape(dx.Shape(), tc.shape) {
					t.Fatalf("gradient shape %v, want %v", dx.Shape(), tc.shape)
				}
				opsClose(t, "MaxPoolGradWithArgmax", dx.Data(), maxPoolGradRef(g, xd, gy.Data()), 1e-6)
			})
		}
	}
}

func TestMaxPoolGradWithArgmaxErrors(t *testing.T) {
	shape := []int{2, 4, 4, 3}
	o := PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"}
	x := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 3)))
	y, arg, err := MaxPoolWithArgmax(x, o)
	if err != nil {
		t.Fatal(err)
	}
	crossed := append([]int32(nil), arg...)
	crossed[0] = int32(x.Len() - 1) // entry 0's output pointing into entry 1
	for _, tc := range []struct {
		name  string
		shape []int
		grad  *tensor.Tensor
		arg   []int32
		want  string
	}{
		{"nil grad", shape, nil, arg, "grad tensor is nil"},
		{"rank", []int{2, 48}, y, arg, "rank-3, 4 or 5"},
		{"batch", []int{3, 4, 4, 3}, y, arg, "batch 3"},
		{"short argmax", shape, y, arg[1:], "argmax has 23 offsets"},
		{"other entry", shape, y, crossed, "argmax[0] = 95 lies outside batch entry 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MaxPoolGradWithArgmax(tc.shape, tc.grad, tc.arg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, _, err := MaxPoolWithArgmax(nil, o); err == nil {
		t.Fatal("nil input: no error")
	}
}

func BenchmarkMaxPoolArgmaxLecture(b *testing.B) {
	shape := []int{128, 28, 28, 32}
	o := PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	x := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 1)))
	g, err := poolSetup("MaxPool", shape, o)
	if err != nil {
		b.Fatal(err)
	}
	gy := tensor.Must(tensor.New(g.outShape, opsRandom(tensor.Size(g.outShape), 2)))
	b.SetBytes(int64(4 * (2*x.Len() + 3*gy.Len())))
	for b.Loop() {
		_, arg, err := MaxPoolWithArgmax(x, o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := MaxPoolGradWithArgmax(shape, gy, arg); err != nil {
			b.Fatal(err)
		}
	}
}

// MaxPoolWithArgmaxAlloc writes the offsets into the caller's storage,
// whatever it held, and rejects an allocator that gives the wrong count.
func TestMaxPoolWithArgmaxAlloc(t *testing.T) {
	x := tensor.Must(tensor.New([]int{2, 6, 6, 3}, opsRandom(2*6*6*3, 5)))
	o := PoolOptions{KSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "VALID"}
	wantY, wantArg, err := MaxPoolWithArgmax(x, o)
	if err != nil {
		t.Fatal(err)
	}
	var store []int32
	y, arg, err := MaxPoolWithArgmaxAlloc(x, o, func(n int) []int32 {
		store = make([]int32, n)
		for i := range store {
			store[i] = -7 // stale values must be overwritten
		}
		return store
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(arg) == 0 || &arg[0] != &store[0] {
		t.Error("the offsets are not in the allocator's storage")
	}
	for i, a := range wantArg {
		if arg[i] != a || math.Float32bits(y.Data()[i]) != math.Float32bits(wantY.Data()[i]) {
			t.Fatalf("element %d: %v at %d, want %v at %d", i, y.Data()[i], arg[i], wantY.Data()[i], a)
		}
	}
	for _, short := range []int{-1, 1} {
		_, _, err := MaxPoolWithArgmaxAlloc(x, o, func(n int) []int32 { return make([]int32, n+short) })
		if err == nil || !strings.Contains(err.Error(), "allocator gave") {
			t.Errorf("an allocator giving %d offsets too many: err = %v", short, err)
		}
	}
}
