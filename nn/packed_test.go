package nn

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/internal/env"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// TestMatMulPacked checks MatMulPacked against the plain-loop product on
// odd shapes: the first call (from w in place), the second (which packs
// w) and the third (packed) must agree bit for bit, with each other and
// with the same product on one worker; one-row products and those too
// long for the slabs (m > slabMaxRows, Sgemm panels) must also give
// MatMul's bits. Shapes cover one slab and several, a narrow last slab,
// widths off the 8-column blocks, and partial micro-kernel tiles.
func TestMatMulPacked(t *testing.T) {
	for _, d := range [][3]int{
		{1, 1, 1}, {1, 10, 1024}, {1, 1030, 70}, {1, 64, 5}, {1, 65, 300}, {1, 1024, 3136},
		{2, 17, 1}, {3, 63, 33}, {5, 130, 257}, {14, 64, 40}, {15, 200, 9},
		{slabMaxRows, 100, 50}, {slabMaxRows + 1, 70, 20}, {128, 33, 7}, {129, 1024, 300}, {200, 10, 1024},
	} {
		m, n, k := d[0], d[1], d[2]
		t.Run(fmt.Sprintf("m=%d,n=%d,k=%d", m, n, k), func(t *testing.T) {
			a := opsT([]int{m, k}, opsRandom(m*k, uint64(m*1000+k))...)
			w := opsT([]int{k, n}, opsRandom(k*n, uint64(n*1000+k))...)
			want := opsMatMulNaive(a.Data(), w.Data(), m, n, k)
			p := NewPacked(w)
			var first []float32
			for call := 1; call <= 3; call++ {
				y, err := MatMulPacked(a, p)
				if err != nil {
					t.Fatal(err)
				}
				if !tensor.SameShape(y.Shape(), []int{m, n}) {
					t.Fatalf("shape %v, want [%d %d]", y.Shape(), m, n)
				}
				opsClose(t, fmt.Sprintf("call %d", call), y.Data(), want, 1e-5*math.Sqrt(float64(k)))
				if call == 1 {
					first = y.Data()
					continue
				}
				bitsEqual(t, fmt.Sprintf("call %d against call 1", call), y.Data(), first)
			}
			if packed := p.slabs.cur != nil; packed != (m <= slabMaxRows) {
				t.Errorf("slabs packed: %v, want %v", packed, m <= slabMaxRows)
			}
			if packed := len(p.panels) > 0 && p.panels[0].cur != nil; packed != (m > slabMaxRows) {
				t.Errorf("Sgemm panels packed: %v, want %v", packed, m > slabMaxRows)
			}
			if m == 1 || m > slabMaxRows {
				ref, err := MatMul(a, w, false, false)
				if err != nil {
					t.Fatal(err)
				}
				bitsEqual(t, "against MatMul", first, ref.Data())
			}
			defer setWorkers(t, 1)()
			y, err := MatMulPacked(a, p)
			if err != nil {
				t.Fatal(err)
			}
			bitsEqual(t, "one worker", y.Data(), first)
		})
	}
}

// setWorkers sets GOMAXPROCS for a test and returns the restore.
func setWorkers(t *testing.T, n int) func() {
	t.Helper()
	old := runtime.GOMAXPROCS(n)
	return func() { runtime.GOMAXPROCS(old) }
}

// forwardSameBitsAcrossWorkers runs convForward over s with 1 to 4
// workers and fails unless every count gives the bits of one worker.
func forwardSameBitsAcrossWorkers(t *testing.T, s *convSpec, x, w []float32) {
	t.Helper()
	var want []float32
	for workers := 1; workers <= 4; workers++ {
		restore := setWorkers(t, workers)
		y := make([]float32, tensor.Size(s.out))
		convForward(&s.g, s.f, x, w, y)
		restore()
		if workers == 1 {
			want = y
			continue
		}
		bitsEqual(t, fmt.Sprintf("%d workers", workers), y, want)
	}
}

// TestMatMulPackedFollowsWrites changes the weights between calls in the
// ways the rest of convnet does (through the tensor, through a Reshape
// view, and with Fill) and checks that no call ever sees the old values,
// and that a rebuild nobody else holds reuses the memory of the packed
// form (slabs, or Sgemm panels for a long product).
func TestMatMulPackedFollowsWrites(t *testing.T) {
	const k, n = 37, 130
	for _, m := range []int{2, slabMaxRows + 5} {
		t.Run(fmt.Sprintf("m=%d", m), func(t *testing.T) { matMulPackedFollowsWrites(t, m, k, n) })
	}
}

