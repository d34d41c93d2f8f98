package kernels

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// vecPath is one path of the vector family: the flags that select it.
type vecPath struct {
	name      string
	fma, wide bool
}

// vecPathList lists the vector family's paths this CPU and build can
// run: Go, then AVX2 and AVX-512 where available.
func vecPathList() []vecPath {
	paths := []vecPath{{"go", false, false}}
	if vecFMA || vecWide {
		paths = append(paths, vecPath{"avx2", true, false})
	}
	if hasAVX512F && hasBMI2 && (vecFMA || vecWide) {
		paths = append(paths, vecPath{"avx512", true, true})
	}
	return paths
}

// setVecPath selects p and returns a func restoring the previous path.
func setVecPath(p vecPath) (restore func()) {
	fma, wide, gemv := vecFMA, vecWide, gemvWide
	vecFMA, vecWide, gemvWide = p.fma, p.wide, p.wide
	return func() { vecFMA, vecWide, gemvWide = fma, wide, gemv }
}

// vecPaths runs f on every path of vecPathList.
func vecPaths(t *testing.T, f func(t *testing.T)) {
	for _, p := range vecPathList() {
		restore := setVecPath(p)
		t.Run("path="+p.name, f)
		restore()
	}
}

// oddLengths are the lengths every vector loop is tested on: empty, one,
// around the 8- and 16-lane widths and their tails, and long.
var oddLengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 1000}

