//go:build !purego

package kernels

// cacheSizes reads the per-core L1 data and L2 cache sizes in bytes, and
// the L1d's ways, from CPUID: the deterministic cache parameters (leaf 4
// on Intel, 8000001Dh on AMD), else AMD's legacy leaves 80000005h and
// 80000006h (virtual machines may hide the former and keep the latter).
// A figure it cannot read is 0.
func cacheSizes() (l1d, l1Ways, l2 int) {
	vendor, _ := cpuVendorFamily()
	leaf := uint32(4)
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	if vendor == "AuthenticAMD" {
		leaf = 0x8000001d
		if maxExt < leaf {
			leaf = 0
		}
	}
	if leaf != 0 && (leaf != 4 || maxLeaf() >= 4) {
		for sub := uint32(0); sub < 16; sub++ {
			a, b, c, _ := cpuid(leaf, sub)
			typ, level := a&31, a>>5&7
			if typ == 0 {
				break
			}
			// ways × partitions × line size × sets
			size := int(b>>22+1) * int(b>>12&0x3ff+1) * int(b&0xfff+1) * int(c+1)
			switch {
			case level == 1 && typ == 1:
				l1d, l1Ways = size, int(b>>22+1)
			case level == 2 && typ != 2:
				l2 = size
			}
		}
	}
	if vendor == "AuthenticAMD" && maxExt >= 0x80000006 {
		if l1d == 0 {
			_, _, c, _ := cpuid(0x80000005, 0)
			l1d = int(c>>24) << 10
			if w := int(c >> 16 & 0xff); w != 0xff { // 0xff: fully associative
				l1Ways = w
			}
		}
		if l2 == 0 {
			_, _, c, _ := cpuid(0x80000006, 0)
			l2 = int(c>>16) << 10
		}
	}
	return l1d, l1Ways, l2
}

func maxLeaf() uint32 {
	a, _, _, _ := cpuid(0, 0)
	return a
}
