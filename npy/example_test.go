package npy_test

import (
	"bytes"
	"fmt"

	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

func Example() {
	x := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	var b bytes.Buffer
	if err := npy.Write(&b, x); err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", b.Bytes()[:10])
	y, err := npy.Read(&b)
	if err != nil {
		panic(err)
	}
	fmt.Println(y.Shape(), y.Data())
	// Output:
	// "\x93NUMPY\x01\x00v\x00"
	// [2 3] [1 2 3 4 5 6]
}
