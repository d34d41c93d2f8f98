package keras

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// SummaryRow is one line of a Keras-style model summary.
type SummaryRow struct {
	// Name is the layer's name and Class its Keras class ("Conv2D").
	Name, Class string
	// Shape is the layer's output shape, batch excluded.
	Shape []int
	// Params counts the layer's weights, Trainable the trainable ones.
	Params, Trainable int
	// ConnectedTo names the layers feeding this one.
	ConnectedTo []string
}

// Summary is what Keras's model.summary() prints: one row per layer.
type Summary struct {
	Model string
	Rows  []SummaryRow
}

// Summary returns the model's layers in file order with their output
// shapes, weight counts and inputs.
func (m *Model) Summary() Summary {
	s := Summary{Model: m.name}
	prev := ""
	for _, sp := range m.specs {
		row := SummaryRow{Name: sp.name, Class: sp.class, Shape: m.nodes[ref{sp.name, 0}].Shape()}
		if sp.layer != nil {
			row.Params, row.Trainable = countParams(sp.layer)
			for _, call := range sp.calls {
				for _, r := range call {
					row.ConnectedTo = append(row.ConnectedTo, r.String())
				}
			}
			if m.class == "Sequential" && prev != "" {
				row.ConnectedTo = []string{prev}
			}
		}
		prev = sp.name
		s.Rows = append(s.Rows, row)
	}
	if m.class == "Sequential" && m.specs[0].layer != nil {
		in := m.inputs[0]
		s.Rows[0].ConnectedTo = []string{in}
		s.Rows = append([]SummaryRow{{Name: in, Class: "InputLayer", Shape: m.nodes[ref{in, 0}].Shape()}}, s.Rows...)
	}
	return s
}

// SequentialSummary returns the summary of a Sequential built for inputs
// of inputShape (batch first), such as a checkpoint's model.
func SequentialSummary(m *layers.Sequential, inputShape []int) (Summary, error) {
	if err := m.Build(inputShape); err != nil {
		return Summary{}, err
	}
	shapes, err := m.Shapes(inputShape)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Model: m.Name(), Rows: []SummaryRow{{Name: "input", Class: "InputLayer", Shape: inputShape[1:]}}}
	prev := "input"
	for i, l := range m.Layers() {
		row := SummaryRow{Name: l.Name(), Class: className(l), Shape: shapes[i].Shape[1:], ConnectedTo: []string{prev}}
		row.Params, row.Trainable = countParams(l)
		s.Rows = append(s.Rows, row)
		prev = l.Name()
	}
	return s, nil
}

// countParams returns a layer's weight count and its trainable part.
func countParams(l any) (all, trainable int) {
	if v, ok := l.(interface{ Variables() []*autograd.Var }); ok {
		for _, w := range v.Variables() {
			trainable += w.Value().Len()
		}
	}
	all = trainable
	if s, ok := l.(layers.Stateful); ok {
		for _, w := range s.NonTrainable() {
			all += w.Value().Len()
		}
	}
	return all, trainable
}

// className returns the Keras class of a convnet layer.
func className(l any) string {
	switch l.(type) {
	case *layers.ActivationLayer:
		return "Activation"
	case *lastAxis:
		return "BatchNormalization"
	}
	t := reflect.TypeOf(l)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// WriteTo prints the summary as Keras does: a table of layer (type),
// output shape (None for the batch), parameter count and inputs, then
// the totals.
func (s Summary) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	fmt.Fprintf(cw, "Model: %q\n", s.Model)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "Layer (type)\tOutput Shape\tParam #\tConnected to")
	total, trainable := 0, 0
	for _, r := range s.Rows {
		dims := []string{"None"}
		for _, d := range r.Shape {
			dims = append(dims, strconv.Itoa(d))
		}
		fmt.Fprintf(tw, "%s (%s)\t(%s)\t%s\t%s\n", r.Name, r.Class, strings.Join(dims, ", "), thousands(r.Params), strings.Join(r.ConnectedTo, ", "))
		total += r.Params
		trainable += r.Trainable
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if line != "" {
			fmt.Fprintln(cw, strings.TrimRight(line, " \n"))
		}
	}
	fmt.Fprintf(cw, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n", thousands(total), thousands(trainable), thousands(total-trainable))
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// thousands formats n with commas, as Keras prints parameter counts.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// PredictFile loads the model at modelPath (see Load), runs it on the
// .npy tensor at inPath ([N, input shape…], float32, NHWC for images)
// and writes its first output to outPath as .npy, atomically. It returns
// the output's shape.
func PredictFile(modelPath, inPath, outPath string) ([]int, error) {
	m, err := Load(modelPath)
	if err != nil {
		return nil, err
	}
	return predictNpy(m.Predict, inPath, outPath)
}

// PredictLayerFile runs any one-input layer or model (such as a
// checkpoint's Sequential) in inference mode on the .npy tensor at
// inPath and writes its output to outPath as .npy, atomically.
func PredictLayerFile(l layers.Layer, inPath, outPath string) ([]int, error) {
	return predictNpy(func(x *tensor.Tensor) (*tensor.Tensor, error) {
		if _, err := l.OutputShape(x.Shape()); err != nil {
			return nil, fmt.Errorf("keras: model %s cannot take the input of shape %v: %w", l.Name(), x.Shape(), err)
		}
		y := l.Call(autograd.Constant(x), layers.Context{})
		if err := y.Err(); err != nil {
			return nil, err
		}
		return y.Value(), nil
	}, inPath, outPath)
}

func predictNpy(predict func(*tensor.Tensor) (*tensor.Tensor, error), inPath, outPath string) ([]int, error) {
	x, err := npy.ReadFile(inPath)
	if err != nil {
		return nil, err
	}
	if len(x.Shape()) < 2 {
		return nil, fmt.Errorf("keras: %s holds shape %v; want a batch [N, …] of rank 2 or more", inPath, x.Shape())
	}
	y, err := predict(x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inPath, err)
	}
	if err := npy.WriteFile(outPath, y); err != nil {
		return nil, err
	}
	return y.Shape(), nil
}
