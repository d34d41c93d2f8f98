package models_test

import (
	"fmt"

	"github.com/convnet-go/convnet/models"
)

func ExampleNewConvNet() {
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	shapes, _ := m.Shapes([]int{128, 28, 28, 1})
	for _, s := range shapes {
		fmt.Println(s.Name, s.Shape)
	}
	// Output:
	// conv1 [128 28 28 32]
	// pool1 [128 14 14 32]
	// conv2 [128 14 14 64]
	// pool2 [128 7 7 64]
	// flatten [128 3136]
	// fc [128 1024]
	// dropout [128 1024]
	// logits [128 10]
}
