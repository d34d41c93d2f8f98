package onnx

import (
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/tensor"
)

// TestPoolByHand checks pooling cases worked by hand (the first also
// printed by PyTorch 1.13's avg_pool2d with the same arguments).
func TestPoolByHand(t *testing.T) {
	arange := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i)
		}
		return v
	}
	ones := func(n int) []float32 { return tensor.Full(1, n).Data() }
	cases := []struct {
		name  string
		op    string
		x     []float32
		shape []int
		attrs []*attrProto
		want  []float32
	}{
		// Ones 4x4, k3 s2 pads 1, ceil: out 3x3. Row windows cover real
		// rows {0,1}, {1,2,3}, {3} and padded-input rows 3, 3, 2 (the last
		// window's third row lies past the pads): avg = real/(rows·cols).
		{"avg include pad ceil", "AveragePool", ones(16), []int{1, 1, 4, 4},
			[]*attrProto{iattrs("kernel_shape", 3, 3), iattrs("strides", 2, 2), iattrs("pads", 1, 1, 1, 1), iattr("count_include_pad", 1), iattr("ceil_mode", 1)},
			[]float32{4.0 / 9, 6.0 / 9, 2.0 / 6, 6.0 / 9, 1, 3.0 / 6, 2.0 / 6, 3.0 / 6, 1.0 / 4}},
		// Ones with pads not counted: every window averages to 1.
		{"avg exclude pad", "AveragePool", ones(16), []int{1, 1, 4, 4},
			[]*attrProto{iattrs("kernel_shape", 3, 3), iattrs("strides", 2, 2), iattrs("pads", 1, 1, 1, 1), iattr("ceil_mode", 1)},
			[]float32{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		// 0…24 in 5x5, k2 s2 ceil: windows rows {0,1}, {2,3}, {4}; the max
		// is the window's bottom-right real cell 5·r + c.
		{"max ceil", "MaxPool", arange(25), []int{1, 1, 5, 5},
			[]*attrProto{iattrs("kernel_shape", 2, 2), iattrs("strides", 2, 2), iattr("ceil_mode", 1)},
			[]float32{6, 8, 9, 16, 18, 19, 21, 23, 24}},
		// 0…15 in 4x4, k2 dilation 2 (taps 2 apart), stride 1: out 2x2,
		// max of x[r..r+2 step 2, c..c+2 step 2] = x[r+2, c+2].
		{"max dilated", "MaxPool", arange(16), []int{1, 1, 4, 4},
			[]*attrProto{iattrs("kernel_shape", 2, 2), iattrs("dilations", 2, 2)},
			[]float32{10, 11, 14, 15}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oc := opCase{name: c.name, opset: 13, op: c.op, x: c.shape, attrs: c.attrs}
			m, err := Decode(oc.model())
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Run(tensor.Must(tensor.New(c.shape, c.x)))
			if err != nil {
				t.Fatal(err)
			}
			got := out[0].Data()
			if len(got) != len(c.want) {
				t.Fatalf("got %d values %v, want %v", len(got), got, c.want)
			}
			for i := range got {
				if d := got[i] - c.want[i]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestPoolRefusesOverflowingOutput pads a 1×1×1 input so that each
// output dimension is within maxRunElems but their product,
// 2²²·2²¹·2²¹ = 2⁶⁴, wraps int to 0: the pooling must be refused as too
// large, not run (nor panic) on a wrapped size.
func TestPoolRefusesOverflowingOutput(t *testing.T) {
	for _, op := range []string{"MaxPool", "AveragePool"} {
		oc := opCase{name: op, opset: 13, op: op, x: []int{1, 1, 1, 1, 1}, attrs: []*attrProto{
			iattrs("kernel_shape", 1, 1, 1),
			iattrs("pads", 1<<21, 1<<20, 1<<20, 1<<21-1, 1<<20-1, 1<<20-1)}}
		m, err := Decode(oc.model())
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Run(tensor.Zeros(1, 1, 1, 1, 1))
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s: err = %v, want the output refused as too large", op, err)
		}
	}
	// ConvTranspose's output_shape may exceed the size the pads give:
	// the extra cells count against maxRunElems too.
	defer func(e int) { maxRunElems = e }(maxRunElems)
	maxRunElems = 1 << 16
	oc := opCase{name: "ConvTranspose", opset: 13, op: "ConvTranspose", x: []int{1, 1, 1, 1},
		inits: []*tensorProto{floatInit("w", 1, 1, 1, 1, 1)},
		attrs: []*attrProto{iattrs("output_shape", 1<<9, 1<<8)}}
	m, err := Decode(oc.model())
	if err != nil {
		t.Fatal(err)
	}
	if _, err = m.Run(tensor.Zeros(1, 1, 1, 1)); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("ConvTranspose: err = %v, want the output of 2¹⁷ cells refused as too large", err)
	}
}

// TestPoolRefusesOverflowingWork gives a 2²²×2²¹×2²¹ window, padded so
// that the output is tiny: the window's cell count, 2⁶⁴, wraps int to 0,
// and the work bound must still refuse it rather than loop over it.
func TestPoolRefusesOverflowingWork(t *testing.T) {
	oc := opCase{name: "MaxPool", opset: 13, op: "MaxPool", x: []int{1, 1, 1, 1, 1}, attrs: []*attrProto{
		iattrs("kernel_shape", 1<<22, 1<<21, 1<<21),
		iattrs("pads", 1<<21, 1<<20, 1<<20, 1<<21, 1<<20, 1<<20)}}
	m, err := Decode(oc.model())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.Run(tensor.Zeros(1, 1, 1, 1, 1)); done <- err }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("MaxPool over a 2⁶⁴-cell window still runs after 10 s")
	}
	if err == nil || !strings.Contains(err.Error(), "multiply-adds") {
		t.Errorf("err = %v, want the pooling refused for its work", err)
	}
}
