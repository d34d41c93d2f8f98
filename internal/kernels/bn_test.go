package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bnPaths are the batch-norm loop paths this CPU and build can run, set
// by toggling the dispatch flags; run restores them.
func bnPaths(t testing.TB, run func(t testing.TB, name string)) {
	defer func(v, c bool) { vecFMA, c1Wide = v, c }(vecFMA, c1Wide)
	for _, p := range []struct {
		name     string
		ok, wide bool
	}{{"go", true, false}, {"avx2", vecFMA, false}, {"avx512", vecFMA && hasAVX512F, true}} {
		if !p.ok {
			t.Logf("path %s NOT EXECUTED: not available on this CPU or build", p.name)
			continue
		}
		vecFMA, c1Wide = p.name != "go", p.wide
		run(t, p.name)
	}
}

// TestBatchNormLoops holds every path of the batch-norm loops to
// plain per-element loops written from their doc comments: the float64
// sums must agree bit for bit (same order, no fusing), and so must the
// float32 outputs.
func TestBatchNormLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sh := range []struct{ rows, c int }{{1, 8}, {7, 16}, {33, 24}, {5, 32}, {129, 48}, {3, 64}, {17, 3}, {9, 13}, {1, 1}, {200, 32}, {70, 80}} {
		rows, c := sh.rows, sh.c
		x, y, a, b, k := vecRand(r, rows*c), vecRand(r, rows*c), vecRand(r, c), vecRand(r, c), vecRand(r, c)
		shift := make([]float64, c)
		for j := range shift {
			shift[j] = r.Float64()*2 - 1
		}
		// out: a ReLU's output, with zeros, a −0 and a NaN among the values.
		out := vecRand(r, rows*c)
		for i := range out {
			switch i % 7 {
			case 1:
				out[i] = 0
			case 3:
				out[i] = float32(math.Copysign(0, -1))
			case 5:
				out[i] = float32(math.NaN())
			}
		}
		// fa, fb: a forward AffineRelu's coefficients, the masks of the
		// ReLU gradients being where u·fa + fb > 0 (u from y): positive
		// and negative values, ±0 (fa = 0, fb = ±0) and NaN (fa = NaN).
		fa, fb := vecRand(r, c), vecRand(r, c)
		for j := range c {
			switch j % 5 {
			case 1:
				fa[j], fb[j] = 0, 0
			case 2:
				fa[j], fb[j] = 0, float32(math.Copysign(0, -1))
			case 3:
				fa[j] = float32(math.NaN())
			}
		}
		// The references, straight from the docs.
		wantMom, wantGrad := make([]float64, 2*c), make([]float64, 2*c)
		wantAff, wantAff2 := make([]float32, rows*c), make([]float32, rows*c)
		wantGradR, wantAffR, wantAff2R := make([]float64, 2*c), make([]float32, rows*c), make([]float32, rows*c)
		wantAffAR := make([]float32, rows*c) // out as the skip: zeros, −0s and NaNs
		for i := range rows {
			for j := range c {
				v, u := x[i*c+j], y[i*c+j]
				d := float64(v) - shift[j]
				wantMom[j] += d
				wantMom[c+j] += d * d
				wantGrad[j] += float64(v)
				wantGrad[c+j] += float64(v) * (float64(u) - shift[j])
				p := v * a[j]
				wantAff[i*c+j] = p + b[j]
				q, s := k[j]*v, a[j]*u
				sum := q + s
				wantAff2[i*c+j] = sum + b[j]
				relu := wantAff[i*c+j]
				if relu < 0 {
					relu = 0
				}
				wantAffR[i*c+j] = relu
				join := wantAff[i*c+j] + out[i*c+j]
				if join < 0 {
					join = 0
				}
				wantAffAR[i*c+j] = join
				var gm float32 // v where u·fa + fb > 0, else +0
				if float32(u*fa[j])+fb[j] > 0 {
					gm = v
				}
				wantGradR[j] += float64(gm)
				wantGradR[c+j] += float64(gm) * (float64(u) - shift[j])
				qr := k[j] * gm
				sumR := qr + s
				wantAff2R[i*c+j] = sumR + b[j]
			}
		}
		t.Run(fmt.Sprintf("rows=%d/c=%d", rows, c), func(t *testing.T) {
			bnPaths(t, func(t testing.TB, path string) {
				mom, grad := make([]float64, 2*c), make([]float64, 2*c)
				ShiftedMoments(mom, x, shift)
				GradMoments(grad, x, y, shift)
				aff, aff2 := make([]float32, rows*c), make([]float32, rows*c)
				Affine(aff, x, a, b)
				Affine2(aff2, x, y, k, a, b)
				gradR, affR, aff2R := make([]float64, 2*c), make([]float32, rows*c), make([]float32, rows*c)
				GradMomentsRelu(gradR, x, y, fa, fb, shift)
				// The sums carry on from what acc holds: the rows in two
				// calls give the bits of one.
				h := rows / 2 * c
				mom2, grad2, gradR2 := make([]float64, 2*c), make([]float64, 2*c), make([]float64, 2*c)
				for _, part := range [][2]int{{0, h}, {h, rows * c}} {
					lo, hi := part[0], part[1]
					if lo == hi {
						continue
					}
					ShiftedMoments(mom2, x[lo:hi], shift)
					GradMoments(grad2, x[lo:hi], y[lo:hi], shift)
					GradMomentsRelu(gradR2, x[lo:hi], y[lo:hi], fa, fb, shift)
				}
				AffineRelu(affR, x, a, b)
				affAR := make([]float32, rows*c)
				AffineAddRelu(affAR, x, out, a, b)
				Affine2Relu(aff2R, x, y, fa, fb, k, a, b)
				for _, cmp := range []struct {
					name      string
					got, want any
				}{{"ShiftedMoments", mom, wantMom}, {"GradMoments", grad, wantGrad}, {"Affine", aff, wantAff}, {"Affine2", aff2, wantAff2},
					{"GradMomentsRelu", gradR, wantGradR}, {"AffineRelu", affR, wantAffR}, {"AffineAddRelu", affAR, wantAffAR}, {"Affine2Relu", aff2R, wantAff2R},
					{"ShiftedMoments in two calls", mom2, wantMom}, {"GradMoments in two calls", grad2, wantGrad},
					{"GradMomentsRelu in two calls", gradR2, wantGradR}} {
					if i := firstDiff(cmp.got, cmp.want); i >= 0 {
						t.Errorf("path %s: %s differs at %d", path, cmp.name, i)
					}
				}
			})
		})
	}
}

