package nn

import (
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// A Packed filter keeps the spec and plan of its last geometry: the same
// call reuses them, and a call with another input shape, other options
// or another tuning plans afresh. Every call gives Conv2D's bits.
func TestPackedConvMemo(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	w := randT(1, -1, 1, 5, 5, 8, 16)
	p := NewPacked(w)
	same := ConvOptions{Strides: []int{1, 1}, Padding: "SAME"}
	for _, tc := range []struct {
		name   string
		in     []int
		o      ConvOptions
		retune bool
		procs  int  // GOMAXPROCS for the call (0: as it is)
		fresh  bool // a new memo is expected
	}{
		{"first call", []int{1, 12, 12, 8}, same, false, 0, true},
		{"same geometry", []int{1, 12, 12, 8}, same, false, 0, false},
		{"equal options, new slices", []int{1, 12, 12, 8}, ConvOptions{Strides: []int{1, 1}, Padding: "SAME"}, false, 0, false},
		{"another batch", []int{2, 12, 12, 8}, same, false, 0, true},
		{"another padding", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{1, 1}, Padding: "VALID"}, false, 0, true},
		{"another stride", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{2, 2}, Padding: "VALID"}, false, 0, true},
		{"another tuning", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{2, 2}, Padding: "VALID"}, true, 0, true},
		{"another worker count", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{2, 2}, Padding: "VALID"}, false, runtime.GOMAXPROCS(0) + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.retune {
				tune.Winograd = !tune.Winograd
			}
			if tc.procs > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tc.procs))
			}
			before := p.memo.Load()
			x := randT(2, -1, 1, tc.in...)
			got, err := Conv2DPacked(x, p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			after := p.memo.Load()
			if fresh := after != before; fresh != tc.fresh {
				t.Errorf("new memo: %v, want %v", fresh, tc.fresh)
			}
			if !after.matches("nn.Conv2D", tc.in, tc.o) {
				t.Error("the memo does not match the call that made it")
			}
			want, err := Conv2D(x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range want.Data() {
				if math.Float32bits(v) != math.Float32bits(got.Data()[i]) {
					t.Fatalf("element %d: %v, want Conv2D's %v", i, got.Data()[i], v)
				}
			}
		})
	}
	if _, err := Conv2DPacked(randT(3, -1, 1, 1, 12, 12, 3), p, same); err == nil {
		t.Error("a memo let a 3-channel input through an 8-channel filter")
	}
}

// Calls of two geometries on one Packed from several goroutines replace
// each other's memo all the time; each must still get Conv2D's bits
// (run with -race).
func TestPackedConvMemoConcurrent(t *testing.T) {
	w := randT(1, -1, 1, 5, 5, 8, 16)
	p := NewPacked(w)
	o := ConvOptions{Padding: "SAME"}
	xs := []*tensor.Tensor{randT(2, -1, 1, 1, 9, 9, 8), randT(3, -1, 1, 2, 12, 12, 8)}
	var wants [][]float32
	for _, x := range xs {
		y, err := Conv2D(x, w, o)
		if err != nil {
			t.Fatal(err)
		}
		wants = append(wants, y.Data())
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := range 20 {
				i := (g + rep) % len(xs)
				y, err := Conv2DPacked(xs[i], p, o)
				if err != nil {
					t.Error(err)
					return
				}
				for j, v := range wants[i] {
					if math.Float32bits(v) != math.Float32bits(y.Data()[j]) {
						t.Errorf("goroutine %d, call %d: element %d is %v, want %v", g, rep, j, y.Data()[j], v)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
