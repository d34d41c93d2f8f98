package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// alignedAt returns the first index of buf from which the values lie
// at an address that is a multiple of align bytes, plus off values.
func alignedAt(buf []float32, align, off int) int {
	a := uintptr(unsafe.Pointer(&buf[0]))
	i := int((uintptr(align)-a%uintptr(align))%uintptr(align)) / 4
	return i + off
}

// TestWinoOutputStreamSameBits: on every path, each scheme's
// OutputStream and OutputBiasStream give the bits of Output and
// OutputBias, with and without each epilogue, for outputs aligned for
// streaming stores (which the assembly paths must then take) and not
// (which fall back), side by side and with a gap of sentinels between
// them that must stay. A streaming routine that dropped a row or a
// group of channels, or wrote over the gap, fails it.
func TestWinoOutputStreamSameBits(t *testing.T) {
	sentinel := float32(math.Inf(-1))
	for _, s := range WinoSchemes {
		w := schemeAlg(s)
		vecPaths(t, func(t *testing.T) {
			for _, c := range []int{8, 16, 24, 32, 48, 7} {
				for _, gap := range []int{0, 16} {
					for _, off := range []int{0, 1} {
						for _, ep := range []string{"none", "bias", "relu", "skip", "add"} {
							name := fmt.Sprintf("%s/c=%d/gap=%d/off=%d/%s", s.Name, c, gap, off, ep)
							r := rand.New(rand.NewPCG(uint64(c*7+gap), uint64(s.Tile+off)))
							m, cells := s.Out, s.Cells()
							ts, cs := c+5, c+gap
							rs := m * cs
							prod := vecRand(r, (cells-1)*ts+c)
							bias, skip := vecRand(r, c), vecRand(r, (m-1)*(rs+cs)+c)
							buf := [2][]float32{make([]float32, (m-1)*(rs+cs)+c+64), make([]float32, (m-1)*(rs+cs)+c+64)}
							var at [2]int
							for k := range buf {
								for i := range buf[k] {
									buf[k][i] = sentinel
								}
								at[k] = alignedAt(buf[k], 64, off)
							}
							for k, stream := range []bool{false, true} {
								src := append([]float32(nil), prod...)
								dst := buf[k][at[k]:]
								out, outBias := s.Output, s.OutputBias
								if stream {
									out, outBias = s.OutputStream, s.OutputBiasStream
								}
								switch ep {
								case "none":
									out(dst, rs, cs, src, ts, c)
								case "skip":
									outBias(dst, rs, cs, src, ts, c, bias, skip, true)
								case "add":
									outBias(dst, rs, cs, src, ts, c, nil, skip, false)
								default:
									outBias(dst, rs, cs, src, ts, c, bias, nil, ep == "relu")
								}
							}
							StreamFence()
							want := (vecFMA || vecWide) && off == 0 && c%16 == 0
							if got := w.streams(buf[1][at[1]:], rs, cs, c); got != want {
								t.Errorf("%s: streams = %v, want %v", name, got, want)
							}
							for i := range (m-1)*(rs+cs) + c {
								a, b := buf[0][at[0]+i], buf[1][at[1]+i]
								if math.Float32bits(a) != math.Float32bits(b) {
									t.Fatalf("%s: value %d (cell (%d, %d), channel %d): stored %v, streamed %v", name, i, i/rs, i%rs/cs, i%cs, a, b)
								}
							}
						}
					}
				}
			}
		})
	}
}

// schemeAlg returns the winoAlg behind a scheme.
func schemeAlg(s *WinoScheme) *winoAlg {
	switch s {
	case Wino2:
		return wino2
	case Wino4:
		return wino4
	}
	return wino43
}

// BenchmarkWinoOutputStream times one block of 196 F(4×4, 3×3) output
// transforms (16 channels, bias and ReLU: four 28×28 images of 49
// tiles) writing into a buffer of 1 MiB (the outputs stay in cache) or
// 64 MiB (each block's outputs go to lines in memory, as a batch-128
// activation's do), stored plainly and streaming, on each assembly path:
//
//	go test -run '^$' -bench WinoOutputStream -count 3 ./internal/kernels
func BenchmarkWinoOutputStream(b *testing.B) {
	paths := vecPathList()[1:]
	if len(paths) == 0 {
		b.Skip("no assembly on this CPU or build")
	}
	const c, nt, ow = 16, 196, 28
	s := Wino43
	r := rand.New(rand.NewPCG(7, 9))
	ts := nt*c + 16
	m := vecRand(r, s.Cells()*ts)
	bias := vecRand(r, c)
	image := ow * ow * c
	for _, mib := range []int{1, 64} {
		y := make([]float32, mib<<20/4)
		images := len(y) / image
		for _, p := range paths {
			for _, stream := range []bool{false, true} {
				b.Run(fmt.Sprintf("MiB=%d/path=%s/stream=%v", mib, p.name, stream), func(b *testing.B) {
					defer setVecPath(p)()
					out := s.OutputBias
					if stream {
						out = s.OutputBiasStream
					}
					img := 0
					for b.Loop() {
						for t := range nt {
							oy, ox := s.Out*(t%49/7), s.Out*(t%7)
							at := (img+t/49)*image + (oy*ow+ox)*c
							out(y[at:], ow*c, c, m[t*c:], ts, c, bias, nil, true)
						}
						StreamFence()
						if img += nt / 49; img+nt/49 > images {
							img = 0
						}
					}
				})
			}
		}
	}
}