func vecRand(r interface{ Float32() float32 }, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

func TestSumProductsMatchesReference(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		for _, n := range append(oddLengths, 257) {
			for _, taps := range []int{0, 1, 3, 9, 25} {
				t.Run(fmt.Sprintf("n=%d/taps=%d", n, taps), func(t *testing.T) {
					r := tensor.NewRand(uint64(n*100 + taps))
					a, b := vecRand(r, 3*n+50), vecRand(r, 2*n+30)
					aOff, bOff := make([]int, taps), make([]int, taps)
					for i := range aOff {
						aOff[i] = r.IntN(len(a) - n + 1)
						bOff[i] = r.IntN(len(b) - n + 1)
					}
					got, want := make([]float32, n), make([]float32, n)
					for i := range got {
						got[i] = float32(math.NaN()) // must be overwritten
					}
					SumProducts(got, a, b, aOff, bOff)
					SumProductsRef(want, a, b, aOff, bOff)
					for i := range want {
						if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*float64(taps+1)) {
							t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	})
}

func TestSumProductsPanicsOutOfRange(t *testing.T) {
	a, b, out := make([]float32, 20), make([]float32, 20), make([]float32, 8)
	for _, tc := range []struct {
		name       string
		aOff, bOff []int
		want       string
	}{
		{"lengths", []int{0}, nil, "1 offsets into a but 0 into b"},
		{"a end", []int{13}, []int{0}, "tap 0 reads a[13:21]"},
		{"a negative", []int{0, -1}, []int{0, 0}, "tap 1 reads a[-1:7]"},
		{"b end", []int{0}, []int{19}, "tap 0 reads b[19:27]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Fatalf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			SumProducts(out, a, b, tc.aOff, tc.bOff)
		})
	}
}

func BenchmarkSumProducts(b *testing.B) {
	const n, taps = 960, 9
	r := tensor.NewRand(1)
	a, w := vecRand(r, 3*(n+64)), vecRand(r, taps*n)
	aOff, bOff := make([]int, taps), make([]int, taps)
	for i := range aOff {
		aOff[i], bOff[i] = (i/3)*(n+64)+(i%3)*15, i*n
	}
	out := make([]float32, n)
	for _, impl := range []string{"fast", "ref"} {
		b.Run("impl="+impl, func(b *testing.B) {
			for b.Loop() {
				if impl == "ref" {
					SumProductsRef(out, a, w, aOff, bOff)
				} else {
					SumProducts(out, a, w, aOff, bOff)
				}
			}
			b.ReportMetric(2*n*taps*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// AdamUpdate gives the bits of the plain Go loop on both paths, for odd
// lengths and for zero, tiny and large values.
func TestAdamUpdateMatchesGo(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		for _, n := range oddLengths {
			t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
				r := tensor.NewRand(uint64(n))
				w, g, m, v := vecRand(r, n), vecRand(r, n), vecRand(r, n), vecRand(r, n)
				for i := range v {
					v[i] *= v[i] // second moments are not negative
				}
				if n > 3 {
					g[0], m[1], v[2], g[3] = 0, 0, 0, 1e30
				}
				w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
				AdamUpdate(w, g, m, v, 1e-3, 0.1, 0.001, 1e-8)
				adamGo(w2, g, m2, v2, 1e-3, 0.1, 0.001, 1e-8)
				for i := range w {
					if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) || math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
						t.Fatalf("element %d: w, m, v = %v, %v, %v; Go loop %v, %v, %v", i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
					}
				}
			})
		}
	})
	defer func() {
		if r := recover(); r == nil {
			t.Error("lengths that differ: no panic")
		}
	}()
	AdamUpdate(make([]float32, 3), make([]float32, 2), make([]float32, 3), make([]float32, 3), 1, 1, 1, 1)
}

func TestRepeatMatchesLoop(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		for _, c := range []int{1, 2, 3, 4, 8, 9} {
			for _, m := range []int{1, 2, 3, 5, 16} {
				for _, pix := range []int{0, 1, 2, 5, 37} {
					t.Run(fmt.Sprintf("c=%d/m=%d/pixels=%d", c, m, pix), func(t *testing.T) {
						src := vecRand(tensor.NewRand(uint64(c*m+pix)), pix*c)
						dst := make([]float32, len(src)*m)
						for i := range dst {
							dst[i] = float32(math.NaN())
						}
						Repeat(dst, src, c, m)
						for s := 0; s < pix; s++ {
							for ch := 0; ch < c; ch++ {
								for k := 0; k < m; k++ {
									if got, want := dst[(s*c+ch)*m+k], src[s*c+ch]; got != want {
										t.Fatalf("pixel %d channel %d copy %d = %v, want %v", s, ch, k, got, want)
									}
								}
							}
						}
					})
				}
			}
		}
	})
	defer func() {
		if r := recover(); r == nil {
			t.Error("wrong destination length: no panic")
		}
	}()
	Repeat(make([]float32, 5), make([]float32, 3), 3, 2)
}

// The assembly part of Repeat never reads or writes past the slices.
func TestRepeatAsmPixelsStaysInside(t *testing.T) {
	for c := 1; c <= 8; c++ {
		for m := 2; c*m <= 16; m++ {
			for pix := 0; pix < 40; pix++ {
				nSrc, nDst := pix*c, pix*c*m
				n := repeatAsmPixels(nSrc, nDst, c, c*m)
				if n < 0 || n > pix || (n > 0 && ((n-1)*c+8 > nSrc || (n-1)*c*m+16 > nDst)) {
					t.Fatalf("c=%d m=%d pixels=%d: %d pixels by assembly overrun", c, m, pix, n)
				}
			}
		}
	}
}

// BiasRelu, BiasAdd and ReluGradSum give the same bits on every path,
// with NaN, ±0 and exact cancellations among the inputs.
func TestBiasReluAndGradSumPaths(t *testing.T) {
	type result struct {
		x, b, g, y, dx, sum, skip, join []float32
		acc                             []float64
	}
	run := func(c, rows int) result {
		r := tensor.NewRand(uint64(c*1000 + rows))
		x, b, g := vecRand(r, rows*c), vecRand(r, c), vecRand(r, rows*c)
		if rows*c > 4 {
			x[0] = float32(math.NaN())
			x[1] = -b[1%c]
			x[2] = float32(math.Copysign(0, -1)) - b[2%c]
			g[3] = float32(math.NaN())
		}
		res := result{x: x, b: b, g: g, y: make([]float32, len(x)), dx: make([]float32, len(x)), sum: make([]float32, len(x)), acc: make([]float64, c)}
		BiasRelu(res.y, x, b)
		BiasAdd(res.sum, x, b)
		res.skip, res.join = vecRand(r, rows*c), make([]float32, len(x))
		if rows*c > 6 {
			res.skip[4] = -(x[4] + b[4%c]) // an exact zero before the ReLU
			res.skip[5] = float32(math.NaN())
		}
		BiasSkipRelu(res.join, x, res.skip, b)
		res.acc[0] = 0.5
		ReluGradSum(res.dx, g, res.y, res.acc)
		return res
	}
	paths := vecPathList()
	for _, c := range []int{1, 3, 8, 15, 16, 17, 31, 32, 33, 40, 1000} {
		for _, rows := range []int{0, 1, 5} {
			t.Run(fmt.Sprintf("c=%d/rows=%d", c, rows), func(t *testing.T) {
				got := make([]result, len(paths))
				for i, p := range paths {
					restore := setVecPath(p)
					got[i] = run(c, rows)
					restore()
				}
				for pi, p := range paths[1:] {
					res := got[pi+1]
					same32 := func(what string, a, b []float32) {
						for i := range a {
							if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
								t.Fatalf("%s[%d]: Go %v, %s %v", what, i, a[i], p.name, b[i])
							}
						}
					}
					same32("BiasRelu", got[0].y, res.y)
					same32("BiasAdd", got[0].sum, res.sum)
					same32("BiasSkipRelu", got[0].join, res.join)
					same32("ReluGradSum dx", got[0].dx, res.dx)
					for j := range got[0].acc {
						if math.Float64bits(got[0].acc[j]) != math.Float64bits(res.acc[j]) {
							t.Fatalf("acc[%d]: Go %v, %s %v", j, got[0].acc[j], p.name, res.acc[j])
						}
					}
				}
				// Against the definition.
				res := got[len(got)-1]
				for i, v := range res.join {
					pre := res.x[i] + res.b[i%c] + res.skip[i]
					want := max(pre, 0)
					if pre != pre || pre == 0 {
						want = pre // NaN and ±0 pass through
					}
					if math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("BiasSkipRelu[%d] = %v, want %v", i, v, want)
					}
				}
				for i, v := range res.sum {
					if want := res.x[i] + res.b[i%c]; math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("BiasAdd[%d] = %v, want %v", i, v, want)
					}
				}
				for i, v := range res.y {
					pre := res.x[i] + res.b[i%c]
					want := max(pre, 0)
					if pre != pre || pre == 0 {
						want = pre // NaN and ±0 pass through
					}
					if math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("y[%d] = %v, want %v", i, v, want)
					}
					wantDx := float32(0)
					if v > 0 {
						wantDx = res.g[i]
					}
					if math.Float32bits(res.dx[i]) != math.Float32bits(wantDx) {
						t.Fatalf("dx[%d] = %v, want %v", i, res.dx[i], wantDx)
					}
				}
			})
		}
	}
}

