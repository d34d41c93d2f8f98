package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// testEngines returns the engine called name, plus the same engine with
// tiny cache blocks so that small shapes cross every block boundary
// (several K-panels, MC blocks and NC blocks), or skips the test.
func testEngines(t *testing.T, name string) []*engine {
	t.Helper()
	var e *engine
	switch name {
	case "purego":
		e = &pureGoEngine
	default:
		for _, a := range archEngines() {
			if a.name == name {
				e = a
			}
		}
	}
	if e == nil {
		why := "not built into this binary"
		if slices.Contains(archNames, name) {
			why = "not supported by this CPU"
		}
		t.Skipf("%s kernel NOT EXECUTED: %s (available: %v)", name, why, Available())
	}
	tiny := *e
	tiny.name += "-tinyblocks"
	tiny.kc, tiny.mc, tiny.nc, tiny.kChunk = 7, 2*e.mr, 3*e.nr, 50
	es := []*engine{e, &tiny}
	inPlace := false
	for am, row := range e.kernels {
		for bm, k := range row {
			inPlace = inPlace || (k != nil && (am != aPacked || bm != bPacked))
		}
	}
	if e.kernels[aPacked][bRows] != nil {
		// The engine with the other choice of reading B in place for
		// products of many rows (bRowsFromKC, set by the FMA rate): off,
		// or from K-panels of 5 (tiny's are 7).
		flip := *e
		flip.bRowsFromKC = 5
		if e.bRowsFromKC > 0 {
			flip.bRowsFromKC = 0
		}
		flip.name += fmt.Sprintf("-bRowsFromKC=%d", flip.bRowsFromKC)
		es = append(es, &flip)
	}
	if inPlace {
		// The same engines with both operands always packed (the in-place
		// kernels serve narrow shapes in the two above).
		for _, x := range es[:2] {
			packed := *x
			packed.name += "-packed"
			packed.kernels = [3][2]microKernel{aPacked: {bPacked: x.kernels[aPacked][bPacked]}}
			es = append(es, &packed)
		}
	}
	return es
}