func matMulPackedFollowsWrites(t *testing.T, m, k, n int) {
	a := opsT([]int{m, k}, opsRandom(m*k, 1)...)
	w := opsT([]int{k, n}, opsRandom(k*n, 2)...)
	p := NewPacked(w)
	check := func(what string) {
		t.Helper()
		for call := 0; call < 3; call++ { // w is packed on the second
			y, err := MatMulPacked(a, p)
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, fmt.Sprintf("%s, call %d", what, call), y.Data(), opsMatMulNaive(a.Data(), w.Data(), m, n, k), 1e-5)
		}
	}
	check("initial weights")
	memory := func() *float32 {
		if m <= slabMaxRows {
			return &p.slabs.cur.v[0]
		}
		if buf := p.panels[0].cur.v.buf; len(buf) > 0 {
			return &buf[0]
		}
		return nil // the ref implementation packs nothing
	}
	mem := memory()
	for _, tc := range []struct {
		name  string
		write func()
	}{
		{"Data and MarkChanged", func() {
			for i, v := range w.Data() {
				w.Data()[i] = -v
			}
			w.MarkChanged()
		}},
		{"a Reshape view", func() {
			v := tensor.Must(w.Reshape(-1))
			v.Data()[5] = 9
			v.MarkChanged()
		}},
		{"Fill", func() { w.Fill(0.5) }},
	} {
		tc.write()
		check(tc.name)
		if memory() != mem {
			t.Errorf("%s: the rebuild took new memory while nobody held the old slabs", tc.name)
		}
	}
}

// TestPackedHeldFormIsNotOverwritten holds a form (as a call in flight
// does) while the weights change: the rebuild must take fresh memory and
// leave the held panels as they were.
func TestPackedHeldFormIsNotOverwritten(t *testing.T) {
	const k, n = 5, 70
	w := opsT([]int{k, n}, opsRandom(k*n, 3)...)
	p := NewPacked(w)
	build := func(reuse []float32) []float32 {
		if cap(reuse) < k*n {
			reuse = make([]float32, k*n)
		}
		packSlabs(reuse[:k*n], w.Data(), k, n)
		return reuse[:k*n]
	}
	if f := p.slabs.acquire(w.Version(), build); f != nil {
		t.Fatal("the first request built the slabs")
	}
	held := p.slabs.acquire(w.Version(), build)
	if held == nil {
		t.Fatal("the second request did not build the slabs")
	}
	before := append([]float32(nil), held.v...)
	w.Fill(7)
	if f := p.slabs.acquire(w.Version(), build); f != nil {
		t.Fatal("the first request at a new version built the slabs")
	}
	fresh := p.slabs.acquire(w.Version(), build)
	if fresh == nil || fresh == held || &fresh.v[0] == &held.v[0] {
		t.Fatal("the rebuild reused slabs a call still holds")
	}
	bitsEqual(t, "held slabs", held.v, before)
	for _, v := range fresh.v {
		if v != 7 {
			t.Fatalf("rebuilt slabs hold %v, want 7", v)
		}
	}
}

