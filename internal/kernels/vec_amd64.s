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

// func adamAVX2(w, grad, m, v *float32, n int, k *[4]float32)
//
// AdamUpdate for n elements (a multiple of 8), eight at a time, with the
// Go loop's operations in its order (no FMA, so the bits agree).
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), R8
	MOVQ         v+24(FP), R9
	MOVQ         n+32(FP), CX
	MOVQ         k+40(FP), AX
	VBROADCASTSS (AX), Y12   // lrT
	VBROADCASTSS 4(AX), Y13  // b1c
	VBROADCASTSS 8(AX), Y14  // b2c
	VBROADCASTSS 12(AX), Y15 // eps
	XORQ         BX, BX

adamloop:
	CMPQ    BX, CX
	JGE     adamdone
	VMOVUPS (SI)(BX*4), Y0 // g
	VMOVUPS (R8)(BX*4), Y1 // m
	VMOVUPS (R9)(BX*4), Y2 // v
	VSUBPS  Y1, Y0, Y3     // g − m
	VMULPS  Y13, Y3, Y3    // ·b1c
	VADDPS  Y3, Y1, Y1     // m'
	VMULPS  Y0, Y0, Y4     // g²
	VSUBPS  Y2, Y4, Y4     // g² − v
	VMULPS  Y14, Y4, Y4    // ·b2c
	VADDPS  Y4, Y2, Y2     // v'
	VMOVUPS Y1, (R8)(BX*4)
	VMOVUPS Y2, (R9)(BX*4)
	VMULPS  Y12, Y1, Y5    // m'·lrT
	VSQRTPS Y2, Y6
	VADDPS  Y15, Y6, Y6    // √v' + eps
	VDIVPS  Y6, Y5, Y5
	VMOVUPS (DI)(BX*4), Y7
	VSUBPS  Y5, Y7, Y7
	VMOVUPS Y7, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     adamloop

adamdone:
	VZEROUPPER
	RET

// func repeatAVX2(dst, src *float32, n, c, cm int, idx *[16]int32)
//
// For each of n pixels: load 8 source values, permute them into the
// pixel's 16 (cm used) output values, store 16; the next pixel's stores
// overwrite the excess.
TEXT ·repeatAVX2(SB), NOSPLIT, $0-48
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	MOVQ    c+24(FP), R8
	MOVQ    cm+32(FP), R9
	MOVQ    idx+40(FP), AX
	VMOVDQU (AX), Y8
	VMOVDQU 32(AX), Y9
	SHLQ    $2, R8 // bytes per source pixel
	SHLQ    $2, R9 // bytes per output pixel
	TESTQ   CX, CX
	JLE     repdone

reploop:
	VMOVUPS (SI), Y0
	VPERMPS Y0, Y8, Y1
	VPERMPS Y0, Y9, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ    R8, SI
	ADDQ    R9, DI
	DECQ    CX
	JNZ     reploop

repdone:
	VZEROUPPER
	RET

// func biasReluAVX2(dst, x, b *float32, rows, c int)
//
// dst = max(0, x + b) eight at a time. VMAXPS returns its second source
// operand (here x + b) when either is NaN or both are zeros, so NaN and
// −0 pass through as in the Go loop.
TEXT ·biasReluAVX2(SB), NOSPLIT, $0-40
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   b+16(FP), DX
	MOVQ   rows+24(FP), CX
	MOVQ   c+32(FP), R8
	VXORPS Y15, Y15, Y15

brrow:
	XORQ BX, BX

brcol:
	VMOVUPS (SI)(BX*4), Y0
	VADDPS  (DX)(BX*4), Y0, Y0
	VMAXPS  Y0, Y15, Y0        // Intel order: vmaxps y0, y15(zero), y0(x+b)
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ    $8, BX
	CMPQ    BX, R8
	JLT     brcol
	LEAQ    (SI)(R8*4), SI
	LEAQ    (DI)(R8*4), DI
	DECQ    CX
	JNZ     brrow
	VZEROUPPER
	RET

// func reluGradSumAVX2(dx, grad, y *float32, acc *float64, rows, c int)
//
// dx = grad & (y > 0), and acc[j] += float64(dx[j]) row after row.
TEXT ·reluGradSumAVX2(SB), NOSPLIT, $0-48
	MOVQ   dx+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   acc+24(FP), R9
	MOVQ   rows+32(FP), CX
	MOVQ   c+40(FP), R8
	VXORPS Y15, Y15, Y15