func TestArgmaxAndMaxWindowPaths(t *testing.T) {
	paths := vecPathList()
	for _, c := range []int{1, 3, 8, 15, 16, 17, 24, 31, 33, 1000} {
		for _, cells := range []int{1, 2, 4, 9} {
			t.Run(fmt.Sprintf("c=%d/cells=%d", c, cells), func(t *testing.T) {
				r := tensor.NewRand(uint64(c*10 + cells))
				x := vecRand(r, 20*c)
				for i := range x {
					x[i] = float32(math.Round(float64(x[i]))) // many ties
				}
				x[5] = float32(math.NaN())
				offs := make([]int, cells)
				for k := range offs {
					offs[k] = r.IntN(19) * c
				}
				dst, maxOnly := make([][]float32, len(paths)), make([][]float32, len(paths))
				arg := make([][]int32, len(paths))
				for i, p := range paths {
					restore := setVecPath(p)
					dst[i], arg[i] = make([]float32, c), make([]int32, c)
					ArgmaxWindows(dst[i], arg[i], x, offs, 1000, c, 0)
					maxOnly[i] = make([]float32, c)
					MaxWindows(maxOnly[i], x, offs, c, 0)
					restore()
				}
				for j := 0; j < c; j++ {
					// The definition: the first cell whose value no later
					// cell strictly exceeds.
					best, at := x[offs[0]+j], offs[0]+j
					for _, o := range offs[1:] {
						if x[o+j] > best {
							best, at = x[o+j], o+j
						}
					}
					for i := range dst {
						if math.Float32bits(maxOnly[i][j]) != math.Float32bits(best) {
							t.Fatalf("MaxWindows path %d channel %d: %v, want %v", i, j, maxOnly[i][j], best)
						}
						if math.Float32bits(dst[i][j]) != math.Float32bits(best) || arg[i][j] != int32(1000+at) {
							t.Fatalf("path %d channel %d: %v at %d, want %v at %d", i, j, dst[i][j], arg[i][j], best, 1000+at)
						}
					}
				}
			})
		}
	}
}

