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

func ExampleNewResNet() {
	m, err := models.NewResNet(models.ResNetConfig{InputShape: []int{32, 32, 3}, Classes: 10, Stages: []int{16, 32}})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := m.OutputShape([]int{8, 32, 32, 3})
	fmt.Println("logits", out)
	fmt.Println(len(m.Variables()), "trainable weights,", len(m.NonTrainable()), "moving statistics")
	for _, v := range m.AllWeights()[:5] {
		fmt.Println(v.Name(), v.Value().Shape())
	}
	// Output:
	// logits [8 10]
	// 20 trainable weights, 12 moving statistics
	// stem/kernel [3 3 3 16]
	// stem_bn/gamma [16]
	// stem_bn/beta [16]
	// stem_bn/moving_mean [16]
	// stem_bn/moving_variance [16]
}
