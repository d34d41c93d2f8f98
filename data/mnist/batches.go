package mnist

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/convnet-go/convnet/tensor"
)

// Batches hands out one epoch of a Set as mini-batches, in a fixed order
// that depends only on (seed, epoch), so a resumed run that makes the same
// NewBatches call and skips Position() batches sees the same batches.
//
// While the caller works on one batch, a goroutine assembles the next. The
// goroutine ends when the epoch is exhausted or Close is called; call
// Close (it is idempotent) when abandoning an epoch early.
// A Batches is not safe for concurrent use.
type Batches struct {
	s     *Set
	size  int
	order []int // order[k] is the example at position k; nil = 0,1,2,…
	total int   // ⌈N/size⌉
	pos   int   // batches handed out or skipped
	err   error

	started bool
	ch      chan batch
	done    chan struct{}
	once    sync.Once
}

type batch struct {
	images *tensor.Tensor
	labels []int
}

// NewBatches prepares epoch `epoch` of s in batches of batchSize. With
// shuffle, the example order is rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(N);
// without, it is 0…N−1 (seed and epoch are then unused). The last batch
// holds the N mod batchSize leftover examples when that is not zero.
// An empty s has no batches. A nil s, batchSize < 1 or a Set whose slice
// lengths disagree with N yields no batches and is reported by Err.
func NewBatches(s *Set, batchSize int, seed uint64, epoch int, shuffle bool) *Batches {
	b := &Batches{s: s, size: batchSize}
	switch {
	case s == nil:
		b.err = fmt.Errorf("mnist: NewBatches: nil set")
		return b
	case batchSize < 1:
		b.err = fmt.Errorf("mnist: NewBatches: batch size %d, want ≥ 1", batchSize)
		return b
	case len(s.Images) != s.N*Pixels || len(s.Labels) != s.N:
		b.err = fmt.Errorf("mnist: NewBatches: set has N=%d but %d image values and %d labels, want %d and %d",
			s.N, len(s.Images), len(s.Labels), s.N*Pixels, s.N)
		return b
	}
	b.total = (s.N + batchSize - 1) / batchSize
	if shuffle {
		b.order = rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(s.N)
	}
	return b
}

// Err returns the reason NewBatches could not prepare the epoch, or nil.
func (b *Batches) Err() error { return b.err }

// Len returns the number of batches in the epoch, ⌈N/batchSize⌉.
func (b *Batches) Len() int { return b.total }

// Position returns the number of batches already handed out (or skipped)
// in this epoch: the value to store in a checkpoint and pass to Skip on
// resume.
func (b *Batches) Position() int { return b.pos }

// Next returns the next batch: images of shape [B,28,28,1] (NHWC) and
// their B labels, with B = batchSize except possibly for the last batch.
// ok is false when the epoch is over, after Close, or when Err is set.
// Each batch is freshly allocated; the caller may keep it.
func (b *Batches) Next() (images *tensor.Tensor, labels []int, ok bool) {
	if b.err != nil || b.pos >= b.total || b.isClosed() {
		return nil, nil, false
	}
	if !b.started {
		b.start()
	}
	bt, ok := <-b.ch
	if !ok {
		return nil, nil, false
	}
	b.pos++
	return bt.images, bt.labels, true
}

// Skip fast-forwards past n batches (fewer if the epoch ends first), as if
// Next had been called n times. Before the first Next it costs nothing:
// the skipped batches are never assembled.
func (b *Batches) Skip(n int) {
	if b.err != nil || n <= 0 || b.isClosed() {
		return
	}
	n = min(n, b.total-b.pos)
	if !b.started {
		b.pos += n
		return
	}
	for range n {
		if _, ok := <-b.ch; !ok {
			return
		}
		b.pos++
	}
}

// Close stops the prefetching goroutine. Next returns ok == false
// afterwards. Close may be called more than once.
func (b *Batches) Close() {
	b.once.Do(func() {
		if b.done == nil {
			b.done = make(chan struct{})
		}
		close(b.done)
	})
}

func (b *Batches) isClosed() bool {
	if b.done == nil {
		return false
	}
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// start launches the producer at batch b.pos. The channel holds one
// finished batch, so at most two are in memory beyond the caller's.
func (b *Batches) start() {
	b.started = true
	b.ch = make(chan batch, 1)
	if b.done == nil {
		b.done = make(chan struct{})
	}
	go produce(b.s, b.order, b.size, b.pos, b.total, b.ch, b.done)
}

func produce(s *Set, order []int, size, from, total int, ch chan<- batch, done <-chan struct{}) {
	defer close(ch)
	for k := from; k < total; k++ {
		bt := assemble(s, order, k*size, min((k+1)*size, s.N))
		select {
		case ch <- bt:
		case <-done:
			return
		}
	}
}

// assemble copies examples order[lo:hi] into a [hi−lo,28,28,1] tensor.
func assemble(s *Set, order []int, lo, hi int) batch {
	n := hi - lo
	data := make([]float32, n*Pixels)
	labels := make([]int, n)
	for j := range n {
		i := lo + j
		if order != nil {
			i = order[i]
		}
		copy(data[j*Pixels:(j+1)*Pixels], s.Images[i*Pixels:(i+1)*Pixels])
		labels[j] = int(s.Labels[i])
	}
	return batch{images: tensor.Must(tensor.New([]int{n, Rows, Cols, 1}, data)), labels: labels}
}