func TestGemvMatchesReference(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		for _, n := range append(oddLengths, 80, 127, 128, 129, 130, 192, 200, 1024) {
			for _, k := range []int{0, 1, 3, 100} {
				t.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(t *testing.T) {
					r := tensor.NewRand(uint64(n*1000 + k))
					ldw := n + 3
					x, w := vecRand(r, k), vecRand(r, k*ldw)
					y := make([]float32, n)
					for i := range y {
						y[i] = float32(math.NaN())
					}
					Gemv(y, x, w, k, ldw)
					for j := range y {
						var s float64
						for p := 0; p < k; p++ {
							s += float64(x[p]) * float64(w[p*ldw+j])
						}
						if d := math.Abs(float64(y[j]) - s); !(d <= 1e-5*float64(k+1)) {
							t.Fatalf("y[%d] = %v, want %v", j, y[j], s)
						}
					}
				})
			}
		}
	})
	defer func() {
		if r := recover(); r == nil {
			t.Error("short w: no panic")
		}
	}()
	Gemv(make([]float32, 8), make([]float32, 2), make([]float32, 15), 2, 8)
}

func TestMulAdd(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		for _, n := range oddLengths {
			t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
				r := tensor.NewRand(uint64(n))
				acc, a, b := vecRand(r, n), vecRand(r, n+2), vecRand(r, n+1)
				want := make([]float64, n)
				for i := range want {
					want[i] = float64(acc[i]) + float64(a[i])*float64(b[i])
				}
				MulAdd(acc, a, b)
				for i := range acc {
					if d := math.Abs(float64(acc[i]) - want[i]); d > 1e-6 {
						t.Fatalf("acc[%d] = %v, want %v", i, acc[i], want[i])
					}
				}
			})
		}
	})
}

func TestAdd(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		for _, n := range oddLengths {
			t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
				r := tensor.NewRand(uint64(n + 3))
				a, b := vecRand(r, n+2), vecRand(r, n+1)
				if n > 2 {
					a[1], b[1] = float32(math.Inf(1)), float32(math.Inf(-1)) // NaN
					a[2], b[2] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
				}
				dst := make([]float32, n)
				Add(dst, a, b)
				for i := range dst {
					want := a[i] + b[i]
					if math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("dst[%d] = %v, want %v", i, dst[i], want)
					}
				}
				// In place: dst is a.
				Add(a[:n], a, b)
				for i := range dst {
					if math.Float32bits(a[i]) != math.Float32bits(dst[i]) {
						t.Fatalf("in place: a[%d] = %v, want %v", i, a[i], dst[i])
					}
				}
			})
		}
	})
}

// The vector loops write nothing past the slices they are given (the
// AVX-512 tails store under a mask): each output is the head of a longer
// array whose rest must keep its sentinel.
func TestVecLoopsStayInside(t *testing.T) {
	const pad = 40
	sentinel := float32(-12345)
	// out returns n floats whose backing array goes on for pad sentinels.
	out := func(n int) []float32 {
		s := make([]float32, n+pad)
		for i := range s {
			s[i] = sentinel
		}
		return s[:n]
	}
	check := func(t *testing.T, what string, s []float32) {
		for i, v := range s[len(s):cap(s)] {
			if v != sentinel {
				t.Fatalf("%s: element %d past the end written: %v", what, len(s)+i, v)
			}
		}
	}
	vecPaths(t, func(t *testing.T) {
		for _, n := range oddLengths {
			t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
				r := tensor.NewRand(uint64(n + 7))
				x, b := vecRand(r, n), vecRand(r, n)
				if n > 0 {
					y := out(n)
					BiasRelu(y, x, b)
					check(t, "BiasRelu", y)
					BiasAdd(y, x, b)
					check(t, "BiasAdd", y)
					BiasSkipRelu(y, x, x, b)
					check(t, "BiasSkipRelu", y)
					dx, accs := out(n), make([]float64, n+pad)
					for i := range accs {
						accs[i] = float64(sentinel)
					}
					ReluGradSum(dx, x, y, accs[:n])
					check(t, "ReluGradSum", dx)
					for i, v := range accs[n:] {
						if v != float64(sentinel) {
							t.Fatalf("ReluGradSum: sum %d past the end written: %v", n+i, v)
						}
					}
					d, arg := out(n), make([]int32, n+pad)
					ArgmaxWindows(d, arg[:n], x, []int{0}, 0, n, 0)
					check(t, "ArgmaxWindows", d)
					for i, v := range arg[n:] {
						if v != 0 {
							t.Fatalf("ArgmaxWindows: index %d past the end written: %v", n+i, v)
						}
					}
					d = out(n)
					MaxWindows(d, x, []int{0}, n, 0)
					check(t, "MaxWindows", d)
				}
				w, m, v := out(n), out(n), out(n)
				for i := range w {
					w[i], m[i], v[i] = 1, 0, 1
				}
				AdamUpdate(w, x, m, v, 0.1, 0.1, 0.01, 1e-8)
				check(t, "AdamUpdate w", w)
				check(t, "AdamUpdate m", m)
				check(t, "AdamUpdate v", v)
				acc := out(n)
				MulAdd(acc, x, b)
				check(t, "MulAdd", acc)
				sum := out(n)
				Add(sum, x, b)
				check(t, "Add", sum)
				sp := out(n)
				SumProducts(sp, x, b, []int{0, 0}, []int{0, 0})
				check(t, "SumProducts", sp)
				gv := out(n)
				Gemv(gv, []float32{1, 2}, append(x, b...), 2, n)
				check(t, "Gemv", gv)
			})
		}
	})
}

