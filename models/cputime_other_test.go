//go:build !unix

package models

import "time"

// cpuTime is unknown here: the cpu-ms/op metric reads 0.
func cpuTime() time.Duration { return 0 }
