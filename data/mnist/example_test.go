package mnist_test

import (
	"fmt"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/mnist"
)

// A Set is a data.Dataset: an epoch of a 10-example set in batches of 4
// has shapes [4,28,28,1] twice, then the leftover [2,28,28,1].
func ExampleSet_Split() {
	set := &mnist.Set{Images: make([]float32, 10*mnist.Pixels), Labels: make([]uint8, 10), N: 10}
	train, val := set.Split(8, 1)
	fmt.Println("split:", train.N, val.N)

	b := data.NewBatches(set, data.BatchOptions{BatchSize: 4, Shuffle: true, Seed: 1}, 0)
	defer b.Close()
	for {
		images, labels, ok := b.Next()
		if !ok {
			break
		}
		fmt.Println(images.Shape(), len(labels), b.Position())
	}
	// Output:
	// split: 8 2
	// [4 28 28 1] 4 1
	// [4 28 28 1] 4 2
	// [2 28 28 1] 2 3
}
