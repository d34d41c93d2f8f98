package kernels

import (
	"fmt"
	"os"
	"strings"
)

// Sgemm implementations, fastest first where the CPU allows:
//
//	avx512  14×32 AVX-512F assembly kernel (amd64 CPUs with AVX-512F)
//	avx2    6×16 AVX2+FMA assembly kernel (amd64 CPUs with AVX2 and FMA)
//	purego  4×4 Go kernel with the same packing and blocking (everywhere)
//	ref     SgemmRef, plain loops accumulating in float64 (everywhere)
//
// At start-up the fastest one the CPU supports is chosen, unless the
// environment variable CONVNET_KERNELS names one. A name that is unknown
// or that this CPU or build cannot run does not stop the program: a
// one-line warning goes to stderr and the fastest supported
// implementation is used instead.

const envKernels = "CONVNET_KERNELS"

var impl string

func init() {
	name, warning := chooseImpl(os.Getenv(envKernels))
	if warning != "" {
		fmt.Fprintln(os.Stderr, warning)
	}
	if err := SetImpl(name); err != nil {
		panic(err) // chooseImpl only returns available names
	}
}

// chooseImpl picks the implementation for the CONVNET_KERNELS value want
// ("" = fastest available), with a warning when want cannot be used.
func chooseImpl(want string) (name, warning string) {
	best := Available()[0]
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
// fastest first; the last two are always "purego" and "ref".
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
