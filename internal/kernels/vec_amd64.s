//go:build !purego

#include "textflag.h"

// func sumProductsAVX2(out *float32, n int, a, b *float32, aOff, bOff *int, taps int)
//
// out[i] = Σ_t a[aOff[t]+i]·b[bOff[t]+i] for i < n (n a multiple of 8):
// 32 outputs (four YMM accumulators) at a time across all taps, then
// 8 at a time. Registers: DI out, CX n, SI a, DX b, R8 aOff, R9 bOff,
// R10 taps, AX i, BX t, R11 next i, R12/R13 element offsets.
TEXT ·sumProductsAVX2(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ aOff+32(FP), R8
	MOVQ bOff+40(FP), R9
	MOVQ taps+48(FP), R10
	XORQ AX, AX

loop32:
	LEAQ 32(AX), R11
	CMPQ R11, CX
	JGT  loop8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ BX, BX

tap32:
	MOVQ        (R8)(BX*8), R12
	ADDQ        AX, R12
	MOVQ        (R9)(BX*8), R13
	ADDQ        AX, R13
	VMOVUPS     (SI)(R12*4), Y4
	VMOVUPS     32(SI)(R12*4), Y5
	VMOVUPS     64(SI)(R12*4), Y6
	VMOVUPS     96(SI)(R12*4), Y7
	VFMADD231PS (DX)(R13*4), Y4, Y0
	VFMADD231PS 32(DX)(R13*4), Y5, Y1
	VFMADD231PS 64(DX)(R13*4), Y6, Y2
	VFMADD231PS 96(DX)(R13*4), Y7, Y3
	INCQ        BX
	CMPQ        BX, R10
	JLT         tap32

	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	MOVQ    R11, AX
	JMP     loop32

loop8:
	LEAQ 8(AX), R11
	CMPQ R11, CX
	JGT  done
	VXORPS Y0, Y0, Y0
	XORQ BX, BX

tap8:
	MOVQ        (R8)(BX*8), R12
	ADDQ        AX, R12
	MOVQ        (R9)(BX*8), R13
	ADDQ        AX, R13
	VMOVUPS     (SI)(R12*4), Y4
	VFMADD231PS (DX)(R13*4), Y4, Y0
	INCQ        BX
	CMPQ        BX, R10
	JLT         tap8

	VMOVUPS Y0, (DI)(AX*4)
	MOVQ    R11, AX
	JMP     loop8

done:
	VZEROUPPER
	RET
