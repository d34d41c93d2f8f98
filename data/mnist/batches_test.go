package mnist

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// epochIDs drains b and returns the example ids of each batch, checking
// shapes and that labels follow their images.
func epochIDs(t *testing.T, b *Batches, batchSize int) [][]int {
	t.Helper()
	var out [][]int
	for {
		img, labels, ok := b.Next()
		if !ok {
			break
		}
		n := len(labels)
		if sh := img.Shape(); len(sh) != 4 || sh[0] != n || sh[1] != 28 || sh[2] != 28 || sh[3] != 1 {
			t.Fatalf("batch %d shape %v, want [%d 28 28 1]", len(out), sh, n)
		}
		if n < 1 || n > batchSize {
			t.Fatalf("batch %d has %d examples, batch size %d", len(out), n, batchSize)
		}
		ids := make([]int, n)
		for j := range n {
			ids[j] = int(img.Data()[j*Pixels])
			if labels[j] != ids[j]%10 {
				t.Fatalf("batch %d example %d: label %d for image %d", len(out), j, labels[j], ids[j])
			}
		}
		out = append(out, ids)
		if b.Position() != len(out) {
			t.Fatalf("Position() = %d after %d batches", b.Position(), len(out))
		}
	}
	return out
}

func flatten(bs [][]int) []int {
	var out []int
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestBatchesCoverAllExamples(t *testing.T) {
	s := testSet(103)
	for _, c := range []struct {
		name    string
		size    int
		shuffle bool
		sizes   []int
	}{
		{"partial last batch", 25, true, []int{25, 25, 25, 25, 3}},
		{"exact", 103, false, []int{103}},
		{"batch bigger than set", 500, true, []int{103}},
		{"size one", 1, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBatches(s, c.size, 7, 0, c.shuffle)
			defer b.Close()
			bs := epochIDs(t, b, c.size)
			if b.Len() != len(bs) {
				t.Errorf("Len() = %d, got %d batches", b.Len(), len(bs))
			}
			if c.sizes != nil {
				for i, want := range c.sizes {
					if i >= len(bs) || len(bs[i]) != want {
						t.Fatalf("batch sizes %v, want %v", lens(bs), c.sizes)
					}
				}
			}
			seen := make([]int, s.N)
			all := flatten(bs)
			for _, id := range all {
				seen[id]++
			}
			for i, n := range seen {
				if n != 1 {
					t.Fatalf("example %d seen %d times in one epoch", i, n)
				}
			}
			sorted := true
			for i := range all {
				sorted = sorted && all[i] == i
			}
			if sorted == c.shuffle && s.N > 1 {
				t.Errorf("shuffle=%v but order sorted=%v", c.shuffle, sorted)
			}
		})
	}
}

func lens(bs [][]int) []int {
	out := make([]int, len(bs))
	for i, b := range bs {
		out[i] = len(b)
	}
	return out
}

func TestBatchesOrderIsSeeded(t *testing.T) {
	s := testSet(50)
	order := func(seed uint64, epoch int) []int {
		b := NewBatches(s, 8, seed, epoch, true)
		defer b.Close()
		return flatten(epochIDs(t, b, 8))
	}
	if !slices.Equal(order(1, 3), order(1, 3)) {
		t.Error("same (seed, epoch) gave different orders")
	}
	if slices.Equal(order(1, 3), order(1, 4)) {
		t.Error("epochs 3 and 4 gave the same order")
	}
	if slices.Equal(order(1, 3), order(2, 3)) {
		t.Error("seeds 1 and 2 gave the same order")
	}
}

// TestBatchesResume checks that Skip(Position()) on a fresh iterator
// continues exactly where an interrupted one stopped, whether Skip comes
// before the first Next or after it.
func TestBatchesResume(t *testing.T) {
	s := testSet(61)
	full := NewBatches(s, 7, 11, 2, true)
	want := epochIDs(t, full, 7)

	first := NewBatches(s, 7, 11, 2, true)
	for range 4 {
		first.Next()
	}
	pos := first.Position()
	first.Close()
	if _, _, ok := first.Next(); ok {
		t.Error("Next after Close returned a batch")
	}

	resumed := NewBatches(s, 7, 11, 2, true)
	resumed.Skip(pos)
	if resumed.Position() != pos {
		t.Fatalf("Position after Skip(%d) = %d", pos, resumed.Position())
	}
	var rest [][]int
	for {
		img, _, ok := resumed.Next()
		if !ok {
			break
		}
		rest = append(rest, idsOf(img.Data(), img.Dim(0)))
	}
	if !slices.Equal(flatten(rest), flatten(want[pos:])) {
		t.Errorf("resumed epoch %v, want %v", rest, want[pos:])
	}

	late := NewBatches(s, 7, 11, 2, true)
	late.Next()
	late.Skip(2)
	img, _, _ := late.Next()
	if got := idsOf(img.Data(), img.Dim(0)); !slices.Equal(got, want[3]) {
		t.Errorf("after Next, Skip(2), Next: %v, want batch 3 %v", got, want[3])
	}
	late.Skip(100)
	if late.Position() != len(want) {
		t.Errorf("Skip past the end: Position %d, want %d", late.Position(), len(want))
	}
	if _, _, ok := late.Next(); ok {
		t.Error("Next after skipping past the end returned a batch")
	}
}

func idsOf(data []float32, n int) []int {
	out := make([]int, n)
	for j := range out {
		out[j] = int(data[j*Pixels])
	}
	return out
}

// TestBatchesNoGoroutineLeak checks that the prefetching goroutine ends
// both on Close mid-epoch and at the end of an epoch.
func TestBatchesNoGoroutineLeak(t *testing.T) {
	s := testSet(40)
	base := settledGoroutines()
	var open []*Batches
	for range 20 {
		b := NewBatches(s, 3, 1, 0, true)
		b.Next()
		open = append(open, b)
	}
	if runtime.NumGoroutine() < base+20 {
		t.Fatalf("expected 20 prefetching goroutines, have %d over base", runtime.NumGoroutine()-base)
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
// ending, such as producers of earlier tests' closed iterators, and
// returns the count once it has stayed put for 50 ms.
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

func TestBatchesErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *Set
		size int
		want string
	}{
		{"nil set", nil, 4, "nil set"},
		{"zero batch", testSet(3), 0, "batch size 0, want ≥ 1"},
		{"inconsistent set", &Set{N: 2, Images: make([]float32, Pixels), Labels: make([]uint8, 2)}, 1,
			"set has N=2 but 784 image values and 2 labels, want 1568 and 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBatches(c.s, c.size, 0, 0, true)
			if err := b.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Err() = %v, want one containing %q", err, c.want)
			}
			if _, _, ok := b.Next(); ok {
				t.Error("Next returned a batch")
			}
		})
	}
}
