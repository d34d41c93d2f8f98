package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/convnet-go/convnet/tensor"
)

// BatchOptions configure NewBatches. The zero value of an optional field
// takes the default named.
type BatchOptions struct {
	// BatchSize is the number of examples per batch (required, ≥ 1).
	BatchSize int
	// Shuffle orders the epoch by rand.New(rand.NewPCG(Seed, epoch)).Perm(N);
	// without it the order is 0…N−1.
	Shuffle bool
	// Seed seeds the shuffle and the augmentation.
	Seed uint64
	// Augment is applied to every example (training only: leave it zero
	// for evaluation). Example k of the epoch's order is augmented with
	// rand.New(rand.NewPCG(Seed^augmentSalt, epoch<<32 | k)), whatever
	// worker handles it.
	Augment Augment
	// Normalize, when set, standardises every image after augmentation
	// and before random erasing (Augment.Erasing), so that erased pixels
	// are 0 after normalisation, the channel mean.
	Normalize *Normalization
	// Workers is the number of goroutines reading examples (default
	// GOMAXPROCS). Each assembles whole batches.
	Workers int
	// Prefetch is the number of batches assembled ahead of the caller
	// (default 2, at least Workers).
	Prefetch int
	// SkipBad drops examples whose Example fails and counts them
	// (Skipped); without it the first failure ends the epoch and Err
	// returns it.
	SkipBad bool
}

const augmentSalt = 0xa06e17

// ReadError is an example that could not be read (a corrupt or
// unreadable file, a bad record): bad input rather than a failure of the
// program. Its message is the reader's, which names the file.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }

// Unwrap returns the reader's error.
func (e *ReadError) Unwrap() error { return e.Err }

// Batches hands out one epoch of a Dataset as NHWC mini-batches in an
// order that depends only on (Seed, epoch), so a resumed run that makes
// the same NewBatches call and skips Position() batches sees the same
// batches. Workers assemble the next batches while the caller trains on
// one; at most Prefetch batches wait, so a dataset that reads from disk
// streams in bounded memory. Call Close when abandoning an epoch early.
// A Batches is not safe for concurrent use.
type Batches struct {
	ds    Dataset
	opt   BatchOptions
	epoch int
	order []int
	total int
	pos   int
	err   error

	skipped int
	started bool
	queue   chan *job
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

type job struct {
	k      int
	result chan jobResult
}

type jobResult struct {
	images  *tensor.Tensor
	labels  []int
	skipped int
	err     error
}

// NewBatches prepares epoch `epoch` of ds. The last batch holds the
// N mod BatchSize leftover examples when that is not zero. Bad options
// yield no batches and are reported by Err.
func NewBatches(ds Dataset, opt BatchOptions, epoch int) *Batches {
	b := &Batches{ds: ds, opt: opt, epoch: epoch}
	switch {
	case ds == nil:
		b.err = fmt.Errorf("data: NewBatches: nil dataset")
		return b
	case opt.BatchSize < 1:
		b.err = fmt.Errorf("data: NewBatches: batch size %d, want ≥ 1", opt.BatchSize)
		return b
	case opt.Normalize != nil && (len(opt.Normalize.Mean) != ds.Shape().C || len(opt.Normalize.Std) != ds.Shape().C):
		b.err = fmt.Errorf("data: NewBatches: normalisation for %d channels, images have %d", len(opt.Normalize.Mean), ds.Shape().C)
		return b
	}
	if b.opt.Workers < 1 {
		b.opt.Workers = runtime.GOMAXPROCS(0)
	}
	b.opt.Prefetch = max(b.opt.Prefetch, 2, b.opt.Workers)
	n := ds.Len()
	b.total = (n + opt.BatchSize - 1) / opt.BatchSize
	if opt.Shuffle {
		b.order = rand.New(rand.NewPCG(opt.Seed, uint64(epoch))).Perm(n)
	}
	return b
}

// Err returns why the epoch could not be prepared or read, or nil.
func (b *Batches) Err() error { return b.err }

// Len returns the number of batches of the epoch, ⌈N/BatchSize⌉.
func (b *Batches) Len() int { return b.total }

// Position returns the number of batches handed out or skipped.
func (b *Batches) Position() int { return b.pos }

// Skipped returns how many examples SkipBad has dropped so far.
func (b *Batches) Skipped() int { return b.skipped }

// Next returns the next batch: images [B, H, W, C] and B labels. ok is
// false at the end of the epoch, after Close, or on an error (see Err).
// Each batch is freshly allocated; the caller may keep it.
func (b *Batches) Next() (images *tensor.Tensor, labels []int, ok bool) {
	if b.err != nil || b.pos >= b.total || b.isClosed() {
		return nil, nil, false
	}
	if !b.started {
		b.start()
	}
	j, ok := <-b.queue
	if !ok {
		return nil, nil, false
	}
	r := <-j.result
	if r.err != nil {
		b.err = r.err
		b.Close()
		return nil, nil, false
	}
	b.skipped += r.skipped
	b.pos++
	return r.images, r.labels, true
}

// Skip fast-forwards past n batches as if Next had been called n times.
// Before the first Next it costs nothing: skipped batches are never read.
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
		if _, _, ok := b.Next(); !ok {
			return
		}
	}
}

