package data_test

import (
	"fmt"

	"github.com/convnet-go/convnet/data"
)

// Six 2×2 gray images, split 4/2 with a seed, read in shuffled,
// augmented, normalised batches of 3; resuming an epoch is the same
// NewBatches call followed by Skip(Position()).
func ExampleNewBatches() {
	px := make([]uint8, 6*4)
	for i := range px {
		px[i] = uint8(i * 10)
	}
	ds, err := data.NewMemory(px, []uint8{0, 1, 0, 1, 0, 1}, data.Shape{H: 2, W: 2, C: 1}, []string{"even", "odd"})
	if err != nil {
		fmt.Println(err)
		return
	}
	train, val := data.Split(ds, 4, 7)
	fmt.Println("split:", train.Len(), val.Len())

	norm, _ := data.ComputeNormalization(ds, false)
	b := data.NewBatches(ds, data.BatchOptions{BatchSize: 4, Shuffle: true, Seed: 1,
		Augment: data.Augment{FlipH: true}, Normalize: norm}, 0)
	defer b.Close()
	for {
		x, labels, ok := b.Next()
		if !ok {
			break
		}
		fmt.Println(x.Shape(), len(labels), b.Position())
	}
	// Output:
	// split: 4 2
	// [4 2 2 1] 4 1
	// [2 2 2 1] 2 2
}
