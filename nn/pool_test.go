package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// opsSeq returns the tensor of the given shape holding 1, 2, 3, … times s.
func opsSeq(s float32, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	for i := range t.Data() {
		t.Data()[i] = float32(i+1) * s
	}
	return t
}

// opsRandom returns n values uniform in [-1, 1) from a seeded generator.
func opsRandom(n int, seed uint64) []float32 {
	r := tensor.NewRand(seed)
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

// opsDistinct returns n float64 values that are a shuffled 0.01-spaced
// sequence around 0, so no two are within a finite-difference step.
func opsDistinct(n int, seed uint64) []float64 {
	r := tensor.NewRand(seed)
	x := make([]float64, n)
	for i, p := range r.Perm(n) {
		x[i] = float64(p-n/2) * 0.01
	}
	return x
}

func opsClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) > tol*(1+math.Abs(w)) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("%s[%d] = %v, want %v (tolerance %g)\n got %v\nwant %v", what, i, got[i], want[i], tol, got, want)
		}
	}
}

func TestPoolByHand(t *testing.T) {
	s2 := PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	for _, tc := range []struct {
		name  string
		max   bool
		in    *tensor.Tensor
		o     PoolOptions
		shape []int
		want  []float32
	}{
		// 1  2  3  4
		// 5  6  7  8
		// 9 10 11 12
		// 13 14 15 16
		{"max 4x4 2/2 VALID", true, opsSeq(1, 1, 4, 4, 1), PoolOptions{KSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "VALID"}, []int{1, 2, 2, 1}, []float32{6, 8, 14, 16}},
		{"avg 4x4 2/2 VALID", false, opsSeq(1, 1, 4, 4, 1), PoolOptions{KSize: []int{1, 2, 2, 1}, Strides: []int{1, 2, 2, 1}}, []int{1, 2, 2, 1}, []float32{3.5, 5.5, 11.5, 13.5}},
		// 3x3 with 2/2 SAME pads one cell after: windows of 4, 2, 2 and 1 real cells.
		{"avg 3x3 2/2 SAME divides by real cells", false, opsSeq(1, 1, 3, 3, 1), s2, []int{1, 2, 2, 1}, []float32{3, 4.5, 7.5, 9}},
		{"max 3x3 2/2 SAME ignores padding", true, opsSeq(-1, 1, 3, 3, 1), s2, []int{1, 2, 2, 1}, []float32{-1, -3, -7, -9}},
		// 3x3 window, stride 1, SAME pads one cell on each side: the corner sees 4 cells.
		{"avg 3x3 window SAME corner", false, opsSeq(1, 1, 3, 3, 1), PoolOptions{KSize: []int{3}, Padding: "SAME"}, []int{1, 3, 3, 1}, []float32{3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}},
		{"max window larger than input SAME", true, opsSeq(-1, 1, 2, 3, 1), PoolOptions{KSize: []int{5}, Padding: "SAME"}, []int{1, 2, 3, 1}, []float32{-1, -1, -1, -1, -1, -1}},
		{"max NWC 1-D", true, tensor.Must(tensor.New([]int{1, 5, 2}, []float32{1, -1, 3, -2, 2, -5, 0, 4, 7, 0})), PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}, []int{1, 3, 2}, []float32{3, -1, 2, 4, 7, 0}},
		{"avg NCW 1-D", false, tensor.Must(tensor.New([]int{1, 2, 5}, []float32{1, 3, 2, 0, 7, -1, -2, -5, 4, 0})), PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME", DataFormat: "NCW"}, []int{1, 2, 3}, []float32{2, 1, 7, -1.5, -0.5, 0}},
		// 2x2x2 cube, all eight values: one window.
		{"max NDHWC 3-D", true, opsSeq(1, 1, 2, 2, 2, 1), PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"}, []int{1, 1, 1, 1, 1}, []float32{8}},
		{"avg NCDHW 3-D SAME", false, opsSeq(1, 1, 1, 3, 1, 1), PoolOptions{KSize: []int{2, 1, 1}, Strides: []int{2, 1, 1}, Padding: "SAME", DataFormat: "NCDHW"}, []int{1, 1, 2, 1, 1}, []float32{1.5, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := AvgPool
			if tc.max {
				f = MaxPool
			}
			y, err := f(tc.in, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.shape) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.shape)
			}
			opsClose(t, "y", y.Data(), tc.want, 1e-6)
		})
	}
}

