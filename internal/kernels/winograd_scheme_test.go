package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinoSchemesMatchDirect runs each scheme's three transforms on
// random tiles cut from a wider image and compares its m×m outputs with
// the direct correlation in float64, on both paths and with channel
// counts that use the AVX2 loop, the Go loop or both.
func TestWinoSchemesMatchDirect(t *testing.T) {
	for _, s := range WinoSchemes {
		t.Run(s.Name, func(t *testing.T) {
			vecPaths(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(5, uint64(s.Tile)))
				for _, cf := range [][2]int{{1, 1}, {8, 8}, {3, 16}, {13, 9}, {32, 64}, {64, 32}, {24, 17}} {
					c, f := cf[0], cf[1]
					t.Run(fmt.Sprintf("c=%d,f=%d", c, f), func(t *testing.T) {
						n, m, cells := s.Tile, s.Out, s.Cells()
						colStride := c + 2
						rowStride := (n + 3) * colStride
						d := vecRand(r, n*rowStride)
						k := s.K
						g := vecRand(r, k*k*c*f)
						u := make([]float32, cells*c*f)
						s.Filter(u, g, c, f)
						vs, ms := c+3, f+5
						v := make([]float32, (cells-1)*vs+c)
						s.Input(v, vs, d, rowStride, colStride, c)
						prod := make([]float32, (cells-1)*ms+f)
						for xi := 0; xi < cells; xi++ {
							for o := 0; o < f; o++ {
								var acc float32
								for ch := 0; ch < c; ch++ {
									acc += v[xi*vs+ch] * u[(xi*c+ch)*f+o]
								}
								prod[xi*ms+o] = acc
							}
						}
						yr, yc := m*(f+1)+7, f+1
						y := make([]float32, (m-1)*(yr+yc)+f)
						s.Output(y, yr, yc, prod, ms, f)
						for a := 0; a < m; a++ {
							for b := 0; b < m; b++ {
								for o := 0; o < f; o++ {
									var want, mag float64
									for kh := 0; kh < k; kh++ {
										for kw := 0; kw < k; kw++ {
											for ch := 0; ch < c; ch++ {
												p := float64(d[(a+kh)*rowStride+(b+kw)*colStride+ch]) * float64(g[((kh*k+kw)*c+ch)*f+o])
												want += p
												mag += math.Abs(p)
											}
										}
									}
									got := y[a*yr+b*yc+o]
									if diff := math.Abs(float64(got) - want); diff > 1e-5*mag+1e-6 || math.IsNaN(float64(got)) {
										t.Fatalf("y[%d][%d][%d] = %g, direct sum %g (|terms| %g)", a, b, o, got, want, mag)
									}
								}
							}
						}
					})
				}
			})
		})
	}
}

