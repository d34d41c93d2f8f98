//go:build purego || !amd64

package kernels

// archEngines: no assembly engines in this build.
func archEngines() []*engine { return nil }

// archNames: no assembly engines are built into this binary.
var archNames []string