// BenchmarkVec times each vector loop on every path at the lecture
// model's sizes (batch 128), alternating the paths within each -count
// round (compare with benchstat -col /path):
//
//	go test -run "^$" -bench Vec -count 10 ./internal/kernels
func BenchmarkVec(b *testing.B) {
	r := tensor.NewRand(9)
	type loop struct {
		name  string
		bytes int // moved per call, for MB/s
		run   func()
	}
	const c1, px1 = 32, 128 * 28 * 28 // conv1 output
	const c2, px2 = 64, 128 * 14 * 14 // conv2 output
	x1, b1, y1, dx1 := vecRand(r, c1*px1), vecRand(r, c1), make([]float32, c1*px1), make([]float32, c1*px1)
	x2, b2, y2 := vecRand(r, c2*px2), vecRand(r, c2), make([]float32, c2*px2)
	acc1 := make([]float64, c1)
	xf, bf, yf := vecRand(r, 128*1024), vecRand(r, 1024), make([]float32, 128*1024)
	const nAdam = 3136 * 1024
	wA, gA, mA, vA := vecRand(r, nAdam), vecRand(r, nAdam), make([]float32, nAdam), make([]float32, nAdam)
	pool := make([]float32, c2)
	pArg := make([]int32, c2)
	offs := []int{0, c2, 14 * c2, 15 * c2} // a 2×2 window in a 14-wide row
	gx, gw, gy := vecRand(r, 3136), vecRand(r, 3136*1024), make([]float32, 1024)
	maA, maB, maC := vecRand(r, 4096), vecRand(r, 4096), make([]float32, 4096)
	loops := []loop{
		{"BiasRelu:conv1", 12 * c1 * px1, func() { BiasRelu(y1, x1, b1) }},
		{"BiasRelu:conv2", 12 * c2 * px2, func() { BiasRelu(y2, x2, b2) }},
		{"BiasRelu:dense", 12 * 128 * 1024, func() { BiasRelu(yf, xf, bf) }},
		{"ReluGradSum:conv1", 12 * c1 * px1, func() { ReluGradSum(dx1, x1, y1, acc1) }},
		{"ArgmaxWindow:c64", 4 * 4 * c2, func() { ArgmaxWindows(pool, pArg, x2, offs, 0, c2, 0) }},
		{"MaxWindow:c64", 4 * 4 * c2, func() { MaxWindows(pool, x2, offs, c2, 0) }},
		{"AdamUpdate:dense1", 4 * 6 * nAdam, func() { AdamUpdate(wA, gA, mA, vA, 1e-3, 0.1, 0.001, 1e-8) }},
		{"Gemv:dense1", 4 * 3136 * 1024, func() { Gemv(gy, gx, gw, 3136, 1024) }},
		{"Gemv:dense1-slab64", 4 * 3136 * 64, func() { Gemv(gy[:64], gx, gw, 3136, 64) }}, // one of nn's 64-column slabs
		{"MulAdd:4096", 4 * 4 * 4096, func() { MulAdd(maC, maA, maB) }},
	}
	for _, l := range loops {
		b.Run("loop="+l.name, func(b *testing.B) {
			for _, p := range vecPathList()[1:] {
				b.Run("path="+p.name, func(b *testing.B) {
					defer setVecPath(p)()
					b.SetBytes(int64(l.bytes))
					for b.Loop() {
						l.run()
					}
				})
			}
		})
	}
}