func TestPoolGradByHand(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  bool
		in   *tensor.Tensor
		o    PoolOptions
		grad []float32
		want []float32
	}{
		// Ones over 3x3 with 2/2 SAME: windows of 4, 2, 2, 1 real cells.
		{"avg 3x3 2/2 SAME", false, opsSeq(1, 1, 3, 3, 1), PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"},
			[]float32{1, 1, 1, 1}, []float32{0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1}},
		{"max 4x4 2/2 goes to the max", true, opsSeq(1, 1, 4, 4, 1), PoolOptions{KSize: []int{2}, Strides: []int{2}},
			[]float32{1, 2, 3, 4}, []float32{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}},
		{"max tie picks the first in scan order", true, tensor.Full(7, 1, 2, 2, 1), PoolOptions{KSize: []int{2}},
			[]float32{5}, []float32{5, 0, 0, 0}},
		// The center is the max of all four overlapping 2x2 windows.
		{"max overlapping windows add up", true, tensor.Must(tensor.New([]int{1, 3, 3, 1}, []float32{0, 1, 0, 1, 9, 1, 0, 1, 0})), PoolOptions{KSize: []int{2}},
			[]float32{1, 2, 3, 4}, []float32{0, 0, 0, 0, 10, 0, 0, 0, 0}},
		{"max SAME never picks padding", true, opsSeq(-1, 1, 3, 3, 1), PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"},
			[]float32{1, 2, 3, 4}, []float32{1, 0, 2, 0, 0, 0, 3, 0, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := MaxPool(tc.in, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			g := tensor.Must(tensor.New(y.Shape(), tc.grad))
			var dx *tensor.Tensor
			if tc.max {
				dx, err = MaxPoolGrad(tc.in, g, tc.o)
			} else {
				dx, err = AvgPoolGrad(tc.in.Shape(), g, tc.o)
			}
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, "dx", dx.Data(), tc.want, 1e-7)
		})
	}
}

// poolCases are odd shapes (ones, primes, windows larger than strides and
// the other way round, SAME and VALID) for every rank and layout.
var poolCases = []struct {
	shape []int
	o     PoolOptions
}{
	{[]int{1, 1, 1}, PoolOptions{KSize: []int{1}}},
	{[]int{2, 7, 3}, PoolOptions{KSize: []int{3}, Strides: []int{2}, Padding: "SAME"}},
	{[]int{3, 11, 1}, PoolOptions{KSize: []int{2}, Strides: []int{3}, Padding: "VALID"}},
	{[]int{2, 3, 7}, PoolOptions{KSize: []int{2}, Strides: []int{1}, Padding: "SAME", DataFormat: "NCW"}},
	{[]int{1, 1, 1, 1}, PoolOptions{KSize: []int{1}, Padding: "SAME"}},
	{[]int{2, 5, 7, 3}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}},
	{[]int{3, 7, 5, 2}, PoolOptions{KSize: []int{3, 2}, Strides: []int{2, 3}, Padding: "VALID"}},
	{[]int{1, 5, 5, 5}, PoolOptions{KSize: []int{7}, Strides: []int{1}, Padding: "SAME"}},
	{[]int{2, 13, 11, 3}, PoolOptions{KSize: []int{1, 3, 3, 1}, Strides: []int{1, 2, 2, 1}, Padding: "SAME"}},
	{[]int{2, 3, 7, 5}, PoolOptions{KSize: []int{3, 2}, Strides: []int{2, 1}, Padding: "SAME", DataFormat: "NCHW"}},
	{[]int{1, 2, 6, 5}, PoolOptions{KSize: []int{1, 1, 2, 2}, Strides: []int{1, 1, 2, 2}, Padding: "VALID", DataFormat: "NCHW"}},
	{[]int{2, 3, 5, 4, 3}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}},
	{[]int{1, 5, 3, 7, 2}, PoolOptions{KSize: []int{3, 1, 2}, Strides: []int{1, 2, 3}, Padding: "VALID"}},
	{[]int{2, 3, 3, 5, 4}, PoolOptions{KSize: []int{2, 3, 2}, Strides: []int{2, 1, 2}, Padding: "SAME", DataFormat: "NCDHW"}},
}

// poolParallelCases are large enough for the kernels to split the work
// across goroutines (checked against the reference, not by gradcheck).
var poolParallelCases = []struct {
	shape []int
	o     PoolOptions
}{
	{[]int{8, 16, 16, 16}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}},
	{[]int{5, 17, 19, 9}, PoolOptions{KSize: []int{3}, Strides: []int{1}, Padding: "SAME"}},
	{[]int{4, 9, 23, 29}, PoolOptions{KSize: []int{3, 2}, Strides: []int{2, 1}, Padding: "VALID", DataFormat: "NCHW"}},
}

