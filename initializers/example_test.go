package initializers_test

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/tensor"
)

// The lecture's first conv kernel, 5x5 over 1 channel into 32, with the
// Glorot uniform initializer: limit = √(6/(25·1 + 25·32)).
func ExampleGlorotUniform() {
	kernel := tensor.Zeros(5, 5, 1, 32)
	initializers.GlorotUniform{}.Init(kernel, tensor.NewRand(42))
	in, out := initializers.Fans(kernel.Shape())
	limit := math.Sqrt(6 / float64(in+out))
	inside := true
	for _, v := range kernel.Data() {
		inside = inside && math.Abs(float64(v)) <= limit
	}
	fmt.Printf("fan_in %d, fan_out %d, limit %.4f, all inside: %v\n", in, out, limit, inside)
	// Output:
	// fan_in 25, fan_out 800, limit 0.0853, all inside: true
}
