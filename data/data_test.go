package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ramp returns a Memory of n gray h×w images whose pixel j of image i is
// (i + j) mod 256, labelled i mod classes.
func ramp(t *testing.T, n, h, w, classes int) *Memory {
	t.Helper()
	sh := Shape{H: h, W: w, C: 1}
	px := make([]uint8, n*sh.Size())
	lb := make([]uint8, n)
	for i := range n {
		for j := range sh.Size() {
			px[i*sh.Size()+j] = uint8(i + j)
		}
		lb[i] = uint8(i % classes)
	}
	names := make([]string, classes)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	m, err := NewMemory(px, lb, sh, names)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewMemoryRejects(t *testing.T) {
	cases := []struct {
		name   string
		px, lb []uint8
		sh     Shape
		want   string
	}{
		{"zero size", nil, nil, Shape{0, 2, 1}, "positive"},
		{"pixels short", make([]uint8, 3), make([]uint8, 1), Shape{2, 2, 1}, "3 pixel values"},
		{"label too big", make([]uint8, 4), []uint8{2}, Shape{2, 2, 1}, "label 0 is 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewMemory(c.px, c.lb, c.sh, []string{"a", "b"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestSplitDisjointAndStable(t *testing.T) {
	ds := ramp(t, 100, 2, 2, 3)
	a, b := Split(ds, 70, 7)
	if a.Len() != 70 || b.Len() != 30 {
		t.Fatalf("sizes %d, %d, want 70, 30", a.Len(), b.Len())
	}
	seen := map[int]bool{}
	for _, i := range append(append([]int(nil), a.Index...), b.Index...) {
		if seen[i] {
			t.Fatalf("example %d is in both halves (or twice)", i)
		}
		seen[i] = true
	}
	if len(seen) != 100 {
		t.Fatalf("split covers %d of 100 examples", len(seen))
	}
	a2, _ := Split(ds, 70, 7)
	if !reflect.DeepEqual(a.Index, a2.Index) {
		t.Fatal("same seed gave a different split")
	}
	a3, _ := Split(ds, 70, 8)
	if reflect.DeepEqual(a.Index, a3.Index) {
		t.Fatal("another seed gave the same split")
	}
	buf := make([]float32, 4)
	l, err := a.Example(3, buf)
	if err != nil || l != a.Index[3]%3 || buf[0] != float32(uint8(a.Index[3]))/255 {
		t.Fatalf("subset example 3 = label %d, %v, %v; want example %d of the parent", l, buf, err, a.Index[3])
	}
}

func collect(t *testing.T, b *Batches) ([][]float32, [][]int) {
	t.Helper()
	defer b.Close()
	var xs [][]float32
	var ls [][]int
	for {
		x, l, ok := b.Next()
		if !ok {
			break
		}
		xs = append(xs, x.Data())
		ls = append(ls, l)
	}
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	return xs, ls
}

func TestBatchesSameWhateverTheWorkers(t *testing.T) {
	ds := ramp(t, 53, 5, 4, 4)
	opt := BatchOptions{BatchSize: 8, Shuffle: true, Seed: 3, Augment: Augment{Shift: 1, FlipH: true, Rotate: 10}}
	var ref [][]float32
	var refL [][]int
	for _, w := range []int{1, 2, 5} {
		opt.Workers = w
		xs, ls := collect(t, NewBatches(ds, opt, 2))
		if len(ls) != 7 || len(ls[6]) != 5 {
			t.Fatalf("workers %d: %d batches (last %d), want 7 with 5 in the last", w, len(ls), len(ls[len(ls)-1]))
		}
		if ref == nil {
			ref, refL = xs, ls
			continue
		}
		if !reflect.DeepEqual(xs, ref) || !reflect.DeepEqual(ls, refL) {
			t.Fatalf("workers %d gave other batches than 1 worker", w)
		}
	}
	// Resuming: skipping 3 batches then reading gives the tail.
	opt.Workers = 3
	b := NewBatches(ds, opt, 2)
	b.Skip(3)
	xs, _ := collect(t, b)
	if !reflect.DeepEqual(xs, ref[3:]) {
		t.Fatal("Skip(3) then Next differs from the uninterrupted epoch")
	}
	// Another epoch is another order.
	_, ls := collect(t, NewBatches(ds, opt, 3))
	if reflect.DeepEqual(ls, refL) {
		t.Fatal("epochs 2 and 3 have the same order")
	}
}

func TestBatchesNoAugmentIsExact(t *testing.T) {
	ds := ramp(t, 10, 3, 3, 2)
	nm := &Normalization{Mean: []float32{0.5}, Std: []float32{0.25}}
	xs, ls := collect(t, NewBatches(ds, BatchOptions{BatchSize: 4, Normalize: nm}, 0))
	buf := make([]float32, 9)
	for i := range 10 {
		l, _ := ds.Example(i, buf)
		if ls[i/4][i%4] != l {
			t.Fatalf("example %d: label %d, want %d", i, ls[i/4][i%4], l)
		}
		for j, v := range buf {
			if got, want := xs[i/4][(i%4)*9+j], (v-0.5)/0.25; got != want {
				t.Fatalf("example %d value %d = %v, want (%v−0.5)/0.25 = %v", i, j, got, v, want)
			}
		}
	}
}

// failing fails on the examples in bad.
type failing struct {
	*Memory
	bad map[int]bool
}

func (f failing) Example(i int, dst []float32) (int, error) {
	if f.bad[i] {
		return 0, fmt.Errorf("example %d is corrupt", i)
	}
	return f.Memory.Example(i, dst)
}

func TestBatchesBadExamples(t *testing.T) {
	ds := failing{ramp(t, 10, 2, 2, 2), map[int]bool{4: true, 5: true}}
	b := NewBatches(ds, BatchOptions{BatchSize: 4}, 0)
	n := 0
	for {
		if _, _, ok := b.Next(); !ok {
			break
		}
		n++
	}
	b.Close()
	if n != 1 || b.Err() == nil || !strings.Contains(b.Err().Error(), "example 4 is corrupt") {
		t.Fatalf("got %d batches and err %v, want 1 batch then example 4's error", n, b.Err())
	}
	_, ls := collect(t, NewBatches(ds, BatchOptions{BatchSize: 4, SkipBad: true}, 0))
	if got := []int{len(ls[0]), len(ls[1]), len(ls[2])}; !reflect.DeepEqual(got, []int{4, 2, 2}) {
		t.Fatalf("batch sizes with SkipBad %v, want [4 2 2]", got)
	}
	b = NewBatches(ds, BatchOptions{BatchSize: 4, SkipBad: true}, 0)
	collect(t, b)
	if b.Skipped() != 2 {
		t.Fatalf("Skipped() = %d, want 2", b.Skipped())
	}
}

func TestBatchesOptionErrors(t *testing.T) {
	ds := ramp(t, 4, 2, 2, 2)
	for name, b := range map[string]*Batches{
		"nil dataset": NewBatches(nil, BatchOptions{BatchSize: 1}, 0),
		"batch 0":     NewBatches(ds, BatchOptions{}, 0),
		"norm 3 chan": NewBatches(ds, BatchOptions{BatchSize: 1, Normalize: &Normalization{Mean: make([]float32, 3), Std: []float32{1, 1, 1}}}, 0),
	} {
		if _, _, ok := b.Next(); ok || b.Err() == nil {
			t.Errorf("%s: Next ok=%v err=%v, want no batch and an error", name, ok, b.Err())
		}
	}
}

func TestAugmentByHand(t *testing.T) {
	// 3×3 gray image 1…9.
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	sh := Shape{3, 3, 1}
	// Find draws that give a known shift/flip by trying seeds, then check
	// the output against the formula written out for that draw.
	a := Augment{Shift: 1, FlipH: true}
	dst := make([]float32, 9)
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		dy := r.IntN(3) - 1
		dx := r.IntN(3) - 1
		flip := r.IntN(2) == 1
		a.Apply(dst, src, sh, rand.New(rand.NewPCG(seed, 1)))
		for y := range 3 {
			for x := range 3 {
				xx := x
				if flip {
					xx = 2 - x
				}
				sy, sx := y-dy, xx-dx
				want := float32(0)
				if sy >= 0 && sy < 3 && sx >= 0 && sx < 3 {
					want = src[sy*3+sx]
				}
				if dst[y*3+x] != want {
					t.Fatalf("seed %d (dy %d dx %d flip %v): out[%d,%d] = %v, want %v", seed, dy, dx, flip, y, x, dst[y*3+x], want)
				}
			}
		}
	}
	// A shift of (0, +1) without flip moves every column right:
	// columns 0 is padding.
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 2))
		if r.IntN(3) != 1 || r.IntN(3) != 2 {
			continue
		}
		Augment{Shift: 1}.Apply(dst, src, sh, rand.New(rand.NewPCG(seed, 2)))
		want := []float32{0, 1, 2, 0, 4, 5, 0, 7, 8}
		if !reflect.DeepEqual(dst, want) {
			t.Fatalf("shift (0,+1): %v, want %v", dst, want)
		}
		return
	}
	t.Fatal("no seed drew the shift (0,+1)")
}

