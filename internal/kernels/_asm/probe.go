package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// fmaPeak emits name(iters int): iters rounds of chains independent
// VFMADD231PS on registers only (no memory operand), chains·lanes·2 FLOP
// per round. With more chains than FMA latency × FMA ports, the loop is
// bound by FMA throughput alone: the machine's peak for that width.
func fmaPeak(name string, chains, lanes int, vec func() reg.VecVirtual) {
	TEXT(name, NOSPLIT, "func(iters int)")
	Doc(fmt.Sprintf("%s runs iters rounds of %d independent %d-lane FMAs on registers only (%d FLOP per round): the FMA peak probe.",
		name, chains, lanes, 2*chains*lanes))
	n := Load(Param("iters"), GP64())
	acc := make([]reg.VecVirtual, chains)
	x, y := vec(), vec()
	for i := range acc {
		acc[i] = vec()
	}
	zero(append(acc, x, y)...)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("round")
	for _, a := range acc {
		VFMADD231PS(x, y, a)
	}
	DECQ(n)
	JNZ(LabelRef("round"))
	Label("done")
	VZEROUPPER()
	RET()
}

// probes emits the register-only FMA peak loops for AVX2 (12 YMM chains)
// and AVX-512 (24 ZMM chains): both exceed latency 4 × 2 FMA ports.
func probes() {
	fmaPeak("fmaPeakAVX2", 12, 8, YMM)
	fmaPeak("fmaPeakAVX512", 24, 16, ZMM)
}

// cpuidFunc emits cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32):
// the CPUID instruction, for the vendor and family that decide dispatch.
func cpuidFunc() {
	TEXT("cpuid", NOSPLIT, "func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)")
	Doc("cpuid executes CPUID with EAX = leaf and ECX = sub.")
	Load(Param("leaf"), reg.EAX)
	Load(Param("sub"), reg.ECX)
	CPUID()
	Store(reg.EAX, Return("eax"))
	Store(reg.EBX, Return("ebx"))
	Store(reg.ECX, Return("ecx"))
	Store(reg.EDX, Return("edx"))
	RET()
}
