//go:build !purego

package kernels

//go:generate go -C _asm run . -set bn -out ../bn_amd64.s -stubs ../bn_stubs_amd64.go -pkg kernels