// TestErasingByHand replays Erasing's draws for many seeds and checks
// that exactly the rectangle they give is zeroed: its size within the
// documented area and ratio bounds, every other pixel untouched, and
// images left whole as often as the probability says.
func TestErasingByHand(t *testing.T) {
	sh := Shape{28, 20, 2}
	src := make([]float32, sh.Size())
	for i := range src {
		src[i] = float32(i%7) + 1 // no zeros
	}
	img := make([]float32, len(src))
	a := Augment{Erase: 0.5}
	erased := 0
	const seeds = 400
	for seed := range uint64(seeds) {
		copy(img, src)
		a.Erasing(img, sh, rand.New(rand.NewPCG(seed, 9)))
		// The same draws, written out.
		r := rand.New(rand.NewPCG(seed, 9))
		want := append([]float32(nil), src...)
		if r.Float64() < 0.5 {
			for range 10 {
				area := 0.02 + r.Float64()*0.31
				ratio := math.Exp(math.Log(0.3) + r.Float64()*(math.Log(3.3)-math.Log(0.3)))
				h := int(math.Round(math.Sqrt(area * 560 * ratio)))
				w := int(math.Round(math.Sqrt(area * 560 / ratio)))
				if h < 1 || w < 1 || h >= 28 || w >= 20 {
					continue
				}
				y0, x0 := r.IntN(28-h+1), r.IntN(20-w+1)
				if frac := float64(h*w) / 560; frac < 0.01 || frac > 0.40 {
					t.Fatalf("seed %d: rectangle %d×%d covers %.3f of the image", seed, h, w, frac)
				}
				for y := y0; y < y0+h; y++ {
					for x := x0; x < x0+w; x++ {
						want[(y*20+x)*2], want[(y*20+x)*2+1] = 0, 0
					}
				}
				erased++
				break
			}
		}
		if !reflect.DeepEqual(img, want) {
			t.Fatalf("seed %d: Erasing differs from its draws written out", seed)
		}
	}
	// Half the images, give or take 5 standard deviations of a binomial.
	if lo, hi := seeds/2-50, seeds/2+50; erased < lo || erased > hi {
		t.Errorf("%d of %d images erased with probability 0.5, want %d…%d", erased, seeds, lo, hi)
	}
}