func poolCaseName(shape []int, o PoolOptions) string {
	f := o.DataFormat
	if f == "" {
		f = "last"
	}
	return strings.ReplaceAll(fmt.Sprintf("%v/%s/k%v/s%v/%s", shape, f, o.KSize, o.Strides, o.Padding), " ", "x")
}

// The fast float32 kernels against the plain-loop references.
func TestPoolFastMatchesReference(t *testing.T) {
	for i, tc := range append(poolCases[:len(poolCases):len(poolCases)], poolParallelCases...) {
		t.Run(poolCaseName(tc.shape, tc.o), func(t *testing.T) {
			x := tensor.Must(tensor.New(tc.shape, opsRandom(tensor.Size(tc.shape), uint64(i))))
			g, err := poolSetup("test", tc.shape, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			ymax, err := MaxPool(x, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			yavg, err := AvgPool(x, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(ymax.Shape(), g.outShape) || !tensor.SameShape(yavg.Shape(), g.outShape) {
				t.Fatalf("output shapes %v, %v; want %v", ymax.Shape(), yavg.Shape(), g.outShape)
			}
			opsClose(t, "MaxPool", ymax.Data(), maxPoolRef(g, x.Data()), 0)
			opsClose(t, "AvgPool", yavg.Data(), avgPoolRef(g, x.Data()), 1e-6)

			gy := tensor.Must(tensor.New(g.outShape, opsRandom(tensor.Size(g.outShape), uint64(i)+100)))
			dmax, err := MaxPoolGrad(x, gy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			davg, err := AvgPoolGrad(tc.shape, gy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, "MaxPoolGrad", dmax.Data(), maxPoolGradRef(g, x.Data(), gy.Data()), 1e-6)
			opsClose(t, "AvgPoolGrad", davg.Data(), avgPoolGradRef(g, x.Len(), gy.Data()), 1e-6)
		})
	}
}

// Channels-first pooling is channels-last pooling of the transposed input.
func TestPoolChannelsFirstIsTransposed(t *testing.T) {
	const n, c, h, w = 2, 3, 5, 4
	xl := tensor.Must(tensor.New([]int{n, h, w, c}, opsRandom(n*h*w*c, 9)))
	xf := tensor.Zeros(n, c, h, w)
	for i := 0; i < n*h*w*c; i++ {
		b, y, x, ch := i/(h*w*c), i/(w*c)%h, i/c%w, i%c
		xf.Data()[((b*c+ch)*h+y)*w+x] = xl.Data()[i]
	}
	o := PoolOptions{KSize: []int{3, 2}, Strides: []int{2, 2}, Padding: "SAME"}
	of := o
	of.DataFormat = "NCHW"
	for _, f := range []struct {
		name string
		op   func(*tensor.Tensor, PoolOptions) (*tensor.Tensor, error)
	}{{"max", MaxPool}, {"avg", AvgPool}} {
		t.Run(f.name, func(t *testing.T) {
			yl, err := f.op(xl, o)
			if err != nil {
				t.Fatal(err)
			}
			yf, err := f.op(xf, of)
			if err != nil {
				t.Fatal(err)
			}
			oh, ow := yl.Dim(1), yl.Dim(2)
			if !tensor.SameShape(yf.Shape(), []int{n, c, oh, ow}) {
				t.Fatalf("NCHW output shape %v, want %v", yf.Shape(), []int{n, c, oh, ow})
			}
			for i, v := range yl.Data() {
				b, y, x, ch := i/(oh*ow*c), i/(ow*c)%oh, i/c%ow, i%c
				if got := yf.Data()[((b*c+ch)*oh+y)*ow+x]; got != v {
					t.Fatalf("NCHW (%d,%d,%d,%d) = %v, NHWC gives %v", b, ch, y, x, got, v)
				}
			}
		})
	}
}

// The float64 references' gradients against central differences.
func TestPoolGradcheck(t *testing.T) {
	for i, tc := range poolCases {
		t.Run(poolCaseName(tc.shape, tc.o), func(t *testing.T) {
			g, err := poolSetup("test", tc.shape, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			x := opsDistinct(tensor.Size(tc.shape), uint64(i))
			nOut := tensor.Size(g.outShape)
			w, f := gradcheck.Project(nOut, uint64(i), func(x []float64) []float64 { return maxPoolRef(g, x) })
			if err := gradcheck.Check(f, x, maxPoolGradRef(g, x, w), gradcheck.Options{}); err != nil {
				t.Errorf("MaxPoolGrad: %v", err)
			}
			w, f = gradcheck.Project(nOut, uint64(i), func(x []float64) []float64 { return avgPoolRef(g, x) })
			if err := gradcheck.Check(f, x, avgPoolGradRef(g, len(x), w), gradcheck.Options{}); err != nil {
				t.Errorf("AvgPoolGrad: %v", err)
			}
		})
	}
}

func TestPoolErrors(t *testing.T) {
	x4 := tensor.Zeros(1, 4, 4, 2)
	for _, tc := range []struct {
		name  string
		shape []int
		o     PoolOptions
		quote string
	}{
		{"rank 2", []int{4, 4}, PoolOptions{KSize: []int{2}}, "[4 4]"},
		{"rank 6", []int{1, 2, 2, 2, 2, 1}, PoolOptions{KSize: []int{2}}, "[1 2 2 2 2 1]"},
		{"window over batch", x4.Shape(), PoolOptions{KSize: []int{2, 2, 2, 1}}, "[2 2 2 1]"},
		{"window over channels", x4.Shape(), PoolOptions{KSize: []int{1, 2, 2, 2}}, "[1 2 2 2]"},
		{"stride over channels NCHW", []int{1, 2, 4, 4}, PoolOptions{KSize: []int{2}, Strides: []int{1, 2, 2, 2}, DataFormat: "NCHW"}, "[1 2 2 2]"},
		{"three ksize values for 2-D", x4.Shape(), PoolOptions{KSize: []int{2, 2, 2}}, "[2 2 2]"},
		{"zero stride", x4.Shape(), PoolOptions{KSize: []int{2}, Strides: []int{0}}, "[0]"},
		{"VALID window larger than input", x4.Shape(), PoolOptions{KSize: []int{6}, Padding: "VALID"}, "VALID"},
		{"explicit padding missing", x4.Shape(), PoolOptions{KSize: []int{2}, Padding: "EXPLICIT"}, "EXPLICIT"},
		{"explicit padding of the window", x4.Shape(), PoolOptions{KSize: []int{2}, Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{2, 0}, {0, 0}}}, "must be smaller than the window 2"},
		{"explicit padding around an empty dimension", []int{1, 0, 4, 1}, PoolOptions{KSize: []int{2}, Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 1}, {0, 0}}}, "dimension 0 of size 0"},
		{"explicit padding over channels", x4.Shape(), PoolOptions{KSize: []int{2}, Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{0, 0}, {1, 1}, {1, 1}, {1, 0}}}, "batch or channel"},
		{"explicit padding count", x4.Shape(), PoolOptions{KSize: []int{2}, Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 1}}}, "[[1 1]]"},
		{"unknown padding", x4.Shape(), PoolOptions{KSize: []int{2}, Padding: "FULL"}, "FULL"},
		{"format of another rank", x4.Shape(), PoolOptions{KSize: []int{2}, DataFormat: "NDHWC"}, "NDHWC"},
		{"negative dimension", []int{1, -4, 4, 1}, PoolOptions{KSize: []int{2}}, "[1 -4 4 1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s succeeded, want an error", op)
				}
				if !strings.Contains(err.Error(), tc.quote) || !strings.Contains(err.Error(), op) {
					t.Fatalf("%s error %q does not name the op and quote %q", op, err, tc.quote)
				}
			}
			if tc.name != "negative dimension" {
				x := tensor.Zeros(tc.shape...)
				_, err := MaxPool(x, tc.o)
				check("MaxPool", err)
				_, err = AvgPool(x, tc.o)
				check("AvgPool", err)
				_, err = MaxPoolGrad(x, x, tc.o)
				check("MaxPoolGrad", err)
			}
			_, err := AvgPoolGrad(tc.shape, x4, tc.o)
			check("AvgPoolGrad", err)
		})
	}
	t.Run("grad of the wrong shape", func(t *testing.T) {
		o := PoolOptions{KSize: []int{2}, Strides: []int{2}}
		bad := tensor.Zeros(1, 2, 3, 2)
		if _, err := MaxPoolGrad(x4, bad, o); err == nil || !strings.Contains(err.Error(), "[1 2 3 2]") || !strings.Contains(err.Error(), "[1 2 2 2]") {
			t.Errorf("MaxPoolGrad error %v, want one quoting [1 2 3 2] and [1 2 2 2]", err)
		}
		if _, err := AvgPoolGrad(x4.Shape(), bad, o); err == nil || !strings.Contains(err.Error(), "[1 2 3 2]") {
			t.Errorf("AvgPoolGrad error %v, want one quoting [1 2 3 2]", err)
		}
	})
	t.Run("nil tensors", func(t *testing.T) {
		o := PoolOptions{KSize: []int{2}}
		if _, err := MaxPool(nil, o); err == nil {
			t.Error("MaxPool(nil) succeeded")
		}
		if _, err := MaxPoolGrad(x4, nil, o); err == nil {
			t.Error("MaxPoolGrad(x, nil) succeeded")
		}
		if _, err := AvgPoolGrad(x4.Shape(), nil, o); err == nil {
			t.Error("AvgPoolGrad(shape, nil) succeeded")
		}
	})
	t.Run("input shape too large", func(t *testing.T) {
		// A window as large as the input leaves a one-cell grad, but the
		// input shape holds 2⁶⁰ cells: an error, before any storage.
		big := 1 << 30
		o := PoolOptions{KSize: []int{1, big, big, 1}, Padding: "VALID"}
		_, err := AvgPoolGrad([]int{1, big, big, 1}, tensor.Zeros(1, 1, 1, 1), o)
		if err == nil || !strings.Contains(err.Error(), "AvgPoolGrad") || !strings.Contains(err.Error(), "[1 1073741824 1073741824 1]") {
			t.Errorf("AvgPoolGrad of a too large input shape: error %v, want one naming the op and quoting the shape", err)
		}
	})
}

