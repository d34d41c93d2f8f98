package keras

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/convnet-go/convnet/layers"
)

// activationNames lists the activations FromSequential can name, in the
// order it tries them ("linear" is the nil Activation).
var activationNames = []string{"relu", "relu6", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid", "tanh",
	"softmax", "softplus", "softsign", "swish", "exponential"}

// activationName returns the Keras name of a layer's Activation.
func activationName(a layers.Activation) (string, error) {
	if a == nil {
		return "linear", nil
	}
	p := reflect.ValueOf(a).Pointer()
	for _, n := range activationNames {
		f, _ := layers.ActivationByName(n)
		if f != nil && reflect.ValueOf(f).Pointer() == p {
			return n, nil
		}
	}
	return "", fmt.Errorf("activation %v has no Keras name", reflect.ValueOf(a))
}

// spatialList expands a 1-value window parameter to one value per
// spatial dimension (nil → def), as Keras writes it.
func spatialList(v []int, n, def int) []int {
	out := make([]int, n)
	for i := range out {
		switch {
		case len(v) == 0:
			out[i] = def
		case len(v) == 1:
			out[i] = v[0]
		case i < len(v):
			out[i] = v[i]
		}
	}
	return out
}

// padName writes a layers padding ("", "SAME", "VALID") as Keras does.
func padName(p string) string {
	if p == "" {
		return "valid"
	}
	return strings.ToLower(p)
}

// layerConfig returns the Keras class and config of a convnet layer
// whose input has spatial dimensions spatial.
func layerConfig(l layers.Layer, spatial int) (string, map[string]any, error) {
	cfg := map[string]any{"name": l.Name(), "trainable": true, "dtype": "float32"}
	regs := func(kernel, bias layers.Regularizer, allowed bool) error {
		for _, r := range []struct {
			key string
			r   layers.Regularizer
		}{{"kernel_regularizer", kernel}, {"bias_regularizer", bias}} {
			if r.r == nil {
				continue
			}
			l1l2, ok := r.r.(layers.L1L2)
			if !ok || !allowed {
				return fmt.Errorf("%s %T is not written (L1L2 on Conv1D/2D/3D, Conv2DTranspose and Dense only)", r.key, r.r)
			}
			cfg[r.key] = map[string]any{"class_name": "L1L2", "config": map[string]any{"l1": float64(l1l2.L1), "l2": float64(l1l2.L2)}}
		}
		return nil
	}
	conv := func(c layers.ConvConfig, kind convKind) error {
		if err := regs(c.KernelRegularizer, c.BiasRegularizer, kind == convPlain || kind == convTranspose); err != nil {
			return err
		}
		act, err := activationName(c.Activation)
		if err != nil {
			return err
		}
		if kind != convDepthwise {
			cfg["filters"] = c.Filters
		}
		if kind == convDepthwise || kind == convSeparable {
			cfg["depth_multiplier"] = max(c.DepthMultiplier, 1)
		}
		cfg["kernel_size"] = spatialList(c.KernelSize, spatial, 1)
		cfg["strides"] = spatialList(c.Strides, spatial, 1)
		cfg["padding"] = padName(c.Padding)
		cfg["data_format"] = "channels_last"
		cfg["dilation_rate"] = spatialList(c.DilationRate, spatial, 1)
		cfg["activation"] = act
		cfg["use_bias"] = !c.NoBias
		return nil
	}
	pool := func(c layers.PoolConfig) {
		cfg["pool_size"] = spatialList(c.PoolSize, spatial, 1)
		if c.Strides == nil {
			cfg["strides"] = cfg["pool_size"]
		} else {
			cfg["strides"] = spatialList(c.Strides, spatial, 1)
		}
		cfg["padding"] = padName(c.Padding)
		cfg["data_format"] = "channels_last"
	}
	var err error
	var class string
	switch l := l.(type) {
	case *layers.Conv2D:
		class, err = "Conv2D", conv(l.Config(), convPlain)
	case *layers.Conv1D:
		class, err = "Conv1D", conv(l.Config(), convPlain)
	case *layers.Conv3D:
		class, err = "Conv3D", conv(l.Config(), convPlain)
	case *layers.Conv2DTranspose:
		class, err = "Conv2DTranspose", conv(l.Config(), convTranspose)
	case *layers.DepthwiseConv2D:
		class, err = "DepthwiseConv2D", conv(l.Config(), convDepthwise)
	case *layers.SeparableConv2D:
		class, err = "SeparableConv2D", conv(l.Config(), convSeparable)
	case *layers.Dense:
		c := l.Config()
		class = "Dense"
		cfg["units"] = c.Units
		cfg["use_bias"] = !c.NoBias
		if cfg["activation"], err = activationName(c.Activation); err == nil {
			err = regs(c.KernelRegularizer, c.BiasRegularizer, true)
		}
	case *layers.BatchNormalization:
		c := l.Config()
		class = "BatchNormalization"
		cfg["axis"] = -1
		cfg["momentum"] = float64(c.Momentum)
		if c.Momentum == 0 {
			cfg["momentum"] = 0.99
		}
		cfg["epsilon"] = float64(c.Epsilon)
		if c.Epsilon == 0 {
			cfg["epsilon"] = 1e-3
		}
		cfg["center"], cfg["scale"] = !c.NoCenter, !c.NoScale
	case *layers.MaxPooling2D:
		class = "MaxPooling2D"
		pool(l.Config())
	case *layers.AveragePooling2D:
		class = "AveragePooling2D"
		pool(l.Config())
	case *layers.MaxPooling1D:
		class = "MaxPooling1D"
		pool(l.Config())
	case *layers.AveragePooling1D:
		class = "AveragePooling1D"
		pool(l.Config())
	case *layers.MaxPooling3D:
		class = "MaxPooling3D"
		pool(l.Config())
	case *layers.AveragePooling3D:
		class = "AveragePooling3D"
		pool(l.Config())
	case *layers.GlobalAveragePooling2D:
		class = "GlobalAveragePooling2D"
		cfg["data_format"] = "channels_last"
	case *layers.GlobalMaxPooling2D:
		class = "GlobalMaxPooling2D"
		cfg["data_format"] = "channels_last"
	case *layers.Flatten:
		class = "Flatten"
		cfg["data_format"] = "channels_last"
	case *layers.Dropout:
		class = "Dropout"
		cfg["rate"] = float64(l.Rate())
	case *layers.ReLU:
		class = "ReLU"
	default:
		return "", nil, fmt.Errorf("keras: layer %s (%T): FromSequential writes Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, Dense, BatchNormalization, pooling, Flatten, Dropout and ReLU layers only", l.Name(), l)
	}
	if err != nil {
		return "", nil, fmt.Errorf("keras: layer %s (%s): %v", l.Name(), class, err)
	}
	return class, cfg, nil
}