// TestErasingAfterNormalize: erased pixels are 0 after normalisation,
// the channel mean, not the normalised image of black.
func TestErasingAfterNormalize(t *testing.T) {
	ds := ramp(t, 4, 8, 8, 1)
	norm := &Normalization{Mean: []float32{0.25}, Std: []float32{0.5}}
	b := NewBatches(ds, BatchOptions{BatchSize: 4, Seed: 5, Augment: Augment{Erase: 1}, Normalize: norm}, 0)
	defer b.Close()
	x, _, ok := b.Next()
	if !ok {
		t.Fatal(b.Err())
	}
	zeros := 0
	for _, v := range x.Data() {
		if v == 0 { // no pixel k/255 normalises to 0
			zeros++
		}
	}
	if zeros == 0 {
		t.Fatal("erase:1 left no pixel at the mean in 4 images: erased before normalising, or not at all")
	}
}

func TestAugmentRotationKeepsCentre(t *testing.T) {
	// A rotation about the centre of an odd image keeps the centre pixel
	// and, for a radially symmetric image, nearly everything.
	sh := Shape{5, 5, 1}
	src := make([]float32, 25)
	src[12] = 1
	dst := make([]float32, 25)
	Augment{Rotate: 30}.Apply(dst, src, sh, rand.New(rand.NewPCG(1, 1)))
	if dst[12] != 1 {
		t.Fatalf("centre after rotation = %v, want 1", dst[12])
	}
	// A constant image stays constant where the source point is inside:
	// the bilinear weights sum to 1.
	for i := range src {
		src[i] = 1
	}
	Augment{Rotate: 30}.Apply(dst, src, sh, rand.New(rand.NewPCG(1, 1)))
	for y := 1; y < 4; y++ {
		for x := 1; x < 4; x++ {
			if v := dst[y*5+x]; v < 1-1e-6 || v > 1+1e-6 {
				t.Fatalf("rotated constant image at (%d,%d) = %v, want 1", y, x, v)
			}
		}
	}
}

func TestResizeMatchesTF(t *testing.T) {
	// tf.image.resize([[0,1],[2,3]] as 1×2×2×1, [4,4], "bilinear") — TF 2's
	// half-pixel centres.
	src := []float32{0, 1, 2, 3}
	dst := make([]float32, 16)
	Resize(dst, src, Shape{2, 2, 1}, Shape{4, 4, 1})
	want := []float32{0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("resize 2×2→4×4 = %v, want %v", dst, want)
	}
	// Down by 2: each output is the mean of a 2×2 block's centre point.
	src = []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	dst = make([]float32, 4)
	Resize(dst, src, Shape{4, 4, 1}, Shape{2, 2, 1})
	want = []float32{2.5, 4.5, 10.5, 12.5}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("resize 4×4→2×2 = %v, want %v", dst, want)
	}
}