// Close stops the workers and waits for them. It may be called more
// than once.
func (b *Batches) Close() {
	b.once.Do(func() {
		if b.done == nil {
			b.done = make(chan struct{})
		}
		close(b.done)
	})
	b.wg.Wait()
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

// start launches a dispatcher that queues batch jobs in order (at most
// Prefetch ahead) and Workers goroutines that fill them.
func (b *Batches) start() {
	b.started = true
	if b.done == nil {
		b.done = make(chan struct{})
	}
	b.queue = make(chan *job, b.opt.Prefetch)
	jobs := make(chan *job)
	b.wg.Add(1 + b.opt.Workers)
	go func() {
		defer b.wg.Done()
		defer close(b.queue)
		defer close(jobs)
		for k := b.pos; k < b.total; k++ {
			j := &job{k: k, result: make(chan jobResult, 1)}
			select {
			case b.queue <- j:
			case <-b.done:
				return
			}
			select {
			case jobs <- j:
			case <-b.done:
				return
			}
		}
	}()
	for range b.opt.Workers {
		go func() {
			defer b.wg.Done()
			for j := range jobs {
				j.result <- b.assemble(j.k)
			}
		}()
	}
}

// assemble reads the examples of batch k.
func (b *Batches) assemble(k int) jobResult {
	sh := b.ds.Shape()
	size := sh.Size()
	lo, hi := k*b.opt.BatchSize, min((k+1)*b.opt.BatchSize, b.ds.Len())
	data := make([]float32, (hi-lo)*size)
	labels := make([]int, 0, hi-lo)
	var tmp []float32
	var pcg *rand.PCG
	var r *rand.Rand
	if b.opt.Augment.Active() {
		tmp = make([]float32, size)
		pcg = rand.NewPCG(0, 0)
		r = rand.New(pcg)
	}
	skipped := 0
	for p := lo; p < hi; p++ {
		i := p
		if b.order != nil {
			i = b.order[p]
		}
		dst := data[len(labels)*size : (len(labels)+1)*size]
		read := dst
		if tmp != nil {
			read = tmp
		}
		label, err := b.ds.Example(i, read)
		if err != nil {
			if b.opt.SkipBad {
				skipped++
				continue
			}
			return jobResult{err: &ReadError{Err: err}}
		}
		if tmp != nil {
			// Each example's draws depend only on the seed, the epoch and
			// its position, not on the worker that reads it.
			pcg.Seed(b.opt.Seed^augmentSalt, uint64(b.epoch)<<32|uint64(p))
			b.opt.Augment.Apply(dst, tmp, sh, r)
		}
		if b.opt.Normalize != nil {
			b.opt.Normalize.Apply(dst)
		}
		if tmp != nil {
			b.opt.Augment.Erasing(dst, sh, r)
		}
		labels = append(labels, label)
	}
	n := len(labels)
	x := tensor.Must(tensor.New([]int{n, sh.H, sh.W, sh.C}, data[:n*size]))
	return jobResult{images: x, labels: labels, skipped: skipped}
}