// FromSequential describes a convnet Sequential taking inputs of
// per-example shape inputShape as a Keras Sequential (an InputLayer named
// "input", then one entry per layer under the layer's name) and copies
// its weights, so the result computes the same outputs (and the same
// L1L2 penalties) and can be saved with Save or ToJSON. Dropout's seed is
// not written (Keras's config has none unless set). Layers without a
// Keras config writer, activations without a Keras name and other
// regularizers are errors naming the layer.
func FromSequential(s *layers.Sequential, inputShape []int) (*Model, error) {
	in := append([]int{1}, inputShape...)
	if err := s.Build(in); err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	batchShape := append([]any{nil}, toAny(inputShape)...)
	ls := []map[string]any{{"class_name": "InputLayer", "config": map[string]any{
		"batch_input_shape": batchShape, "dtype": "float32", "sparse": false, "ragged": false, "name": "input"}}}
	shape := in
	for _, l := range s.Layers() {
		class, cfg, err := layerConfig(l, max(len(shape)-2, 1))
		if err != nil {
			return nil, err
		}
		ls = append(ls, map[string]any{"class_name": class, "config": cfg})
		if shape, err = l.OutputShape(shape); err != nil {
			return nil, fmt.Errorf("keras: %w", err)
		}
	}
	js, err := json.Marshal(map[string]any{"class_name": "Sequential", "config": map[string]any{"name": s.Name(), "layers": ls}})
	if err != nil {
		return nil, err
	}
	m, err := ParseJSON(js)
	if err != nil {
		return nil, err
	}
	if err := m.SetWeights(s.Weights()); err != nil {
		return nil, err
	}
	return m, nil
}

func toAny(v []int) []any {
	out := make([]any, len(v))
	for i, d := range v {
		out[i] = d
	}
	return out
}