rgrow:
	XORQ BX, BX

rgcol:
	VMOVUPS      (DX)(BX*4), Y0
	VCMPPS       $0x1e, Y15, Y0, Y1 // y > 0 (ordered: NaN gives false)
	VANDPS       (SI)(BX*4), Y1, Y1
	VMOVUPS      Y1, (DI)(BX*4)
	VCVTPS2PD    X1, Y2
	VEXTRACTF128 $1, Y1, X3
	VCVTPS2PD    X3, Y3
	VADDPD       (R9)(BX*8), Y2, Y2
	VADDPD       32(R9)(BX*8), Y3, Y3
	VMOVUPD      Y2, (R9)(BX*8)
	VMOVUPD      Y3, 32(R9)(BX*8)
	ADDQ         $8, BX
	CMPQ         BX, R8
	JLT          rgcol
	LEAQ         (SI)(R8*4), SI
	LEAQ         (DI)(R8*4), DI
	LEAQ         (DX)(R8*4), DX
	DECQ         CX
	JNZ          rgrow
	VZEROUPPER
	RET

DATA iota8<>+0(SB)/4, $0
DATA iota8<>+4(SB)/4, $1
DATA iota8<>+8(SB)/4, $2
DATA iota8<>+12(SB)/4, $3
DATA iota8<>+16(SB)/4, $4
DATA iota8<>+20(SB)/4, $5
DATA iota8<>+24(SB)/4, $6
DATA iota8<>+28(SB)/4, $7
GLOBL iota8<>(SB), RODATA|NOPTR, $32

// func argmaxWindowAVX2(dst *float32, arg *int32, x *float32, offs *int, cells, c int, base int32)
//
// Eight channels at a time: best and its index from the first cell, then
// for each later cell blend in the values that are strictly greater
// (VCMPPS GT_OQ: false for NaN) and their indices base + offs[k] + j + lane.
TEXT ·argmaxWindowAVX2(SB), NOSPLIT, $0-52
	MOVQ    dst+0(FP), DI
	MOVQ    arg+8(FP), R10
	MOVQ    x+16(FP), SI
	MOVQ    offs+24(FP), R8
	MOVQ    cells+32(FP), CX
	MOVQ    c+40(FP), R9
	MOVLQSX base+48(FP), R11
	VMOVDQU iota8<>(SB), Y15
	XORQ    BX, BX               // channel j

amcol:
	MOVQ         (R8), AX         // offs[0]
	ADDQ         BX, AX
	VMOVUPS      (SI)(AX*4), Y0   // best
	LEAQ         (AX)(R11*1), R12
	VMOVQ        R12, X1
	VPBROADCASTD X1, Y1
	VPADDD       Y15, Y1, Y1      // arg
	MOVQ         $1, DX

amcell:
	CMPQ         DX, CX
	JGE          amstore
	MOVQ         (R8)(DX*8), AX
	ADDQ         BX, AX
	VMOVUPS      (SI)(AX*4), Y2
	VCMPPS       $0x1e, Y0, Y2, Y3 // v > best
	VBLENDVPS    Y3, Y2, Y0, Y0
	LEAQ         (AX)(R11*1), R12
	VMOVQ        R12, X4
	VPBROADCASTD X4, Y4
	VPADDD       Y15, Y4, Y4
	VBLENDVPS    Y3, Y4, Y1, Y1
	INCQ         DX
	JMP          amcell

amstore:
	VMOVUPS Y0, (DI)(BX*4)
	VMOVDQU Y1, (R10)(BX*4)
	ADDQ    $8, BX
	CMPQ    BX, R9
	JLT     amcol
	VZEROUPPER
	RET

// func maxWindowAVX2(dst, x *float32, offs *int, cells, c int)
//
// VMAXPS with the new cell's values as the first source returns them
// only when strictly greater, the running maximum otherwise (also on NaN).
TEXT ·maxWindowAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ cells+24(FP), CX
	MOVQ c+32(FP), R9
	XORQ BX, BX

mwcol:
	MOVQ    (R8), AX
	ADDQ    BX, AX
	VMOVUPS (SI)(AX*4), Y0
	MOVQ    $1, DX

mwcell:
	CMPQ    DX, CX
	JGE     mwstore
	MOVQ    (R8)(DX*8), AX
	ADDQ    BX, AX
	VMOVUPS (SI)(AX*4), Y2
	VMAXPS  Y0, Y2, Y0     // Intel order: vmaxps y0, y2(new), y0(running)
	INCQ    DX
	JMP     mwcell