// operand is a row-major matrix with a row stride larger than its width;
// the gap holds NaN so that any read outside the matrix shows up.
func operand(r *rand.Rand, rows, cols, pad int) ([]float32, int) {
	ld := cols + pad
	if rows == 0 {
		return nil, ld
	}
	s := make([]float32, (rows-1)*ld+cols)
	for i := range s {
		if i%ld < cols {
			s[i] = float32(r.Float64()*2 - 1)
		} else {
			s[i] = float32(math.NaN())
		}
	}
	return s, ld
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

func (g gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/m=%d,n=%d,k=%d/alpha=%g,beta=%g/pad=%d", t(g.transA), t(g.transB), g.m, g.n, g.k, g.alpha, g.beta, g.pad)
}

// check runs fn on the case and compares with SgemmRef. The tolerance is
// the forward error bound of a float32 dot product of length k
// ((k+2)·2⁻²³ relative to Σ|alpha·a·b| + |beta·c|); C's stride gap must
// stay untouched and beta = 0 must ignore NaN in C.
func (g gemmCase) check(t *testing.T, seed uint64, fn func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = ac, ar
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = bc, br
	}
	a, lda := operand(r, ar, ac, g.pad)
	b, ldb := operand(r, br, bc, g.pad+1)
	c0, ldc := operand(r, g.m, g.n, g.pad+2)
	if g.beta == 0 {
		for i := range c0 {
			if i%ldc < g.n && i%3 == 0 {
				c0[i] = float32(math.NaN())
			}
		}
	}
	want := slices.Clone(c0)
	SgemmRef(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, want, ldc)
	got := slices.Clone(c0)
	fn(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, got, ldc)

	bad := 0
	for i := 0; i < g.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(got); j++ {
			at := i*ldc + j
			if j >= g.n {
				if math.Float32bits(got[at]) != math.Float32bits(c0[at]) {
					t.Fatalf("C[%d] in the stride gap after row %d changed: %v → %v", at, i, c0[at], got[at])
				}
				continue
			}
			var mag float64
			for p := 0; p < g.k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if g.transA {
					ai = p*lda + i
				}
				if g.transB {
					bi = j*ldb + p
				}
				mag += math.Abs(float64(a[ai]) * float64(b[bi]))
			}
			mag *= math.Abs(float64(g.alpha))
			if g.beta != 0 {
				mag += math.Abs(float64(g.beta) * float64(c0[at]))
			}
			tol := float64(g.k+2)*0x1p-23*mag + 1e-30
			if d := math.Abs(float64(got[at]) - float64(want[at])); !(d <= tol) {
				if bad++; bad <= 5 {
					t.Errorf("C[%d,%d] = %v, want %v (|diff| %.3g > tol %.3g)", i, j, got[at], want[at], d, tol)
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d elements differ in all", bad)
	}
}

var oddSizes = []int{1, 2, 3, 5, 7, 13, 17, 31, 33}

// scalars cycles through alpha/beta pairs, including beta = 0 over NaN,
// beta = −0, alpha = 0 and beta = 1.
var scalars = [][2]float32{{1, 0}, {0.5, 0.25}, {1, 1}, {-1.5, 0}, {2, float32(math.Copysign(0, -1))}, {0, 2}, {0.75, -1}}

func gemmCases() []gemmCase {
	var cs []gemmCase
	i := 0
	for _, m := range oddSizes {
		for _, n := range oddSizes {
			for _, k := range oddSizes {
				s := scalars[i%len(scalars)]
				cs = append(cs, gemmCase{transA: i%2 == 1, transB: i/2%2 == 1, m: m, n: n, k: k, alpha: s[0], beta: s[1], pad: i % 3})
				i++
			}
		}
	}
	for _, sh := range [][3]int{
		{64, 65, 127}, {127, 257, 33}, {257, 31, 300}, {65, 64, 513}, {400, 40, 64},
		{5, 700, 400},                // few rows, many columns: workers split B panels
		{33, 300, 70}, {48, 129, 20}, // B in place with A packed (n > 8 panels)
		{128, 300, 1100}, // A in place as one row block over K-panels (readAInPlace)
		{2, 3, 1000}, {1, 1, 0}, {0, 5, 5}, {3, 0, 4},
		{25, 32, 4100}, {7, 17, 6000}, // K split into chunks (small C, long K)
	} {
		for tr := 0; tr < 4; tr++ {
			s := scalars[i%len(scalars)]
			cs = append(cs, gemmCase{transA: tr%2 == 1, transB: tr/2 == 1, m: sh[0], n: sh[1], k: sh[2], alpha: s[0], beta: s[1], pad: 3})
			i++
		}
	}
	return cs
}

func TestSgemmImplementations(t *testing.T) {
	cases := gemmCases()
	for _, name := range []string{"avx512", "avx2", "purego"} {
		t.Run("impl="+name, func(t *testing.T) {
			for _, e := range testEngines(t, name) {
				t.Run(e.name, func(t *testing.T) {
					for ci, c := range cases {
						t.Run(c.String(), func(t *testing.T) { c.check(t, uint64(ci), e.sgemm) })
						t.Run(c.String()+"/serial", func(t *testing.T) { c.check(t, uint64(ci), e.sgemmSerial) })
					}
				})
			}
		})
	}
}

// TestSgemmDispatch: the exported Sgemm goes through the selected engine.
func TestSgemmDispatch(t *testing.T) {
	defer restoreImpl(t)()
	for _, name := range Available() {
		t.Run("impl="+name, func(t *testing.T) {
			if err := SetImpl(name); err != nil {
				t.Fatal(err)
			}
			if Impl() != name {
				t.Fatalf("Impl() = %q after SetImpl(%q)", Impl(), name)
			}
			gemmCase{transA: true, m: 70, n: 45, k: 300, alpha: 1.25, beta: 0.5, pad: 2}.check(t, 99, Sgemm)
			gemmCase{transA: true, m: 70, n: 45, k: 300, alpha: 1.25, beta: 0.5, pad: 2}.check(t, 99, SgemmSerial)
		})
	}
}

func restoreImpl(t *testing.T) func() {
	prev := Impl()
	if narrow != nil {
		prev = "" // the default, with the narrow-N rule
	}
	return func() {
		if err := SetImpl(prev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSgemmRepeatable: same inputs, bit-identical outputs, run after run
// and whatever GOMAXPROCS (the per-element operation sequence does not
// depend on the partition).
func TestSgemmRepeatable(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range []struct {
		name    string
		transA  bool
		m, n, k int
	}{
		{"blocked", false, 301, 203, 600},
		{"one-row-block", false, 128, 600, 1100}, // A in place over K-panels, columns split
		{"k-split", true, 25, 32, 9000},          // Aᵀ·B, K in chunks summed in a fixed order
	} {
		m, n, k := sh.m, sh.n, sh.k
		lda := k
		if sh.transA {
			lda = m
		}
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32(r.Float64()*2 - 1)
		}
		b, _ := operand(r, k, n, 0)
		for _, name := range Available()[:len(Available())-1] { // all but ref
			t.Run(sh.name+"/impl="+name, func(t *testing.T) {
				var e *engine
				for _, x := range append(archEngines(), &pureGoEngine) {
					if x.name == name {
						e = x
					}
				}
				var first []float32
				for run, procs := range []int{2, 2, 2, 1, 3} {
					runtime.GOMAXPROCS(procs)
					c := make([]float32, m*n)
					e.sgemm(sh.transA, false, m, n, k, 1, a, lda, b, n, 0, c, n)
					if first == nil {
						first = c
						// The serial entry gives the same bits.
						cs := make([]float32, m*n)
						e.sgemmSerial(sh.transA, false, m, n, k, 1, a, lda, b, n, 0, cs, n)
						for i := range cs {
							if math.Float32bits(cs[i]) != math.Float32bits(c[i]) {
								t.Fatalf("sgemmSerial: C[%d] = %v, sgemm gave %v", i, cs[i], c[i])
							}
						}
						continue
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
							t.Fatalf("run %d (GOMAXPROCS=%d): C[%d] = %v, first run gave %v", run, procs, i, c[i], first[i])
						}
					}
				}
			})
		}
	}
}

func TestSetImpl(t *testing.T) {
	defer restoreImpl(t)()
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{"ref", ""},
		{"purego", ""},
		{"sse", `unknown implementation "sse"`},
		{"", ""}, // the default
	} {
		t.Run("name="+tc.name, func(t *testing.T) {
			err := SetImpl(tc.name)
			want := tc.name
			if want == "" {
				want = preferred()
			}
			if tc.wantErr == "" {
				if err != nil || Impl() != want {
					t.Fatalf("SetImpl(%q) = %v, Impl() = %q", tc.name, err, Impl())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("SetImpl(%q) = %v, want error containing %q", tc.name, err, tc.wantErr)
			}
		})
	}
	for _, name := range []string{"avx512", "avx2"} {
		t.Run("name="+name, func(t *testing.T) {
			err := SetImpl(name)
			if slices.Contains(Available(), name) != (err == nil) {
				t.Fatalf("SetImpl(%q) = %v with Available() = %v", name, err, Available())
			}
		})
	}
}

func TestChooseImpl(t *testing.T) {
	best := preferred()
	// Other tests restore the implementation they change, so Impl() is
	// still the one chosen at start-up.
	t.Logf("start-up implementation %q, available %v", Impl(), Available())
	if os.Getenv(envKernels) == "" && Impl() != best {
		t.Fatalf("started with %q, want the fastest available %q", Impl(), best)
	}
	for _, tc := range []struct {
		env, want string
		warn      bool
	}{
		{"", best, false},
		{"ref", "ref", false},
		{"purego", "purego", false},
		{"bogus", best, true},
	} {
		t.Run("env="+tc.env, func(t *testing.T) {
			name, warning := chooseImpl(tc.env)
			if name != tc.want || (warning != "") != tc.warn {
				t.Fatalf("chooseImpl(%q) = %q, %q; want %q, warning %v", tc.env, name, warning, tc.want, tc.warn)
			}
			if tc.warn && !strings.Contains(warning, "CONVNET_KERNELS="+tc.env) {
				t.Fatalf("warning %q does not quote the setting", warning)
			}
		})
	}
}

// TestEnvAndGODEBUG re-runs this test binary with CONVNET_KERNELS and
// GODEBUG settings and checks which implementation the child starts with.
func TestEnvAndGODEBUG(t *testing.T) {
	if os.Getenv("KERNELS_TEST_CHILD") == "1" {
		fmt.Printf("impl=%s best=%s\n", Impl(), preferred())
		for _, p := range Paths() {
			fmt.Printf("path %s=%s\n", p.Family, p.Impl)
		}
		return
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	// want "best" is the child's own fastest implementation (the child
	// may run on another CPU model than this process, e.g. under qemu).
	for _, tc := range []struct {
		name, env, godebug, want string
	}{
		{"default", "", "", "best"},
		{"pin-purego", "purego", "", "purego"},
		{"pin-ref", "ref", "", "ref"},
		{"pin-unknown", "nope", "", "best"},
		{"no-avx2-fma", "", "cpu.avx2=off,cpu.fma=off,cpu.avx512f=off", "purego"},
		{"pin-avx2-without-it", "avx2", "cpu.avx2=off,cpu.fma=off,cpu.avx512f=off", "purego"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOARCH != "amd64" && tc.godebug != "" {
				t.Skip("GODEBUG cpu options are amd64 ones")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestEnvAndGODEBUG$", "-test.count=1")
			cmd.Env = append(os.Environ(), "KERNELS_TEST_CHILD=1", "CONVNET_KERNELS="+tc.env, "GODEBUG="+tc.godebug)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var impl, best string
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "impl=") {
					fmt.Sscanf(line, "impl=%s best=%s", &impl, &best)
				}
			}
			want := tc.want
			if want == "best" {
				want = best
			}
			if impl == "" || impl != want {
				t.Fatalf("child output %q, want impl=%s", out, want)
			}
			// purego and ref run no assembly in any family.
			if pinGo := tc.want == "purego" || tc.want == "ref"; pinGo || impl == "purego" {
				for _, f := range []string{"conv-c1", "winograd", "vector"} {
					if !strings.Contains(string(out), "path "+f+"=go\n") {
						t.Fatalf("child output %q: want %s on its Go loops", out, f)
					}
				}
			}
			if (tc.name == "pin-unknown" || tc.name == "pin-avx2-without-it") && !strings.Contains(string(out), "CONVNET_KERNELS=") {
				t.Fatalf("child output %q has no warning about CONVNET_KERNELS", out)
			}
		})
	}
}

func TestSgemmBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"short-a", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}, "len(a)=3, want at least 4"},
		{"small-ldc", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 4), 1)
		}, "ldc=1 is less than the 2 columns"},
		{"negative", func() { Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }, "negative dimension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer restoreImpl(t)()
			for _, name := range Available()[:len(Available())-1] {
				if err := SetImpl(name); err != nil {
					t.Fatal(err)
				}
				func() {
					defer func() {
						r := recover()
						if s, _ := r.(string); !strings.Contains(s, tc.want) {
							t.Fatalf("impl=%s: panic %v, want one containing %q", name, r, tc.want)
						}
					}()
					tc.call()
				}()
			}
		})
	}
}

