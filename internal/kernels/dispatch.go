package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/convnet-go/convnet/internal/env"
)

// Dispatch: every op family runs one path, decided here at start-up by
// the CPU's features and model (see Paths):
//
//	family    paths, fastest first where the CPU allows
//	sgemm     avx512, avx2, purego, ref (see below)
//	conv-c1   avx512, avx2, go   (ConvC1, ConvC1Grad)
//	winograd  avx2, go   (the Winograd transforms)
//	vector    avx512, avx2, go   (SumProducts, AdamUpdate, Repeat, MulAdd, Gemv, the bias/ReLU and pooling loops)
//
// Sgemm implementations:
//
//	avx512  14×32 AVX-512F assembly kernels (amd64 CPUs with AVX-512F)
//	avx2    6×16 AVX2+FMA assembly kernels (amd64 CPUs with AVX2 and FMA)
//	purego  4×4 Go kernel with the same packing and blocking (everywhere)
//	ref     SgemmRef, plain loops accumulating in float64 (everywhere)
//
// AVX-512 is chosen only where 512-bit FMAs run at full rate (twice
// AVX2's FLOP per cycle, full512): on Zen 4 they issue as two 256-bit
// halves, and the AVX2 path measured faster there on every convolution
// of the lecture's model. The same holds for the other families with an
// AVX-512 path (conv-c1, vector). The Winograd transforms have none:
// 16-lane versions measured no faster than the 8-lane ones on Zen 5. The
// vector family's AVX-512 loops (16 lanes, the tail of each run under a
// k-mask instead of a Go loop) also need BMI2; Repeat has none and keeps
// its AVX2 loop on that path.
//
// The environment variable CONVNET_KERNELS overrides the choice: avx512
// or avx2 pins sgemm and every family with that path (the others keep
// their AVX2 loops); purego or ref pins sgemm and turns every other
// family to its Go loops, so that no assembly runs. A name that is unknown or that this CPU or
// build cannot run does not stop the program: a one-line warning goes to
// stderr and the default is used instead.

const envKernels = env.Kernels

var impl string

func init() {
	name, warning := chooseImpl(env.KernelsChoice())
	if warning != "" {
		fmt.Fprintln(os.Stderr, warning)
	}
	if err := SetImpl(name); err != nil {
		panic(err) // chooseImpl only returns available names
	}
	if name == "purego" || name == "ref" {
		vecFMA = false
	}
	c1Wide = vecFMA && hasAVX512F && (name == "avx512" || (name != "avx2" && full512.ok))
	vecWide = c1Wide && hasBMI2
}

// c1Wide selects the AVX-512 loops of the conv-c1 family (over the AVX2
// ones, which vecFMA selects).
var c1Wide bool

// preferred is the default Sgemm implementation: the first of Available,
// skipping avx512 where 512-bit FMAs do not run at full rate.
func preferred() string {
	avail := Available()
	if avail[0] == "avx512" && !full512.ok {
		return avail[1]
	}
	return avail[0]
}

// Path is the implementation one op family runs.
type Path struct {
	Family string // "sgemm", "conv-c1", "winograd" or "vector"
	Impl   string // "avx512", "avx2", "purego", "ref" or "go"
}

// Paths reports the path each op family runs, in the order of the table
// above (sgemm's is Impl).
func Paths() []Path {
	vec := "go"
	if vecFMA {
		vec = "avx2"
	}
	c1, wide := vec, vec
	if c1Wide {
		c1 = "avx512"
	}
	if vecWide {
		wide = "avx512"
	}
	return []Path{{"sgemm", impl}, {"conv-c1", c1}, {"winograd", vec}, {"vector", wide}}
}

// CPUModel describes what decided the dispatch: the CPU's vendor and
// family, and whether (and how) 512-bit FMAs were found to run at full
// rate, e.g. "AuthenticAMD family 1Ah: full-rate AVX-512 (by model)".
func CPUModel() string { return full512.why }

// chooseImpl picks the implementation for the CONVNET_KERNELS value want
// ("" = fastest available), with a warning when want cannot be used.
func chooseImpl(want string) (name, warning string) {
	best := preferred()
	if want == "" || want == best {
		return best, ""
	}
	if err := checkImpl(want); err != nil {
		return best, fmt.Sprintf("convnet: %s=%s: %v; using %s", envKernels, want, err, best)
	}
	return want, ""
}

// Impl reports the name of the Sgemm implementation in use: "avx512",
// "avx2", "purego" or "ref".
func Impl() string { return impl }

// Available lists the Sgemm implementations this CPU and build can run,
// widest first (the default is the first, or the second where AVX-512
// runs at half rate); the last two are always "purego" and "ref".
func Available() []string {
	var names []string
	for _, e := range archEngines() {
		names = append(names, e.name)
	}
	return append(names, "purego", "ref")
}

// SetImpl switches Sgemm to the named implementation (see Available). It
// is meant for tests and benchmarks: it must not run concurrently with
// Sgemm calls. It returns an error, leaving the current implementation in
// place, when the name is unknown or the CPU or build cannot run it.
func SetImpl(name string) error {
	if err := checkImpl(name); err != nil {
		return err
	}
	switch name {
	case "ref":
		sgemm, sgemmSerial = SgemmRef, SgemmRef
		curEngine = nil
	case "purego":
		sgemm, sgemmSerial = pureGoEngine.sgemm, pureGoEngine.sgemmSerial
		curEngine = &pureGoEngine
	default:
		for _, e := range archEngines() {
			if e.name == name {
				sgemm, sgemmSerial = e.sgemm, e.sgemmSerial
				curEngine = e
			}
		}
	}
	impl = name
	return nil
}

// checkImpl reports why name cannot be used here, or nil.
func checkImpl(name string) error {
	avail := Available()
	for _, n := range avail {
		if n == name {
			return nil
		}
	}
	list := strings.Join(avail, ", ")
	switch name {
	case "avx512", "avx2":
		for _, n := range archNames {
			if n == name {
				return fmt.Errorf("kernels: implementation %q is not supported by this CPU (available: %s)", name, list)
			}
		}
		return fmt.Errorf("kernels: implementation %q is not built into this binary (purego tag or not amd64; available: %s)", name, list)
	}
	return fmt.Errorf("kernels: unknown implementation %q, want avx512, avx2, purego or ref (available here: %s)", name, list)
}