// TestReluPaths holds Relu and ReluGrad to the plain loop, bit for bit,
// on every vector path, at lengths around the 8-, 16- and 32-wide steps,
// with NaN, ±0 and negative values in x, y and g.
func TestReluPaths(t *testing.T) {
	paths := vecPathList()
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 100, 1001} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			r := tensor.NewRand(uint64(n + 7))
			x, g := vecRand(r, n+3), vecRand(r, n+3)
			special := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, -1, float32(math.Inf(-1)), float32(math.Inf(1))}
			for i := 0; i < n; i += 3 {
				x[i] = special[(i/3)%len(special)]
				g[(i+1)%n] = special[(i/3+2)%len(special)]
			}
			want, wantD := make([]float32, n), make([]float32, n)
			for i, v := range x[:n] {
				if !(v < 0) {
					want[i] = v
				}
				if v > 0 {
					wantD[i] = g[i]
				}
			}
			for _, p := range paths {
				restore := setVecPath(p)
				y, dx := make([]float32, n), make([]float32, n)
				Relu(y, x)
				ReluGrad(dx, g, x)
				restore()
				for i := range want {
					if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: Relu[%d] of %v = %v, want %v", p.name, i, x[i], y[i], want[i])
					}
					if math.Float32bits(dx[i]) != math.Float32bits(wantD[i]) {
						t.Fatalf("%s: ReluGrad[%d] (y %v, g %v) = %v, want %v", p.name, i, x[i], g[i], dx[i], wantD[i])
					}
				}
			}
		})
	}
}

// TestArgmaxReluGradSumPaths holds ArgmaxReluGradSum to its definition,
// bit for bit on every vector path: channel counts around the 8- and
// 16-lane steps, one to three cells of one to three positions, offsets
// that pick each position, none, or a neighbouring channel, and NaN, ±0
// and negative values in grad and z (a −0 gradient must come out +0).
func TestArgmaxReluGradSumPaths(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, -1, 2}
	for _, c := range []int{1, 7, 8, 9, 16, 17, 24, 31, 32, 33, 64} {
		for _, cols := range []int{1, 3} {
			for _, rep := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("c=%d/cols=%d/rep=%d", c, cols, rep), func(t *testing.T) {
					r := tensor.NewRand(uint64(c*100 + cols*10 + rep))
					n := cols * c
					grad, z := vecRand(r, n), vecRand(r, n)
					arg := make([]int32, n)
					base := int32(1000 + c)
					for i := range n {
						col, j := i/c, i%c
						switch k := r.IntN(rep + 2); {
						case k < rep: // one of the cell's positions
							arg[i] = base + int32((col*rep+k)*c+j)
						case k == rep: // no position of this range
							arg[i] = base - 1 - int32(j)
						default: // the neighbouring channel of position 0
							arg[i] = base + int32(col*rep*c+(j+1)%max(c, 2))
						}
						if i%3 == 0 {
							grad[i] = special[(i/3)%len(special)]
						}
						if i%4 == 1 {
							z[i] = special[(i/4+1)%len(special)]
						}
					}
					acc0 := make([]float64, c)
					for j := range acc0 {
						acc0[j] = float64(j) - 0.25
					}
					want, wantAcc := make([]float32, n*rep), slices.Clone(acc0)
					for q := range cols * rep {
						col := q / rep
						for j := range c {
							var v float32
							if i := col*c + j; arg[i] == base+int32(q*c+j) && z[i] > 0 && grad[i] != 0 {
								v = grad[i]
							}
							want[q*c+j] = v
							wantAcc[j] += float64(v)
						}
					}
					for _, p := range vecPathList() {
						restore := setVecPath(p)
						dx, acc := vecRand(r, n*rep), slices.Clone(acc0)
						ArgmaxReluGradSum(dx, grad, z, arg, base, rep, acc)
						restore()
						for i := range want {
							if math.Float32bits(dx[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: dx[%d] = %v, want %v", p.name, i, dx[i], want[i])
							}
						}
						for j := range acc {
							if math.Float64bits(acc[j]) != math.Float64bits(wantAcc[j]) && !(math.IsNaN(acc[j]) && math.IsNaN(wantAcc[j])) {
								t.Fatalf("%s: acc[%d] = %v, want %v", p.name, j, acc[j], wantAcc[j])
							}
						}
					}
				})
			}
		}
	}
}

