package nn

import "testing"

// A loop's body runs run on its own arguments, and put leaves it holding
// none of the caller's storage.
func TestLoopPool(t *testing.T) {
	var p loopPool[slabArgs]
	p.run = func(a *slabArgs, lo, hi int) {
		for i := lo; i < hi; i++ {
			a.y[i] = float32(a.m)
		}
	}
	l := p.get()
	y := make([]float32, 4)
	l.args = slabArgs{y: y, a: y, b: y, m: 7}
	l.body(1, 3)
	if y[0] != 0 || y[1] != 7 || y[2] != 7 || y[3] != 0 {
		t.Errorf("body(1, 3) wrote %v, want [0 7 7 0]", y)
	}
	p.put(l)
	if l.args.y != nil || l.args.a != nil || l.args.b != nil || l.args.m != 0 {
		t.Errorf("a put loop still holds %+v", l.args)
	}
}
