package train

import (
	"fmt"
	"image"
	"image/color"

	"github.com/convnet-go/convnet/tensor"
)

// Layout of KernelGrid's image.
const (
	gridColumns = 8 // kernels per row
	gridScale   = 4 // screen pixels per kernel cell
	gridBorder  = 2 // pixels between kernels
)

// KernelGrid draws the K kernels of an HWIO conv kernel [KH, KW, C, K]
// as a grayscale grid, 8 kernels per row, each cell enlarged 4×, with
// 2-pixel white borders. Values are normalised together (min → black,
// max → white) so kernels compare with each other; for C > 1 the input
// channels are averaged.
func KernelGrid(kernel *tensor.Tensor) (*image.Gray, error) {
	if kernel == nil || kernel.Rank() != 4 {
		var got any = "nil"
		if kernel != nil {
			got = kernel.Shape()
		}
		return nil, fmt.Errorf("train: KernelGrid needs an HWIO kernel [KH, KW, C, K], got %v", got)
	}
	kh, kw, c, k := kernel.Dim(0), kernel.Dim(1), kernel.Dim(2), kernel.Dim(3)
	if kh*kw*c*k == 0 {
		return nil, fmt.Errorf("train: KernelGrid: empty kernel %v", kernel.Shape())
	}
	// v[(i·KW + j)·K + f] = mean over channels of kernel[i, j, ·, f].
	v := make([]float32, kh*kw*k)
	d := kernel.Data()
	for i := range kh * kw {
		for ch := range c {
			for f := range k {
				v[i*k+f] += d[(i*c+ch)*k+f] / float32(c)
			}
		}
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	scale := float32(0)
	if hi > lo {
		scale = 255 / (hi - lo)
	}
	cols := min(gridColumns, k)
	rows := (k + cols - 1) / cols
	cellW, cellH := kw*gridScale, kh*gridScale
	img := image.NewGray(image.Rect(0, 0, cols*(cellW+gridBorder)+gridBorder, rows*(cellH+gridBorder)+gridBorder))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for f := range k {
		x0 := gridBorder + (f%cols)*(cellW+gridBorder)
		y0 := gridBorder + (f/cols)*(cellH+gridBorder)
		for y := range cellH {
			for x := range cellW {
				val := (v[((y/gridScale)*kw+x/gridScale)*k+f] - lo) * scale
				img.SetGray(x0+x, y0+y, color.Gray{Y: uint8(val + 0.5)})
			}
		}
	}
	return img, nil
}
