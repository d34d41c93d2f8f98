package keras_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/npy"
)

// Example loads a TF.js Layers model, prints its summary, runs it on a
// batch and saves it as a convnet model directory.
func Example() {
	m, err := keras.Load(filepath.Join("testdata", "zoo", "dense1d", "model.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m.Summary().WriteTo(os.Stdout)
	x, err := npy.ReadFile(filepath.Join("testdata", "zoo", "dense1d", "x.npy"))
	if err != nil {
		fmt.Println(err)
		return
	}
	y, err := m.Predict(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("input", x.Shape(), "output", y.Shape())
	dir, _ := os.MkdirTemp("", "model")
	defer os.RemoveAll(dir)
	if err := m.Save(dir); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Model: "dense1d"
	// Layer (type)            Output Shape    Param #   Connected to
	// c1_input (InputLayer)   (None, 10, 3)   0
	// c1 (Conv1D)             (None, 8, 4)    40        c1_input
	// p1 (MaxPooling1D)       (None, 4, 4)    0         c1
	// f (Flatten)             (None, 16)      0         p1
	// d1 (Dense)              (None, 6)       102       f
	// d2 (Dense)              (None, 2)       12        d1
	// Total params: 154
	// Trainable params: 154
	// Non-trainable params: 0
	// input [4 10 3] output [4 2]
}