// TestArgmaxAndMaxWindowsRows: a call over several windows equals one
// call per window, on every path, windows side by side or apart by an
// odd step.
func TestArgmaxAndMaxWindowsRows(t *testing.T) {
	for _, c := range []int{1, 3, 8, 16, 17, 32, 33} {
		for _, windows := range []int{1, 2, 5} {
			for _, step := range []int{c, 2*c + 3} {
				t.Run(fmt.Sprintf("c=%d/windows=%d/step=%d", c, windows, step), func(t *testing.T) {
					r := tensor.NewRand(uint64(c*100 + windows*10 + step))
					x := vecRand(r, 12*c+windows*step)
					for i := range x {
						x[i] = float32(math.Round(float64(2 * x[i]))) // ties
					}
					x[3] = float32(math.NaN())
					offs := []int{0, c, 5 * c, 6*c + 1}
					const base = 77
					want, wantArg := make([]float32, windows*c), make([]int32, windows*c)
					for w := range windows {
						for j := range c {
							best, at := x[w*step+offs[0]+j], offs[0]+j
							for _, o := range offs[1:] {
								if v := x[w*step+o+j]; v > best {
									best, at = v, o+j
								}
							}
							want[w*c+j], wantArg[w*c+j] = best, int32(base+w*step+at)
						}
					}
					for _, p := range vecPathList() {
						restore := setVecPath(p)
						dst, arg, maxOnly := make([]float32, windows*c), make([]int32, windows*c), make([]float32, windows*c)
						ArgmaxWindows(dst, arg, x, offs, base, c, step)
						MaxWindows(maxOnly, x, offs, c, step)
						restore()
						for i := range want {
							if math.Float32bits(dst[i]) != math.Float32bits(want[i]) || arg[i] != wantArg[i] {
								t.Fatalf("%s: ArgmaxWindows[%d] = %v at %d, want %v at %d", p.name, i, dst[i], arg[i], want[i], wantArg[i])
							}
							if math.Float32bits(maxOnly[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: MaxWindows[%d] = %v, want %v", p.name, i, maxOnly[i], want[i])
							}
						}
					}
				})
			}
		}
	}
}

// TestCopyRows: every path copies exactly the rows asked for, with
// overlapping source rows (a stride-2 window) and gaps between
// destination rows left alone.
func TestCopyRows(t *testing.T) {
	r := tensor.NewRand(5)
	vecPaths(t, func(t *testing.T) {
		for _, n := range []int{1, 7, 15, 16, 17, 48, 100} {
			for _, sh := range []struct{ rows, ss, ds int }{{1, 0, 0}, {5, 2, 3}, {7, 32, 144}, {3, 1000, 1}} {
				ds, ss := n+sh.ds, sh.ss
				src := vecRand(r, (sh.rows-1)*ss+n)
				dst := vecRand(r, (sh.rows-1)*ds+n+5)
				want := slices.Clone(dst)
				for i := 0; i < sh.rows; i++ {
					for j := 0; j < n; j++ {
						want[i*ds+j] = src[i*ss+j]
					}
				}
				CopyRows(dst, ds, src, ss, n, sh.rows)
				if !slices.Equal(dst, want) {
					t.Fatalf("n=%d rows=%d strides %d, %d: got %v, want %v", n, sh.rows, ds, ss, dst, want)
				}
			}
		}
	})
	for _, bad := range []func(){
		func() { CopyRows(make([]float32, 10), 4, make([]float32, 10), 1, 5, 2) }, // dst rows overlap
		func() { CopyRows(make([]float32, 10), 5, make([]float32, 10), 1, 5, 3) }, // dst too short
		func() { CopyRows(make([]float32, 10), 5, make([]float32, 10), 6, 5, 2) }, // src too short
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("CopyRows with bad strides or lengths did not panic")
				}
			}()
			bad()
		}()
	}
}

// TestPrefetchAnySlice: Prefetch takes any slice, empty, shorter than a
// line or starting anywhere, and changes nothing in it.
func TestPrefetchAnySlice(t *testing.T) {
	x := make([]float32, 100)
	for i := range x {
		x[i] = float32(i)
	}
	for i := 0; i <= len(x); i++ {
		for j := i; j <= len(x); j++ {
			Prefetch(x[i:j])
		}
	}
	for i, v := range x {
		if v != float32(i) {
			t.Fatalf("x[%d] = %v after Prefetch, want %d", i, v, i)
		}
	}
}
