package imagefilter_test

import (
	"fmt"
	"image"

	"github.com/convnet-go/convnet/imagefilter"
)

// A 5x5 gray image with one bright pixel, sharpened in gray mode: the
// centre becomes 5·v and its four neighbours −v, which clamp to 0.
func ExampleApply() {
	img := image.NewGray(image.Rect(0, 0, 5, 5))
	img.Pix[2*5+2] = 40
	k, err := imagefilter.Builtin("sharpen")
	if err != nil {
		panic(err)
	}
	out, err := imagefilter.Apply(img, k, imagefilter.Options{Gray: true})
	if err != nil {
		panic(err)
	}
	g := out.(*image.Gray)
	for y := 1; y < 4; y++ {
		fmt.Println(g.Pix[y*g.Stride+1 : y*g.Stride+4])
	}
	// Output:
	// [0 0 0]
	// [0 200 0]
	// [0 0 0]
}

// Strides and VALID padding shrink the result like tf.nn.conv2d.
func ExampleApply_stride() {
	img := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	k, _ := imagefilter.Builtin("emboss")
	for _, o := range []imagefilter.Options{
		{},
		{Stride: 3},
		{Stride: 2, Padding: "VALID"},
	} {
		out, err := imagefilter.Apply(img, k, o)
		if err != nil {
			panic(err)
		}
		fmt.Printf("stride %d %-5s → %v\n", max(o.Stride, 1), o.Padding, out.Bounds().Size())
	}
	// Output:
	// stride 1       → (640,480)
	// stride 3       → (214,160)
	// stride 2 VALID → (319,239)
}

func ExampleParseKernel() {
	k, err := imagefilter.ParseKernel("1,2;3,4;5,6")
	if err != nil {
		panic(err)
	}
	fmt.Println(k.Size, k.Values)
	_, err = imagefilter.ParseKernel("1,2;3")
	fmt.Println(err)
	// Output:
	// [3 2] [1 2 3 4 5 6]
	// imagefilter: kernel row 2 has 1 values but row 1 has 2; rows must be the same length
}

func ExampleNames() {
	fmt.Println(imagefilter.Names())
	fmt.Println(imagefilter.Lecture())
	// Output:
	// [blur bottom_sobel box edge edge8 emboss gaussian identity left_sobel right_sobel sharpen top_sobel]
	// [blur sharpen edge top_sobel emboss]
}
