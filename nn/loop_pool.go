package nn

import "sync"

// A parallel loop body that closes over its arguments costs an
// allocation per call (a func literal escapes into parallel.For). A
// loopPool instead keeps loop values: the arguments A and one body over
// them, made once per value and reused from call to call.

// loop is a parallel loop's arguments and its body over them.
type loop[A any] struct {
	args A
	body func(lo, hi int) // run(&args, lo, hi)
}

// loopPool hands out loop values whose body runs run.
type loopPool[A any] struct {
	pool sync.Pool
	run  func(a *A, lo, hi int)
}

// get returns a loop whose arguments are zero, from the pool when it
// has one.
func (p *loopPool[A]) get() *loop[A] {
	if l, ok := p.pool.Get().(*loop[A]); ok {
		return l
	}
	l := new(loop[A])
	l.body = func(lo, hi int) { p.run(&l.args, lo, hi) }
	return l
}

// put zeroes l's arguments, so that the pool holds none of the caller's
// storage, and keeps l for a later get.
func (p *loopPool[A]) put(l *loop[A]) {
	var zero A
	l.args = zero
	p.pool.Put(l)
}
