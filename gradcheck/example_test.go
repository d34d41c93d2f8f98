package gradcheck_test

import (
	"fmt"

	"github.com/convnet-go/convnet/gradcheck"
)

func ExampleCheck() {
	// f(x) = x0²·x1 has gradient (2·x0·x1, x0²).
	f := func(x []float64) float64 { return x[0] * x[0] * x[1] }
	x := []float64{3, -2}
	fmt.Println(gradcheck.Check(f, x, []float64{2 * x[0] * x[1], x[0] * x[0]}, gradcheck.Options{}))
	fmt.Println(gradcheck.Check(f, x, []float64{-12, 8}, gradcheck.Options{}) != nil)
	// Output:
	// <nil>
	// true
}
