// Package env reads the environment variables of convnet's compute
// packages (kernels, nn) and lists every variable convnet reads; the
// data loaders read their own two (data/mnist):
//
//	CONVNET_KERNELS   sgemm implementation and vector paths: avx512, avx2,
//	                  purego or ref (read here, used by internal/kernels'
//	                  dispatch; an unknown or unavailable name warns and
//	                  falls back to the default).
//	CONVNET_WINOGRAD  "off" turns the Winograd convolutions off (read here,
//	                  used by package nn's conv plan); any other value or
//	                  none leaves them on.
//	CONVNET_DEBUG     comma-separated debug switches (read here): "plan"
//	                  prints each convolution's geometry and chosen plan to
//	                  standard error, once per geometry and pass.
//	CONVNET_DATA      directory of the MNIST files (read by data/mnist).
//	CONVNET_MNIST_MIRROR
//	                  base URL tried when the MNIST module fetch fails
//	                  (read by data/mnist, as MirrorEnv).
//
// The Go runtime's own GOMAXPROCS (the worker count) and GODEBUG (e.g.
// cpu.avx512f=off, which hides AVX-512 from the dispatch) apply as usual.
// The three read here are read once, when the program starts; data/mnist
// reads its two when it needs them (DefaultDir, a fetch).
package env

import (
	"os"
	"strings"
)

// Variable names.
const (
	Kernels  = "CONVNET_KERNELS"
	Winograd = "CONVNET_WINOGRAD"
	Debug    = "CONVNET_DEBUG"
)

var (
	kernels  = os.Getenv(Kernels)
	winoOff  = os.Getenv(Winograd) == "off"
	debugSet = debugSwitches(os.Getenv(Debug))
)

// KernelsChoice is CONVNET_KERNELS as set at start ("" when unset).
func KernelsChoice() string { return kernels }

// WinogradOff reports whether CONVNET_WINOGRAD=off was set at start.
func WinogradOff() bool { return winoOff }

// DebugOn reports whether the comma-separated CONVNET_DEBUG set at start
// names the switch name (e.g. "plan").
func DebugOn(name string) bool { return debugSet[name] }

// debugSwitches splits a CONVNET_DEBUG value into its switches.
func debugSwitches(v string) map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			m[s] = true
		}
	}
	return m
}
