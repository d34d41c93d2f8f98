// Package cputime reads the CPU time the process has used, for
// benchmarks that report work done (CPU seconds) beside wall time: on a
// shared machine the two differ by the time spent waiting for a core.
package cputime
