//go:build !unix

package kernels

import "time"

// cpuTime is unavailable here; benchmarks skip the per-CPU-second metric.
func cpuTime() time.Duration { return 0 }