// goKernel is a plain-loop microKernel for any mr×nr tile: it lets the
// packing and blocking of tile shapes whose assembly cannot run on this
// CPU (the AVX-512 engine's 14×32) be tested here.
func goKernel(mr, nr int) microKernel {
	return func(k int, a []float32, _ int, b []float32, _ int, c []float32, ldc int, alpha, beta float32) {
		for i := 0; i < mr; i++ {
			for j := 0; j < nr; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[p*mr+i] * b[p*nr+j]
				}
				if beta == 0 {
					c[i*ldc+j] = alpha * s
				} else {
					c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
				}
			}
		}
	}
}

// TestSgemmDriverTiles runs the blocked driver with plain-loop kernels on
// the tile shapes and blocks of every engine, including avx512 (14×32,
// KC 256, MC 336), whose kernel itself needs an AVX-512 CPU.
func TestSgemmDriverTiles(t *testing.T) {
	cases := gemmCases()
	for _, sh := range []struct {
		name               string
		mr, nr, kc, mc, nc int
	}{
		{"avx512-blocks", 14, 32, 256, 14 * 24, 4096},
		{"avx512-tinyblocks", 14, 32, 9, 28, 64},
		{"avx2-blocks", 6, 16, 256, 168, 4096},
		{"odd-3x5", 3, 5, 11, 9, 20},
	} {
		e := &engine{name: sh.name, mr: sh.mr, nr: sh.nr, kc: sh.kc, mc: sh.mc, nc: sh.nc}
		e.kernels[aPacked][bPacked] = goKernel(sh.mr, sh.nr)
		t.Run(sh.name, func(t *testing.T) {
			for ci, c := range cases {
				if c.m*c.n*c.k > 1<<21 {
					continue // plain-loop kernel: keep the test fast
				}
				t.Run(c.String(), func(t *testing.T) { c.check(t, uint64(ci), e.sgemm) })
			}
		})
	}
}