// TestWinoSchemesAsmMatchGo runs each scheme's three transforms on
// every vector path (vecPathList) with channel counts around the 8- and
// 16-lane groups and their tails, at strides wider than the channels
// whose gaps hold a sentinel. Each assembly path agrees with the Go
// loops within a few ulps of the terms; the AVX-512 routines give the
// AVX2 ones' bits on the channels the AVX2 routines take (whole groups
// of 8; the Go loops do the rest there, summing in another order); no
// path writes outside its c channels per cell, and Output changes its
// source only in the first c channels of a cell.
func TestWinoSchemesAsmMatchGo(t *testing.T) {
	paths := vecPathList()
	if len(paths) < 2 {
		t.Skip("no assembly on this CPU or build")
	}
	sentinel := float32(math.Inf(-1))
	for _, s := range WinoSchemes {
		for _, c := range []int{1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 40, 64} {
			t.Run(fmt.Sprintf("%s/c=%d", s.Name, c), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(c), uint64(s.Tile)))
				n, m, cells := s.Tile, s.Out, s.Cells()
				colStride := c + 5
				rowStride := (n+1)*colStride + 3
				d := vecRand(r, n*rowStride)
				ts, ys := c+3, c+7 // transformed cells' stride; output block's column stride
				prod := vecRand(r, (cells-1)*ts+c)
				// fill returns n values, the sentinel but where a cell's c
				// channels at stride sd are.
				fill := func(n, sd int) []float32 {
					v := make([]float32, n)
					for i := range v {
						v[i] = sentinel
						if i%sd < c {
							v[i] = 0
						}
					}
					return v
				}
				type result struct{ v, y, src, dyh []float32 }
				got := make([]result, len(paths))
				for p, path := range paths {
					restore := setVecPath(path)
					res := result{v: fill((cells-1)*ts+c, ts), y: fill((m-1)*(m+1)*ys+c, ys), dyh: fill((cells-1)*ts+c, ts)}
					s.Input(res.v, ts, d, rowStride, colStride, c)
					res.src = append([]float32(nil), prod...)
					for i := range res.src {
						if i%ts >= c {
							res.src[i] = sentinel
						}
					}
					s.Output(res.y, m*ys, ys, res.src, ts, c)
					s.OutputGrad(res.dyh, ts, d, rowStride, colStride, c)
					restore()
					got[p] = res
				}
				check := func(what string, vals func(res result) []float32, stride int) {
					base := vals(got[0])
					for p := 1; p < len(paths); p++ {
						vs := vals(got[p])
						for i := range base {
							g, w := vs[i], base[i]
							if i%stride >= c {
								if g != sentinel {
									t.Fatalf("path %s: %s[%d] (past the %d channels) = %g, was %g", paths[p].name, what, i, c, g, sentinel)
								}
								continue
							}
							if diff := math.Abs(float64(g - w)); !(diff <= 1e-4*(1+math.Abs(float64(w)))) {
								t.Fatalf("path %s: %s[%d] = %g, Go loops %g", paths[p].name, what, i, g, w)
							}
						}
					}
					// The AVX2 and AVX-512 paths, where both run assembly.
					if len(paths) == 3 {
						a2, a5 := vals(got[1]), vals(got[2])
						for i := range a2 {
							if i%stride < c/8*8 && math.Float32bits(a2[i]) != math.Float32bits(a5[i]) {
								t.Fatalf("%s[%d]: AVX-512 %g (%#x), AVX2 %g (%#x)", what, i, a5[i], math.Float32bits(a5[i]), a2[i], math.Float32bits(a2[i]))
							}
						}
					}
				}
				check("input", func(res result) []float32 { return res.v }, ts)
				check("output", func(res result) []float32 { return res.y }, ys)
				check("output grad", func(res result) []float32 { return res.dyh }, ts)
				// Output's source: only the channels < c may change.
				for p := range paths {
					for i, v := range got[p].src {
						if i%ts >= c && v != sentinel {
							t.Fatalf("path %s: output source[%d] (past the %d channels) = %g, was %g", paths[p].name, i, c, v, sentinel)
						}
					}
				}
			})
		}
	}
}

