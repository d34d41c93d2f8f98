package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/models/onnx"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{
		name:    "shape",
		summary: "print a model's layer-by-layer output shapes",
		run:     runShape,
	})
}

const shapeUsage = `usage: convnet shape [flags]

Without flags, prints the lecture's MNIST convnet layer by layer: each
layer's output shape, the (W − F + 2P)/S + 1 rule that gives it, and its
parameter count. With --model, prints a Keras-style summary (layer and
type, output shape, parameters, connected to) of a convnet model
directory, a TF.js Layers model.json or a checkpoint (for an .onnx file,
its inputs and outputs). With any other
flag, prints one conv layer instead.

flags:
`

func runShape(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("shape", stderr)
	input := fs.String("input", "28x28x1", "input `HxWxC`")
	kernel := fs.String("kernel", "5", "window `K` or KHxKW")
	stride := fs.String("stride", "1", "stride `S` or SHxSW")
	padding := fs.String("padding", "SAME", "SAME, VALID or a number P of zero cells on each side")
	filters := fs.Int("filters", 32, "output channels")
	model := fs.String("model", "", "summarize the model at `PATH`: model directory, TF.js model.json or checkpoint")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), shapeUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments %q; convnet shape takes only flags", fs.Args())
	}
	if *model != "" {
		if fs.NFlag() > 1 {
			return usageErrorf("--model takes no other flags")
		}
		return printModelSummary(*model, stdout)
	}
	if fs.NFlag() == 0 {
		return printLectureModel(stdout)
	}
	in, err := parseDims(*input, 3, "--input", "HxWxC")
	if err != nil {
		return err
	}
	k, err := parseDims(*kernel, 2, "--kernel", "K or KHxKW")
	if err != nil {
		return err
	}
	s, err := parseDims(*stride, 2, "--stride", "S or SHxSW")
	if err != nil {
		return err
	}
	if *filters < 1 {
		return usageErrorf("--filters %d: want 1 or more", *filters)
	}
	pad := strings.ToUpper(*padding)
	var rules [2]rule
	for i := range rules {
		if rules[i], err = sizeRule(in[i], k[i], s[i], pad); err != nil {
			return badInput(err)
		}
	}
	fmt.Fprintf(stdout, "conv %dx%d, %d filters, stride %dx%d, padding %s, over %dx%dx%d\n", k[0], k[1], *filters, s[0], s[1], pad, in[0], in[1], in[2])
	fmt.Fprintf(stdout, "  height: %s\n", rules[0])
	fmt.Fprintf(stdout, "  width:  %s\n", rules[1])
	w := k[0] * k[1] * in[2] * *filters
	fmt.Fprintf(stdout, "output %dx%dx%d\n", rules[0].out, rules[1].out, *filters)
	fmt.Fprintf(stdout, "parameters %d·%d·%d·%d weights + %d biases = %d\n", k[0], k[1], in[2], *filters, *filters, w+*filters)
	return nil
}

// printModelSummary prints the Keras-style summary of the model at path:
// a Keras model (model directory, model.json) or a checkpoint; for an
// .onnx file, its inputs and outputs.
func printModelSummary(path string, w io.Writer) error {
	var s keras.Summary
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		m, err := onnx.Load(path)
		if err != nil {
			return badInput(err)
		}
		fmt.Fprintf(w, "ONNX model (opset %d); its graph is not summarized layer by layer.\n", m.Opset())
		for i, name := range m.InputNames() {
			fmt.Fprintf(w, "input %s %v (−1: symbolic)\n", name, m.InputShape(i))
		}
		fmt.Fprintf(w, "outputs %s\n", strings.Join(m.OutputNames(), ", "))
		return nil
	}
	if keras.IsModelPath(path) {
		// A Keras JSON file needs no weights beside it to be summarized.
		m, _, _, err := train.LoadModelFile(path)
		if err != nil {
			return badInput(err)
		}
		s = m.Summary()
	} else {
		m, _, meta, err := train.LoadModel(path)
		if err != nil {
			return badInput(fmt.Errorf("--model %s: not a model directory or a model.json, and not a checkpoint: %w", path, err))
		}
		in, err := checkpointInput(meta)
		if err != nil {
			return badInput(err)
		}
		return printNetworkSummary(w, m, append([]int{1}, in...))
	}
	_, err := s.WriteTo(w)
	return err
}

// parseDims reads "28x28x1"-style sizes: n values, or one value for all
// when n is 2 (a square window or an equal stride).
func parseDims(s string, n int, flagName, form string) ([]int, error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) == 1 && n == 2 {
		parts = []string{parts[0], parts[0]}
	}
	if len(parts) != n {
		return nil, usageErrorf("%s %q: want %s", flagName, s, form)
	}
	v := make([]int, n)
	for i, p := range parts {
		x, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || x < 1 {
			return nil, usageErrorf("%s %q: want %s with whole numbers ≥ 1", flagName, s, form)
		}
		v[i] = x
	}
	return v, nil
}

