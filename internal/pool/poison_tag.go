//go:build poison

package pool

// Built with -tags poison, every test runs in the poisoning mode.
func init() { poison.Store(true) }
