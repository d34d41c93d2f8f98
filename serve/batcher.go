package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errQueueFull is returned by submit when MaxQueue requests already wait.
var errQueueFull = errors.New("server busy: the request queue is full")

// errClosed is returned by submit after close.
var errClosed = errors.New("server is shutting down")

// job is one request's examples waiting for a batch.
type job struct {
	ctx  context.Context
	n    int         // examples
	in   [][]float32 // one slice per model input, n examples each
	done chan result // buffered: the worker never blocks on it
}

type result struct {
	out [][]float32
	err error
}

// batcher is the dynamic batcher, as Triton's: workers take the oldest
// queued request, then add queued requests to its batch until it holds
// maxBatch examples or maxDelay has passed since the worker took the
// first, and run the model once on the concatenation. At most `workers`
// batches run at a time and at most cap(queue) requests wait.
type batcher struct {
	model    Model
	queue    chan *job
	maxBatch int
	maxDelay time.Duration
	metrics  *metrics
	inSizes  []int // values per example of each input
	outSizes []int // and of each output

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	wg     sync.WaitGroup
}

func newBatcher(m Model, workers, maxBatch, maxQueue int, maxDelay time.Duration, mt *metrics) *batcher {
	b := &batcher{model: m, queue: make(chan *job, maxQueue), maxBatch: maxBatch, maxDelay: maxDelay, metrics: mt}
	for _, s := range m.Inputs() {
		b.inSizes = append(b.inSizes, s.elems())
	}
	for _, s := range m.Outputs() {
		b.outSizes = append(b.outSizes, s.elems())
	}
	b.wg.Add(workers)
	for range workers {
		go b.work()
	}
	return b
}

// submit queues n examples and waits for their outputs, or for ctx.
func (b *batcher) submit(ctx context.Context, n int, in [][]float32) ([][]float32, error) {
	j := &job{ctx: ctx, n: n, in: in, done: make(chan result, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, errClosed
	}
	select {
	case b.queue <- j:
		b.mu.RUnlock()
	default:
		b.mu.RUnlock()
		b.metrics.reject()
		return nil, errQueueFull
	}
	select {
	case r := <-j.done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops accepting jobs, lets the workers finish the queued ones and
// waits for them.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *batcher) work() {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var next *job
	for {
		first := next
		next = nil
		if first == nil {
			var ok bool
			if first, ok = <-b.queue; !ok {
				return
			}
		}
		batch := []*job{first}
		n := first.n
		timer.Reset(b.maxDelay)
	collect:
		for n < b.maxBatch {
			select {
			case j, ok := <-b.queue:
				if !ok {
					break collect
				}
				if n+j.n > b.maxBatch {
					next = j
					break collect
				}
				batch = append(batch, j)
				n += j.n
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		b.run(batch)
	}
}

// run calls the model once on the live jobs of batch and hands each its
// rows of every output.
func (b *batcher) run(batch []*job) {
	live := batch[:0]
	n := 0
	for _, j := range batch {
		if j.ctx.Err() != nil {
			j.done <- result{err: j.ctx.Err()}
			continue
		}
		live = append(live, j)
		n += j.n
	}
	if n == 0 {
		return
	}
	in := live[0].in
	if len(live) > 1 {
		in = make([][]float32, len(b.inSizes))
		for i, size := range b.inSizes {
			in[i] = make([]float32, 0, n*size)
			for _, j := range live {
				in[i] = append(in[i], j.in[i]...)
			}
		}
	}
	b.metrics.batch(n)
	out, err := b.predict(n, in)
	if err == nil && len(out) != len(b.outSizes) {
		err = fmt.Errorf("serve: the model returned %d outputs; want %d", len(out), len(b.outSizes))
	}
	for i := 0; err == nil && i < len(out); i++ {
		if len(out[i]) != n*b.outSizes[i] {
			err = fmt.Errorf("serve: the model's output %d has %d values for %d examples; want %d", i, len(out[i]), n, n*b.outSizes[i])
		}
	}
	row := 0
	for _, j := range live {
		if err != nil {
			j.done <- result{err: err}
			continue
		}
		r := make([][]float32, len(out))
		for i, size := range b.outSizes {
			r[i] = out[i][row*size : (row+j.n)*size : (row+j.n)*size]
		}
		row += j.n
		j.done <- result{out: r}
	}
}

// predict calls the model, turning a panic into an error so that one bad
// batch cannot take the server down.
func (b *batcher) predict(n int, in [][]float32) (out [][]float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("serve: the model panicked: %v", p)
		}
	}()
	return b.model.Predict(n, in)
}