mwstore:
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ    $8, BX
	CMPQ    BX, R9
	JLT     mwcol
	VZEROUPPER
	RET

// func gemvAVX2(y, x, w *float32, k, n, ldw int)
//
// 64 columns (eight YMM accumulators) at a time: for each p, broadcast
// x[p] and fuse it with row p's 64 values; then 8 columns at a time.
// Registers: DI y, SI x, DX w, CX k, R8 n, R9 ldw in bytes, BX column,
// R10 row pointer, R11 p.
TEXT ·gemvAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ k+24(FP), CX
	MOVQ n+32(FP), R8
	MOVQ ldw+40(FP), R9
	SHLQ $2, R9
	XORQ BX, BX

gv64:
	LEAQ   64(BX), R12
	CMPQ   R12, R8
	JGT    gv8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ   (DX)(BX*4), R10
	XORQ   R11, R11

gv64row:
	VBROADCASTSS (SI)(R11*4), Y15
	VFMADD231PS  (R10), Y15, Y0
	VFMADD231PS  32(R10), Y15, Y1
	VFMADD231PS  64(R10), Y15, Y2
	VFMADD231PS  96(R10), Y15, Y3
	VFMADD231PS  128(R10), Y15, Y4
	VFMADD231PS  160(R10), Y15, Y5
	VFMADD231PS  192(R10), Y15, Y6
	VFMADD231PS  224(R10), Y15, Y7
	ADDQ         R9, R10
	INCQ         R11
	CMPQ         R11, CX
	JLT          gv64row

	VMOVUPS Y0, (DI)(BX*4)
	VMOVUPS Y1, 32(DI)(BX*4)
	VMOVUPS Y2, 64(DI)(BX*4)
	VMOVUPS Y3, 96(DI)(BX*4)
	VMOVUPS Y4, 128(DI)(BX*4)
	VMOVUPS Y5, 160(DI)(BX*4)
	VMOVUPS Y6, 192(DI)(BX*4)
	VMOVUPS Y7, 224(DI)(BX*4)
	MOVQ    R12, BX
	JMP     gv64

gv8:
	LEAQ   8(BX), R12
	CMPQ   R12, R8
	JGT    gvdone
	VXORPS Y0, Y0, Y0
	LEAQ   (DX)(BX*4), R10
	XORQ   R11, R11

gv8row:
	VBROADCASTSS (SI)(R11*4), Y15
	VFMADD231PS  (R10), Y15, Y0
	ADDQ         R9, R10
	INCQ         R11
	CMPQ         R11, CX
	JLT          gv8row

	VMOVUPS Y0, (DI)(BX*4)
	MOVQ    R12, BX
	JMP     gv8

gvdone:
	VZEROUPPER
	RET

// func mulAddAVX2(acc, a, b *float32, n int)
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ BX, BX

ma32:
	LEAQ        32(BX), R8
	CMPQ        R8, CX
	JGT         ma8
	VMOVUPS     (SI)(BX*4), Y0
	VMOVUPS     32(SI)(BX*4), Y1
	VMOVUPS     64(SI)(BX*4), Y2
	VMOVUPS     96(SI)(BX*4), Y3
	VMOVUPS     (DI)(BX*4), Y4
	VMOVUPS     32(DI)(BX*4), Y5
	VMOVUPS     64(DI)(BX*4), Y6
	VMOVUPS     96(DI)(BX*4), Y7
	VFMADD231PS (DX)(BX*4), Y0, Y4
	VFMADD231PS 32(DX)(BX*4), Y1, Y5
	VFMADD231PS 64(DX)(BX*4), Y2, Y6
	VFMADD231PS 96(DX)(BX*4), Y3, Y7
	VMOVUPS     Y4, (DI)(BX*4)
	VMOVUPS     Y5, 32(DI)(BX*4)
	VMOVUPS     Y6, 64(DI)(BX*4)
	VMOVUPS     Y7, 96(DI)(BX*4)
	MOVQ        R8, BX
	JMP         ma32

ma8:
	LEAQ        8(BX), R8
	CMPQ        R8, CX
	JGT         madone
	VMOVUPS     (SI)(BX*4), Y0
	VMOVUPS     (DI)(BX*4), Y4
	VFMADD231PS (DX)(BX*4), Y0, Y4
	VMOVUPS     Y4, (DI)(BX*4)
	MOVQ        R8, BX
	JMP         ma8

madone:
	VZEROUPPER
	RET
