package kernels

import "fmt"

// decision512 is full512's value: ok when 512-bit FMAs run at full rate
// (twice AVX2's FLOP per cycle), why in words (reported by CPUModel).
// AVX-512 kernels run at either rate (see the dispatch notes in
// dispatch.go); the rate decides the rules that differ between the two.
type decision512 struct {
	ok  bool
	why string
}

// decide512 decides whether 512-bit FMAs run at full rate. The CPU model
// decides where it is known: AMD family 19h (Zen 4) issues 512-bit
// operations as two 256-bit halves; AMD family 1Ah and later (Zen 5)
// have full-width 512-bit units. Anywhere else with AVX-512F (Intel
// cores have one or two 512-bit FMA units by SKU, which CPUID does not
// tell), calibrate is run once and the rate is full when AVX-512's
// measured FLOP rate is at least 1.5 times AVX2's.
func decide512(hasAVX512F bool, vendorFamily func() (string, uint32), calibrate func() float64) decision512 {
	if !hasAVX512F {
		return decision512{false, "no AVX-512F"}
	}
	vendor, family := vendorFamily()
	model := fmt.Sprintf("%s family %02Xh", vendor, family)
	switch {
	case vendor == "AuthenticAMD" && family == 0x19:
		return decision512{false, model + ": half-rate AVX-512 (by model)"}
	case vendor == "AuthenticAMD" && family >= 0x1a:
		return decision512{true, model + ": full-rate AVX-512 (by model)"}
	}
	r := calibrate()
	if r >= 1.5 {
		return decision512{true, fmt.Sprintf("%s: full-rate AVX-512 (measured %.2f× AVX2's FMA rate)", model, r)}
	}
	return decision512{false, fmt.Sprintf("%s: half-rate AVX-512 (measured %.2f× AVX2's FMA rate)", model, r)}
}