// TestPackB checks packB against its definition for both panel widths,
// transposed and not, on step counts around the 8-step blocks of the
// assembly transposes and the 64-row calls of packRows, and a partial
// last panel.
func TestPackB(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, nr := range []int{16, 32} {
		for _, transB := range []bool{false, true} {
			for _, kc := range []int{1, 7, 8, 9, 23, 64, 65, 130} {
				for _, nc := range []int{nr, 2*nr + 5} {
					t.Run(fmt.Sprintf("nr=%d/transB=%v/kc=%d/nc=%d", nr, transB, kc, nc), func(t *testing.T) {
						const pc, jc = 3, 2
						rows, cols := pc+kc, jc+nc
						if transB {
							rows, cols = cols, rows
						}
						b, ldb := operand(r, rows, cols, 3)
						panels := ceilDiv(nc, nr)
						bp := make([]float32, panels*nr*kc)
						for i := range bp {
							bp[i] = float32(math.NaN())
						}
						packB(transB, b, ldb, pc, kc, jc, nc, 0, panels, nr, bp)
						for q := 0; q < panels; q++ {
							for p := 0; p < kc; p++ {
								for j := 0; j < nr; j++ {
									var want float32
									if col := q*nr + j; col < nc {
										if transB {
											want = b[(jc+col)*ldb+pc+p]
										} else {
											want = b[(pc+p)*ldb+jc+col]
										}
									}
									if got := bp[q*nr*kc+p*nr+j]; got != want {
										t.Fatalf("panel %d, p=%d, j=%d: %v, want %v", q, p, j, got, want)
									}
								}
							}
						}
					})
				}
			}
		}
	}
}

// TestSgemmSerialAllocs: a product small enough to stay on the caller's
// goroutine allocates nothing once the packing buffers are warm (a
// convolution step runs thousands of them).
func TestSgemmSerialAllocs(t *testing.T) {
	for _, name := range Available() {
		if name == "ref" {
			continue // SgemmRef, no engine
		}
		t.Run(name, func(t *testing.T) {
			for _, e := range testEngines(t, name)[:1] {
				const m, n, k = 30, 20, 40
				a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
				for _, workers := range []int{1, 2} {
					if got := testing.AllocsPerRun(20, func() {
						e.gemm(workers, false, false, m, n, k, 1, a, k, b, n, 0, c, n)
					}); got != 0 {
						t.Errorf("%d workers: %v allocations per %d×%d×%d product, want 0", workers, got, m, n, k)
					}
				}
			}
		})
	}
}
