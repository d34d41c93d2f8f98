//go:build purego || !amd64

package kernels

// packRows: no assembly in this build; packB copies in Go.
func packRows(dst, src []float32, kc, ldb, panels, stride, nr int) bool { return false }

// packColsT: no assembly in this build; packBTPanel copies in Go.
func packColsT(dst, src []float32, blocks, ldb, nr int) bool { return false }

// archEngines: no assembly engines in this build.
func archEngines() []*engine { return nil }

// archNames: no assembly engines are built into this binary.
var archNames []string

// full512: no AVX-512 kernels in this build.
var full512 = decision512{false, "no assembly in this build"}

// l1Ways: not read in this build (see readAInPlace).
var l1Ways = 0

// hasAVX512F: no AVX-512 assembly in this build.
var hasAVX512F = false

// avx512Tiles: no assembly engines in this build.
func avx512Tiles() (narrow, small *engine) { return nil, nil }