// rule is one spatial dimension worked through (W − F + Pb + Pa)/S + 1.
type rule struct {
	in, k, s, pb, pa, out int
	padding               string
}

// sizeRule gives the output size from nn.OutputSize and the padding that
// produces it: TF's SAME split (the odd cell after), none for VALID, P on
// both sides for a number.
func sizeRule(in, k, s int, padding string) (rule, error) {
	out, err := nn.OutputSize(in, k, s, 1, padding)
	if err != nil {
		return rule{}, err
	}
	r := rule{in: in, k: k, s: s, out: out, padding: padding}
	switch padding {
	case "SAME":
		total := max((out-1)*s+k-in, 0)
		r.pb, r.pa = total/2, total-total/2
	case "VALID":
	default:
		p, _ := strconv.Atoi(padding) // nn.OutputSize accepted it
		r.pb, r.pa = p, p
	}
	return r, nil
}

func (r rule) String() string {
	var p string
	if r.pb == r.pa {
		p = fmt.Sprintf("2·%d", r.pb)
	} else {
		p = fmt.Sprintf("%d + %d", r.pb, r.pa)
	}
	s := fmt.Sprintf("(%d − %d + %s)/%d + 1 = %d", r.in, r.k, p, r.s, r.out)
	if r.padding == "SAME" {
		s += fmt.Sprintf("   (SAME: ⌈%d/%d⌉, padding %d before, %d after)", r.in, r.s, r.pb, r.pa)
	}
	return s
}

// printLectureModel prints the layer table of models.NewConvNet, the
// lecture's convnet, walking its layers so the table is the model's own.
func printLectureModel(w io.Writer) error {
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "The lecture's MNIST convnet; spatial sizes by (W − F + 2P)/S + 1:")
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "layer\top\toutput\tsize rule\tparameters")
	shape := []int{1, models.ImageSize, models.ImageSize, 1}
	fmt.Fprintf(tw, "input\t\t%s\t\t0\n", dims(shape))
	total := 0
	for _, l := range m.Layers() {
		out, err := l.OutputShape(shape)
		if err != nil {
			return err
		}
		params := 0
		for _, v := range l.Variables() {
			params += v.Value().Len()
		}
		total += params
		var op, how string
		switch l := l.(type) {
		case *layers.Conv2D:
			c := l.Config()
			op = fmt.Sprintf("conv %dx%d/%d %s", c.KernelSize[0], c.KernelSize[len(c.KernelSize)-1], c.Filters, c.Padding)
			how, err = windowRule(shape[1], c.KernelSize[0], first(c.Strides, 1), c.Padding)
		case *layers.MaxPooling2D:
			c := l.Config()
			op = fmt.Sprintf("maxpool %dx%d/%d %s", c.PoolSize[0], c.PoolSize[len(c.PoolSize)-1], first(c.Strides, c.PoolSize[0]), c.Padding)
			how, err = windowRule(shape[1], c.PoolSize[0], first(c.Strides, c.PoolSize[0]), c.Padding)
		case *layers.Flatten:
			op, how = "reshape", fmt.Sprintf("%s = %d", strings.Join(strings.Split(dims(shape), "x"), "·"), out[1])
		case *layers.Dense:
			op = fmt.Sprintf("dense %d", l.Config().Units)
			if l.Config().Activation != nil {
				op += " + ReLU"
			}
			how = fmt.Sprintf("%d·%d + %d", shape[1], out[1], out[1])
		case *layers.Dropout:
			op = fmt.Sprintf("dropout rate %g", l.Rate())
		default:
			op = fmt.Sprintf("%T", l)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", l.Name(), op, dims(out), how, params)
		shape = out
	}
	fmt.Fprintf(tw, "total\t\t\t\t%d\n", total)
	return tw.Flush()
}

// windowRule works one square spatial dimension through sizeRule.
func windowRule(in, k, s int, padding string) (string, error) {
	if padding == "" {
		padding = "VALID"
	}
	r, err := sizeRule(in, k, s, padding)
	if err != nil {
		return "", err
	}
	p := fmt.Sprintf("2·%d", r.pb)
	if r.pb != r.pa {
		p = fmt.Sprintf("%d + %d", r.pb, r.pa)
	}
	return fmt.Sprintf("(%d − %d + %s)/%d + 1 = %d", r.in, r.k, p, r.s, r.out), nil
}

// dims formats a shape without its batch dimension as HxWxC.
func dims(shape []int) string {
	parts := make([]string, 0, len(shape))
	for _, d := range shape[1:] {
		parts = append(parts, strconv.Itoa(d))
	}
	if len(shape) == 1 {
		return strconv.Itoa(shape[0])
	}
	return strings.Join(parts, "x")
}

// first returns v[0], or def when v is empty.
func first(v []int, def int) int {
	if len(v) == 0 {
		return def
	}
	return v[0]
}
