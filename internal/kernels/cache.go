package kernels

// Cache blocking of the AVX-512 engine, from the L2 size read at start
// (cacheSizes). Measured on Zen 5 (48 KiB L1d, 1 MiB L2): the 14×32
// kernel streams its B micro-panel and A micro-panel from L2 at full
// speed, and each K-panel costs a pass over C (loads and stores of
// tiles that no cache level keeps across panels, and that conflict in
// L1 when C's row stride is a multiple of 4 KiB), so long K-panels pay:
// sgemm 1024³ on one core ran ~5–8% faster with KC = 512 or 1024 than
// with 256. So:
//
//	KC = L2/16 / (4·NR)  (the B micro-panel, 64 KiB of a 1 MiB L2), a
//	     multiple of 16 in [128, 1024]
//	MC = L2/2 / (4·KC)   (the packed A block, half of L2), a multiple of MR
//
// giving KC = 512, MC = 252 on a 1 MiB L2. An L2 that cannot be read
// counts as 1 MiB.
func blocking(l2, mr, nr int) (kc, mc int) {
	if l2 <= 0 {
		l2 = 1 << 20
	}
	kc = min(max(l2/16/(4*nr)/16*16, 128), 1024)
	mc = max(l2/2/(4*kc)/mr*mr, mr)
	return kc, mc
}