// firstDiff returns the first index where two []float64 or []float32
// differ in bits, or −1.
func firstDiff(got, want any) int {
	switch g := got.(type) {
	case []float64:
		w := want.([]float64)
		for i := range g {
			if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
				return i
			}
		}
	case []float32:
		w := want.([]float32)
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				return i
			}
		}
	}
	return -1
}

func TestBatchNormLoopsPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"moments rows", func() { ShiftedMoments(make([]float64, 4), make([]float32, 3), make([]float64, 2)) }},
		{"moments acc", func() { ShiftedMoments(make([]float64, 3), make([]float32, 4), make([]float64, 2)) }},
		{"grad lengths", func() { GradMoments(make([]float64, 4), make([]float32, 4), make([]float32, 2), make([]float64, 2)) }},
		{"affine shift", func() { Affine(make([]float32, 4), make([]float32, 4), make([]float32, 2), make([]float32, 1)) }},
		{"affine2 out", func() {
			Affine2(make([]float32, 2), make([]float32, 4), make([]float32, 4), make([]float32, 2), make([]float32, 2), make([]float32, 2))
		}},
		{"no channels", func() { Affine(nil, nil, nil, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
}

// bnLoop is one batch-norm loop for benchBNLoops: its name, the bytes
// a call moves, and the call (the i-th of the run).
type bnLoop struct {
	name  string
	bytes int
	run   func(i int)
}

// benchBNLoops runs each loop on every path, as name/c=…/path=….
func benchBNLoops(b *testing.B, c int, loops []bnLoop) {
	bnPaths(b, func(tb testing.TB, path string) {
		b := tb.(*testing.B)
		for _, l := range loops {
			b.Run(fmt.Sprintf("%s/c=%d/path=%s", l.name, c, path), func(b *testing.B) {
				b.SetBytes(int64(l.bytes))
				i := 0
				for b.Loop() {
					l.run(i)
					i++
				}
			})
		}
	})
}

// BenchmarkBatchNormSumsCold times the sums on every path with their
// input out of the caches, as in a training step (the layer before
// stored it streaming): the small ResNet's two stages, [128·28·28, 16]
// and [128·14·14, 32], each call on the next of enough copies to pass
// 64 MiB.
func BenchmarkBatchNormSumsCold(b *testing.B) {
	for _, sh := range []struct{ rows, c int }{{128 * 28 * 28, 16}, {128 * 14 * 14, 32}} {
		rows, c := sh.rows, sh.c
		r := rand.New(rand.NewPCG(7, 8))
		copies := max(2, (64<<20)/(8*rows*c))
		xs, ys := make([][]float32, copies), make([][]float32, copies)
		for i := range copies {
			xs[i], ys[i] = vecRand(r, rows*c), vecRand(r, rows*c)
		}
		a, bb := vecRand(r, c), vecRand(r, c)
		shift, acc := make([]float64, c), make([]float64, 2*c)
		benchBNLoops(b, c, []bnLoop{
			{"ShiftedMoments", 4 * rows * c, func(i int) { ShiftedMoments(acc, xs[i%copies], shift) }},
			{"GradMoments", 8 * rows * c, func(i int) { GradMoments(acc, xs[i%copies], ys[i%copies], shift) }},
			{"GradMomentsRelu", 8 * rows * c, func(i int) { GradMomentsRelu(acc, xs[i%copies], ys[i%copies], a, bb, shift) }},
		})
	}
}

// BenchmarkBatchNormLoops times each loop on every path, on a
// [128·28·28, 16] activation (the small ResNet's first stage) and a
// [128·7·7, 128] one (wide rows, several column blocks).
func BenchmarkBatchNormLoops(b *testing.B) {
	for _, sh := range []struct{ rows, c int }{{128 * 28 * 28, 16}, {128 * 7 * 7, 128}} {
		rows, c := sh.rows, sh.c
		r := rand.New(rand.NewPCG(5, 6))
		x, y, dx := vecRand(r, rows*c), vecRand(r, rows*c), make([]float32, rows*c)
		a, bb, k := vecRand(r, c), vecRand(r, c), vecRand(r, c)
		shift, acc := make([]float64, c), make([]float64, 2*c)
		benchBNLoops(b, c, []bnLoop{
			{"ShiftedMoments", 4 * rows * c, func(int) { ShiftedMoments(acc, x, shift) }},
			{"GradMoments", 8 * rows * c, func(int) { GradMoments(acc, x, y, shift) }},
			{"Affine", 8 * rows * c, func(int) { Affine(dx, x, a, bb) }},
			{"Affine2", 12 * rows * c, func(int) { Affine2(dx, x, y, k, a, bb) }},
		})
	}
}
