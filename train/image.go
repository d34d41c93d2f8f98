package train

import (
	"fmt"
	"image"

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
	return channelGrid(v, kh, kw, k, gridColumns, gridScale, gridBorder, func(_ int, x float32) uint8 {
		return uint8((x-lo)*scale + 0.5)
	}), nil
}

// channelGrid draws the c channels of d, laid out [h, w, c], as a white
// grayscale image holding one cell per channel, cols to a row, each
// channel enlarged scale× and framed by border pixels; gray(k, v) is the
// level of value v of channel k. KernelGrid and FeatureMaps draw with it.
func channelGrid(d []float32, h, w, c, cols, scale, border int, gray func(k int, v float32) uint8) *image.Gray {
	cols = min(cols, c)
	rows := (c + cols - 1) / cols
	cw, ch := w*scale, h*scale
	img := image.NewGray(image.Rect(0, 0, cols*(cw+border)+border, rows*(ch+border)+border))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for k := range c {
		x0 := border + (k%cols)*(cw+border)
		y0 := border + (k/cols)*(ch+border)
		for y := range ch {
			row := img.Pix[(y0+y)*img.Stride+x0:]
			for x := range cw {
				row[x] = gray(k, d[((y/scale)*w+x/scale)*c+k])
			}
		}
	}
	return img
}