// TestMatMulPackedConcurrent runs MatMulPacked from several goroutines on
// one Packed (go test -race checks the locking); all must agree.
func TestMatMulPackedConcurrent(t *testing.T) {
	const m, k, n = 3, 50, 200
	a := opsT([]int{m, k}, opsRandom(m*k, 4)...)
	w := opsT([]int{k, n}, opsRandom(k*n, 5)...)
	p := NewPacked(w)
	want, err := MatMulPacked(a, p)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				y, err := MatMulPacked(a, p)
				if err != nil {
					errs <- err
					return
				}
				for j, v := range y.Data() {
					if math.Float32bits(v) != math.Float32bits(want.Data()[j]) {
						errs <- fmt.Errorf("value %d is %v, want %v", j, v, want.Data()[j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestMatMulPackedErrors(t *testing.T) {
	if _, err := MatMulPacked(opsT([]int{2, 3}, make([]float32, 6)...), nil); err == nil {
		t.Error("nil Packed accepted")
	}
	p := NewPacked(opsT([]int{4, 2}, make([]float32, 8)...))
	if _, err := MatMulPacked(opsT([]int{2, 3}, make([]float32, 6)...), p); err == nil {
		t.Error("[2 3] times [4 2] accepted")
	}
	if _, err := MatMulPacked(opsT([]int{6}, make([]float32, 6)...), p); err == nil {
		t.Error("rank-1 a accepted")
	}
}

// TestConv2DPacked checks that Conv2DPacked and Conv2DBiasReluPacked give
// the bits of Conv2D and Conv2DBiasRelu on the first call (from the
// filter), the second (which transforms it) and later ones, for Winograd
// geometries (both schemes, a bottom-right edge, channels-first) and
// others (3×3, strided, single-channel), and follow a change of the
// filter.
func TestConv2DPacked(t *testing.T) {
	for _, tc := range []struct {
		name          string
		in, filter    []int
		strides       []int
		padding       string
		format        string
		wantWinograd  bool
		bias, winoOff bool
	}{
		{name: "lecture conv2 batch 1", in: []int{1, 14, 14, 32}, filter: []int{5, 5, 32, 64}, padding: "SAME", wantWinograd: true},
		{name: "odd edge, batch 2", in: []int{2, 7, 9, 8}, filter: []int{5, 5, 8, 16}, padding: "SAME", wantWinograd: true, bias: true},
		{name: "VALID channels-first", in: []int{1, 9, 11, 8}, filter: []int{5, 5, 8, 9}, padding: "VALID", format: "NCHW", wantWinograd: true, bias: true},
		{name: "3x3", in: []int{1, 9, 9, 8}, filter: []int{3, 3, 8, 12}, padding: "SAME", bias: true},
		{name: "strided", in: []int{1, 12, 12, 8}, filter: []int{5, 5, 8, 16}, strides: []int{2, 2}, padding: "SAME"},
		{name: "single channel", in: []int{1, 28, 28, 1}, filter: []int{5, 5, 1, 32}, padding: "SAME", bias: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.format == "NCHW" {
				tc.in = []int{tc.in[0], tc.in[3], tc.in[1], tc.in[2]}
			}
			x := opsT(tc.in, opsRandom(tensor.Size(tc.in), 6)...)
			w := opsT(tc.filter, opsRandom(tensor.Size(tc.filter), 7)...)
			bias := opsT([]int{tc.filter[3]}, opsRandom(tc.filter[3], 8)...)
			o := ConvOptions{Strides: tc.strides, Padding: tc.padding, DataFormat: tc.format}
			p := NewPacked(w)
			run := func(packed bool) *tensor.Tensor {
				t.Helper()
				var y *tensor.Tensor
				var err error
				switch {
				case tc.bias && packed:
					y, err = Conv2DBiasReluPacked(x, p, bias, o)
				case tc.bias:
					y, err = Conv2DBiasRelu(x, w, bias, o)
				case packed:
					y, err = Conv2DPacked(x, p, o)
				default:
					y, err = Conv2D(x, w, o)
				}
				if err != nil {
					t.Fatal(err)
				}
				return y
			}
			for _, change := range []string{"initial filter", "after Fill", "after MarkChanged"} {
				switch change {
				case "after Fill":
					w.Fill(0.25)
				case "after MarkChanged":
					copy(w.Data(), opsRandom(w.Len(), 9))
					w.MarkChanged()
				}
				want := run(false)
				for call := 1; call <= 3; call++ {
					bitsEqual(t, fmt.Sprintf("%s, call %d", change, call), run(true).Data(), want.Data())
				}
			}
			if got := len(p.wino) > 0 && p.wino[0].cur != nil; got != (tc.wantWinograd && tune.Winograd && kernels.Impl() != "ref") {
				t.Errorf("Winograd filters kept: %v, want %v", got, tc.wantWinograd)
			}
		})
	}
}

// TestConv2DPackedPerImpl switches the Sgemm implementation between calls:
// the packed panels are the implementation's, so each keeps its own and
// the values follow the implementation in use.
func TestConv2DPackedPerImpl(t *testing.T) {
	x := opsT([]int{1, 10, 10, 16}, opsRandom(1600, 10)...)
	w := opsT([]int{5, 5, 16, 16}, opsRandom(5*5*16*16, 11)...)
	o := ConvOptions{Padding: "SAME"}
	p := NewPacked(w)
	orig := kernels.Impl()
	defer restoreDispatch(t, orig)
	for _, impl := range []string{orig, "purego", orig, "purego"} {
		if err := kernels.SetImpl(impl); err != nil {
			t.Fatal(err)
		}
		want, err := Conv2D(x, w, o)
		if err != nil {
			t.Fatal(err)
		}
		for call := 1; call <= 3; call++ {
			y, err := Conv2DPacked(x, p, o)
			if err != nil {
				t.Fatal(err)
			}
			bitsEqual(t, fmt.Sprintf("%s, call %d", impl, call), y.Data(), want.Data())
		}
	}
	if orig != "purego" && orig != "ref" && len(p.wino) != 2 {
		t.Errorf("%d Winograd forms kept, want one for each of two implementations", len(p.wino))
	}
}

// TestMatMulPackedPerImpl switches the Sgemm implementation between
// calls: the Sgemm panels of a long product are the implementation's, so
// each keeps its own and the values follow the implementation in use.
func TestMatMulPackedPerImpl(t *testing.T) {
	const m, k, n = slabMaxRows + 20, 70, 90
	a := opsT([]int{m, k}, opsRandom(m*k, 12)...)
	w := opsT([]int{k, n}, opsRandom(k*n, 13)...)
	p := NewPacked(w)
	orig := kernels.Impl()
	defer restoreDispatch(t, orig)
	for _, impl := range []string{orig, "purego", orig, "ref", "purego"} {
		if err := kernels.SetImpl(impl); err != nil {
			t.Fatal(err)
		}
		want, err := MatMul(a, w, false, false)
		if err != nil {
			t.Fatal(err)
		}
		for call := 1; call <= 3; call++ {
			y, err := MatMulPacked(a, p)
			if err != nil {
				t.Fatal(err)
			}
			bitsEqual(t, fmt.Sprintf("%s, call %d", impl, call), y.Data(), want.Data())
		}
	}
}

func TestConv2DPackedErrors(t *testing.T) {
	x := opsT([]int{1, 4, 4, 2}, make([]float32, 32)...)
	if _, err := Conv2DPacked(x, nil, ConvOptions{Padding: "SAME"}); err == nil {
		t.Error("nil Packed accepted")
	}
	if _, err := Conv2DBiasReluPacked(x, nil, opsT([]int{3}, 0, 0, 0), ConvOptions{Padding: "SAME"}); err == nil {
		t.Error("nil Packed accepted by Conv2DBiasReluPacked")
	}
	p := NewPacked(opsT([]int{3, 3, 5, 3}, make([]float32, 135)...))
	if _, err := Conv2DPacked(x, p, ConvOptions{Padding: "SAME"}); err == nil {
		t.Error("a filter of 5 input channels accepted for 2")
	}
}

// restoreDispatch puts back the dispatch a test found: the pinned
// implementation orig when CONVNET_KERNELS chose it, else the default
// (which may run narrow products on another engine than orig).
func restoreDispatch(t *testing.T, orig string) {
	t.Helper()
	if env.KernelsChoice() != orig {
		orig = ""
	}
	if err := kernels.SetImpl(orig); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkMatMulPacked times a dense layer's forward by weights kept in
// a Packed (slabs up to slabMaxRows rows, Sgemm panels beyond) against
// MatMul, which reads or packs the weights on every call: the lecture
// model's fc1 [3136, 1024] and fc2 [1024, 10] at batch 1, 8 and 128.
//
//	go test -run '^$' -bench MatMulPacked ./nn
func BenchmarkMatMulPacked(b *testing.B) {
	for _, d := range [][3]int{{1, 3136, 1024}, {8, 3136, 1024}, {128, 3136, 1024}, {1, 1024, 10}, {128, 1024, 10}} {
		m, k, n := d[0], d[1], d[2]
		a := randT(1, -1, 1, m, k)
		w := randT(2, -1, 1, k, n)
		p := NewPacked(w)
		for range 2 { // the second call at one version packs
			if _, err := MatMulPacked(a, p); err != nil {
				b.Fatal(err)
			}
		}
		for _, impl := range []struct {
			name string
			f    func() (*tensor.Tensor, error)
		}{
			{"packed", func() (*tensor.Tensor, error) { return MatMulPacked(a, p) }},
			{"matmul", func() (*tensor.Tensor, error) { return MatMul(a, w, false, false) }},
		} {
			b.Run(fmt.Sprintf("%dx%dx%d/impl=%s", m, k, n, impl.name), func(b *testing.B) {
				for b.Loop() {
					if _, err := impl.f(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