func TestNormalization(t *testing.T) {
	// Two 1×1 RGB images: channel means 0.5, 0.25, 0; deviations 0.5, 0.25, 0→1.
	m, err := NewMemory([]uint8{255, 0, 0, 0, 127, 0}, []uint8{0, 1}, Shape{1, 1, 3}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := ComputeNormalization(m, false)
	if err != nil {
		t.Fatal(err)
	}
	g := float32(127.0 / 255)
	want := &Normalization{Mean: []float32{0.5, g / 2, 0}, Std: []float32{0.5, g / 2, 1}}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("normalisation %v, want %v", n, want)
	}
	back, err := ParseNormalization(n.String(), 3)
	if err != nil || !reflect.DeepEqual(back, n) {
		t.Fatalf("round trip of %q = %v, %v", n.String(), back, err)
	}
	for _, bad := range []string{"", "1,2,3", "1,2;1,2", "a,0,0;1,1,1", "0,0,0;1,0,1", "0,0,0;1,NaN,1"} {
		if _, err := ParseNormalization(bad, 3); err == nil {
			t.Errorf("ParseNormalization(%q) accepted it", bad)
		}
	}
}

func TestParseAugment(t *testing.T) {
	cases := []struct {
		in   string
		want Augment
		err  bool
	}{
		{"", Augment{}, false},
		{"none", Augment{}, false},
		{"shift:2", Augment{Shift: 2}, false},
		{"shift:2,flip,rotate:10", Augment{Shift: 2, FlipH: true, Rotate: 10}, false},
		{"shift:0", Augment{}, true},
		{"rotate:-5", Augment{}, true},
		{"flip:1", Augment{}, true},
		{"zoom:2", Augment{}, true},
		{"flip,erase:0.5", Augment{FlipH: true, Erase: 0.5}, false},
		{"erase:1", Augment{Erase: 1}, false},
		{"erase:0", Augment{}, true},
		{"erase:1.5", Augment{}, true},
		{"erase", Augment{}, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseAugment(c.in)
			if (err != nil) != c.err || (!c.err && got != c.want) {
				t.Fatalf("ParseAugment(%q) = %+v, %v", c.in, got, err)
			}
			if !c.err && c.in != "" {
				back, err := ParseAugment(got.String())
				if err != nil || back != got {
					t.Fatalf("String() %q does not parse back: %+v, %v", got.String(), back, err)
				}
			}
		})
	}
}

func TestNormalizationOverBadExamples(t *testing.T) {
	ds := failing{ramp(t, 6, 1, 1, 2), map[int]bool{3: true}}
	_, err := ComputeNormalization(ds, false)
	var re *ReadError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "example 3 is corrupt") {
		t.Fatalf("err = %v, want a *ReadError naming example 3", err)
	}
	n, err := ComputeNormalization(ds, true)
	if err != nil {
		t.Fatal(err)
	}
	// Values 0, 1, 2, 4, 5 (/255): mean 12/5/255.
	if want := float32(12.0 / 5 / 255); math.Abs(float64(n.Mean[0]-want)) > 1e-7 {
		t.Fatalf("mean %v, want %v (example 3 left out)", n.Mean[0], want)
	}
}

// TestBatchesNoGoroutineLeak: a closed epoch and an epoch read to its end
// both leave no goroutine behind.
func TestBatchesNoGoroutineLeak(t *testing.T) {
	ds := ramp(t, 40, 2, 2, 2)
	base := settledGoroutines()
	var open []*Batches
	for range 20 {
		b := NewBatches(ds, BatchOptions{BatchSize: 3, Shuffle: true, Workers: 2}, 0)
		b.Next()
		open = append(open, b)
	}
	if runtime.NumGoroutine() < base+20 {
		t.Fatalf("expected workers for 20 epochs, have %d goroutines over base", runtime.NumGoroutine()-base)
	}
	for i, b := range open {
		if i%2 == 0 {
			b.Close()
		} else {
			for _, _, ok := b.Next(); ok; _, _, ok = b.Next() {
			}
		}
	}
	if n := settledGoroutines(); n > base {
		t.Errorf("%d goroutines left running, want %d", n, base)
	}
}

// settledGoroutines waits (up to 5 s) for goroutines that are already
// ending and returns the count once it has stayed put for 50 ms.
func settledGoroutines() int {
	n, stable := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(5 * time.Second); stable < 5 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			stable++
		} else {
			n, stable = m, 0
		}
	}
	return n
}