func TestWino4PanicsOutOfRange(t *testing.T) {
	for name, f := range map[string]func(){
		"input src":  func() { Wino4.Input(make([]float32, 64*8), 8, make([]float32, 63*8), 8*8, 8, 8) },
		"input dst":  func() { Wino4.Input(make([]float32, 63*8), 8, make([]float32, 64*8), 8*8, 8, 8) },
		"output src": func() { Wino4.Output(make([]float32, 16*8), 32, 8, make([]float32, 63*8), 8, 8) },
		"output dst": func() { Wino4.Output(make([]float32, 15*8), 32, 8, make([]float32, 64*8), 8, 8) },
		"filter":     func() { Wino4.Filter(make([]float32, 63*4), make([]float32, 25*4), 2, 2) },
		"grad src":   func() { Wino4.OutputGrad(make([]float32, 64*8), 8, make([]float32, 15*8), 32, 8, 8) },
		"grad dst":   func() { Wino4.OutputGrad(make([]float32, 63*8), 8, make([]float32, 16*8), 32, 8, 8) },
		"filtergrad": func() { Wino4.FilterGrad(make([]float32, 25*4), make([]float32, 63*4), 2, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: out-of-range call did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestWinoSchemesFilterGradMatchesDirect checks each scheme's adjoint
// transforms: Σ over tiles of V⊙Dŷ, through FilterGrad, is the direct
// filter gradient Σ_tiles Σ_{a,b} d[a+kh][b+kw]·dy[a][b], on both paths.
// The tolerance counts a fifth of the largest magnitude, as a tile mixes
// all its inputs.
func TestWinoSchemesFilterGradMatchesDirect(t *testing.T) {
	const tiles = 3
	for _, s := range WinoSchemes {
		t.Run(s.Name, func(t *testing.T) {
			vecPaths(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(17, uint64(s.Tile)))
				for _, cf := range [][2]int{{1, 1}, {3, 13}, {8, 8}, {24, 32}, {32, 64}} {
					c, f := cf[0], cf[1]
					t.Run(fmt.Sprintf("c=%d,f=%d", c, f), func(t *testing.T) {
						n, m, cells := s.Tile, s.Out, s.Cells()
						colStride, dyCol := c+2, f+1
						rowStride, dyRow := (n+3)*colStride, (m+1)*dyCol
						vs, ds := c+3, f+5
						what := make([]float32, cells*c*f)
						v, dyh := make([]float32, (cells-1)*vs+c), make([]float32, (cells-1)*ds+f)
						d, dy := make([][]float32, tiles), make([][]float32, tiles)
						for tl := range d {
							d[tl], dy[tl] = vecRand(r, n*rowStride), vecRand(r, m*dyRow)
							s.Input(v, vs, d[tl], rowStride, colStride, c)
							s.OutputGrad(dyh, ds, dy[tl], dyRow, dyCol, f)
							for xi := 0; xi < cells; xi++ {
								for ch := 0; ch < c; ch++ {
									for o := 0; o < f; o++ {
										what[(xi*c+ch)*f+o] += v[xi*vs+ch] * dyh[xi*ds+o]
									}
								}
							}
						}
						taps := s.K * s.K
						dw := make([]float32, taps*c*f)
						s.FilterGrad(dw, what, c, f)
						want, mag := make([]float64, len(dw)), make([]float64, len(dw))
						top := 0.0
						for k := 0; k < taps; k++ {
							kh, kw := k/s.K, k%s.K
							for ch := 0; ch < c; ch++ {
								for o := 0; o < f; o++ {
									i := (k*c+ch)*f + o
									for tl := range d {
										for a := 0; a < m; a++ {
											for b := 0; b < m; b++ {
												p := float64(d[tl][(a+kh)*rowStride+(b+kw)*colStride+ch]) * float64(dy[tl][a*dyRow+b*dyCol+o])
												want[i] += p
												mag[i] += math.Abs(p)
											}
										}
									}
									top = max(top, mag[i])
								}
							}
						}
						for i, got := range dw {
							if diff := math.Abs(float64(got) - want[i]); diff > 1e-5*(mag[i]+top/5) || math.IsNaN(float64(got)) {
								t.Fatalf("dw[%d] = %g, direct sum %g (|terms| %g, largest %g)", i, got, want[i], mag[i], top)
							}
						}
					})
				}
			})
		})
	}
}

// BenchmarkWinoTransforms times each scheme's three transforms on every
// assembly path, as nn's Winograd convolution calls them: a block of 28
// tiles (4 rows of 7) of a channels-last image to cells at stride
// 28·c + 16, and back. c = 32 and 64 are the lecture's conv2 (input and
// output channels), 16 and 64 the benchmark ResNet's stages; 24 has a
// tail of 8 channels. ns/op is one block; compare the paths with
// benchstat -col /path:
//
//	go test -run '^$' -bench WinoTransforms -count 6 ./internal/kernels
func BenchmarkWinoTransforms(b *testing.B) {
	const rows, cols = 4, 7
	const nt = rows * cols
	paths := vecPathList()[1:]
	if len(paths) == 0 {
		b.Skip("no assembly on this CPU or build")
	}
	r := rand.New(rand.NewPCG(7, 9))
	for _, s := range WinoSchemes {
		for _, c := range []int{16, 24, 32, 64} {
			h, w := rows*s.Out+s.K-1, cols*s.Out+s.K-1
			x := vecRand(r, h*w*c)
			ts := nt*c + 16
			v := make([]float32, s.Cells()*ts)
			m := vecRand(r, s.Cells()*ts)
			y := make([]float32, rows*s.Out*cols*s.Out*c)
			ow := cols * s.Out
			for _, op := range []struct {
				name string
				run  func(t int)
			}{
				{"Input", func(t int) {
					oy, ox := s.Out*(t/cols), s.Out*(t%cols)
					s.Input(v[t*c:], ts, x[(oy*w+ox)*c:], w*c, c, c)
				}},
				{"Output", func(t int) {
					oy, ox := s.Out*(t/cols), s.Out*(t%cols)
					s.Output(y[(oy*ow+ox)*c:], ow*c, c, m[t*c:], ts, c)
				}},
				{"OutputGrad", func(t int) {
					oy, ox := s.Out*(t/cols), s.Out*(t%cols)
					s.OutputGrad(v[t*c:], ts, y[(oy*ow+ox)*c:], ow*c, c, c)
				}},
			} {
				for _, p := range paths {
					b.Run(fmt.Sprintf("%s/%s/c=%d/path=%s", s.Name, op.name, c, p.name), func(b *testing.B) {
						defer setVecPath(p)()
						for b.Loop() {
							for t := 0; t < nt; t++ {
								op.run(t)
							}
						}
					})
				}
			}
		}
	}
}

// TestWinoOutputBiasMatchesUnfused: on every path, each scheme's
// OutputBias gives the bits of Output followed by BiasAdd, BiasRelu,
// BiasSkipRelu or (no bias) Add on each output, with outputs side by side (column stride
// c) and apart (a gap holding a sentinel, which must stay), channel
// counts around the 8- and 16-lane groups, and products that make NaN
// and −0 outputs. A fused routine that dropped the bias, read the skip
// at another offset, or left out the ReLU fails it.
func TestWinoOutputBiasMatchesUnfused(t *testing.T) {
	sentinel := float32(math.Inf(-1))
	nan := float32(math.NaN())
	for _, s := range WinoSchemes {
		vecPaths(t, func(t *testing.T) {
			for _, c := range []int{1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 40, 64} {
				for _, gap := range []int{0, 3} {
					for _, ep := range []string{"bias", "relu", "skip", "add"} {
						r := rand.New(rand.NewPCG(uint64(c), uint64(s.Tile+gap)))
						n, m, cells := s.Tile, s.Out, s.Cells()
						ts, cs := c+5, c+gap
						rs := m*cs + 2
						prod := vecRand(r, (cells-1)*ts+c)
						// All products of channel 0 NaN: a NaN output; all
						// of channel 1 zero: outputs that the bias decides.
						for xi := 0; xi < n*n; xi++ {
							prod[xi*ts] = nan
							if c > 1 {
								prod[xi*ts+1] = 0
							}
						}
						bias := vecRand(r, c)
						if c > 1 {
							bias[1] = float32(math.Copysign(0, -1))
						}
						span := (m-1)*(rs+cs) + c
						var skip []float32
						if ep == "skip" || ep == "add" {
							skip = vecRand(r, span)
							skip[1] = float32(math.Copysign(0, -1)) // + an output of channel 1
						}
						fill := func() []float32 {
							y := make([]float32, span)
							for i := range y {
								y[i] = sentinel
							}
							return y
						}
						want, got := fill(), fill()
						s.Output(want, rs, cs, append([]float32(nil), prod...), ts, c)
						for a := 0; a < m; a++ {
							for b := 0; b < m; b++ {
								o := a*rs + b*cs
								y := want[o : o+c]
								switch ep {
								case "bias":
									BiasAdd(y, y, bias)
								case "relu":
									BiasRelu(y, y, bias)
								case "add":
									Add(y, y, skip[o:o+c])
								default:
									BiasSkipRelu(y, y, skip[o:o+c], bias)
								}
							}
						}
						if ep == "add" {
							s.OutputBias(got, rs, cs, append([]float32(nil), prod...), ts, c, nil, skip, false)
						} else {
							s.OutputBias(got, rs, cs, append([]float32(nil), prod...), ts, c, bias, skip, ep != "bias")
						}
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s c=%d gap=%d %s: y[%d] = %g (%#x), unfused %g (%#x)", s.Name, c, gap, ep,
									i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
							}
						}
					}
				}
			}
		})
	}
}

func TestWinoOutputBiasPanics(t *testing.T) {
	src, dst := make([]float32, 36*8), make([]float32, 16*8)
	for name, f := range map[string]func(){
		"bias length":       func() { Wino43.OutputBias(dst, 32, 8, src, 8, 8, make([]float32, 7), nil, true) },
		"skip short":        func() { Wino43.OutputBias(dst, 32, 8, src, 8, 8, make([]float32, 8), make([]float32, 16*8-1), true) },
		"skip without relu": func() { Wino43.OutputBias(dst, 32, 8, src, 8, 8, make([]float32, 8), make([]float32, 16*8), false) },
		"add with relu":     func() { Wino43.OutputBias(dst, 32, 8, src, 8, 8, nil, make([]float32, 16*8), true) },
		"add skip short":    func() { Wino43.OutputBias(dst, 32, 8, src, 8, 8, nil, make([]float32, 16*8-1), false) },
		"no bias, no skip":  func() { Wino43.OutputBias(dst, 32, 8, src, 8, 8, nil, nil, false) },
		"dst short":         func() { Wino43.OutputBias(dst[:16*8-1], 32, 8, src, 8, 8, make([]float32, 8), nil, true) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: call did not panic", name)
				}
			}()
			f()
		}()
	}
}