// The lecture's pooling layer: [128, 28, 28, 32] NHWC, 2x2 stride 2 SAME,
// forward and backward, fast kernels beside the plain-loop reference.
func BenchmarkMaxPoolLecture(b *testing.B) {
	shape := []int{128, 28, 28, 32}
	o := PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	x := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 1)))
	g, err := poolSetup("MaxPool", shape, o)
	if err != nil {
		b.Fatal(err)
	}
	gy := tensor.Must(tensor.New(g.outShape, opsRandom(tensor.Size(g.outShape), 2)))
	bytes := int64(4 * (2*x.Len() + 2*gy.Len())) // x read twice, y and grad once, dx written
	b.Run("impl=fast", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			if _, err := MaxPool(x, o); err != nil {
				b.Fatal(err)
			}
			if _, err := MaxPoolGrad(x, gy, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=ref", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			maxPoolRef(g, x.Data())
			maxPoolGradRef(g, x.Data(), gy.Data())
		}
	})
}

// Empty batches, channels or (under SAME) spatial sizes give empty outputs.
func TestPoolEmpty(t *testing.T) {
	for _, tc := range []struct {
		shape, want []int
		o           PoolOptions
	}{
		{[]int{0, 4, 4, 3}, []int{0, 2, 2, 3}, PoolOptions{KSize: []int{2}, Strides: []int{2}}},
		{[]int{2, 4, 4, 0}, []int{2, 2, 2, 0}, PoolOptions{KSize: []int{2}, Strides: []int{2}}},
		{[]int{2, 0, 5, 3}, []int{2, 0, 3, 3}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}},
		{[]int{1, 3, 0, 4}, []int{1, 3, 0, 2}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME", DataFormat: "NCHW"}},
	} {
		t.Run(fmt.Sprint(tc.shape), func(t *testing.T) {
			x := tensor.Zeros(tc.shape...)
			for name, op := range map[string]func(*tensor.Tensor, PoolOptions) (*tensor.Tensor, error){"MaxPool": MaxPool, "AvgPool": AvgPool} {
				y, err := op(x, tc.o)
				if err != nil || !tensor.SameShape(y.Shape(), tc.want) {
					t.Fatalf("%s: %v, %v; want shape %v", name, y, err, tc.want)
				}
			}
			g := tensor.Zeros(tc.want...)
			if dx, err := MaxPoolGrad(x, g, tc.o); err != nil || !tensor.SameShape(dx.Shape(), tc.shape) {
				t.Fatalf("MaxPoolGrad: %v, %v", dx, err)
			}
			if dx, err := AvgPoolGrad(tc.shape, g, tc.o); err != nil || !tensor.SameShape(dx.Shape(), tc.shape) {
				t.Fatalf("AvgPoolGrad: %v, %v", dx, err)
			}
		})
	}
}

// The small ResNet's global average pooling backward: [128, 14, 14, 32]
// NHWC, one 14×14 window per image (as layers.GlobalAveragePooling2D).
func BenchmarkAvgPoolGradGlobal(b *testing.B) {
	shape := []int{128, 14, 14, 32}
	o := PoolOptions{KSize: []int{14}, Strides: []int{14}, Padding: "VALID"}
	gy := tensor.Must(tensor.New([]int{128, 1, 1, 32}, opsRandom(128*32, 2)))
	b.SetBytes(int64(4 * tensor.Size(shape)))
	for b.Loop() {
		dx, err := AvgPoolGrad(shape, gy, o)
		if err != nil {
			b.Fatal(err)
		}
		pool.Recycle(dx.Data()) // as a training step's workspace does
	}
}
