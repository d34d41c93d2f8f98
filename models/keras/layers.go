package keras

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/layers"
)

// builders maps each supported Keras layer class to the function making
// the convnet layer from its config. Each reads every key it supports;
// config.done then refuses the rest.
var builders = map[string]func(c *config) any{
	"Conv1D":                 func(c *config) any { return layers.NewConv1D(c.name, convConfig(c, convPlain)) },
	"Conv2D":                 func(c *config) any { return layers.NewConv2D(c.name, convConfig(c, convPlain)) },
	"Conv3D":                 func(c *config) any { return layers.NewConv3D(c.name, convConfig(c, convPlain)) },
	"Conv2DTranspose":        func(c *config) any { return layers.NewConv2DTranspose(c.name, convConfig(c, convTranspose)) },
	"DepthwiseConv2D":        func(c *config) any { return layers.NewDepthwiseConv2D(c.name, convConfig(c, convDepthwise)) },
	"SeparableConv2D":        func(c *config) any { return layers.NewSeparableConv2D(c.name, convConfig(c, convSeparable)) },
	"Dense":                  dense,
	"BatchNormalization":     batchNorm,
	"MaxPooling1D":           func(c *config) any { return layers.NewMaxPooling1D(c.name, poolConfig(c)) },
	"MaxPooling2D":           func(c *config) any { return layers.NewMaxPooling2D(c.name, poolConfig(c)) },
	"MaxPooling3D":           func(c *config) any { return layers.NewMaxPooling3D(c.name, poolConfig(c)) },
	"AveragePooling1D":       func(c *config) any { return layers.NewAveragePooling1D(c.name, poolConfig(c)) },
	"AveragePooling2D":       func(c *config) any { return layers.NewAveragePooling2D(c.name, poolConfig(c)) },
	"AveragePooling3D":       func(c *config) any { return layers.NewAveragePooling3D(c.name, poolConfig(c)) },
	"GlobalAveragePooling2D": func(c *config) any { globalPool(c); return layers.NewGlobalAveragePooling2D(c.name) },
	"GlobalMaxPooling2D":     func(c *config) any { globalPool(c); return layers.NewGlobalMaxPooling2D(c.name) },
	"Flatten":                func(c *config) any { c.channelsLast(); return layers.NewFlatten(c.name) },
	"Dropout": func(c *config) any {
		rate := c.float("rate", 0)
		c.null("noise_shape")
		seed := c.integer("seed", 0)
		return layers.NewDropout(c.name, float32(rate), uint64(seed))
	},
	"SpatialDropout2D": func(c *config) any {
		rate := c.float("rate", 0)
		c.channelsLast()
		c.null("noise_shape")
		seed := c.integer("seed", 0)
		return layers.NewSpatialDropout2D(c.name, float32(rate), uint64(seed))
	},
	"Reshape": reshape,
	"ZeroPadding2D": func(c *config) any {
		c.channelsLast()
		return layers.NewZeroPadding2D(c.name, zeroPadding(c)...)
	},
	"UpSampling2D": func(c *config) any {
		c.channelsLast()
		size := c.positive("size")
		return layers.NewUpSampling2D(c.name, size, c.oneOf("interpolation", "nearest", "nearest", "bilinear"))
	},
	"Activation": func(c *config) any {
		name := c.str("activation", "")
		if _, err := layers.ActivationByName(name); err != nil {
			c.fail("activation", "%v", err)
		}
		return layers.NewActivation(c.name, name)
	},
	"ReLU": func(c *config) any {
		if c.float("negative_slope", 0) != 0 {
			c.fail("negative_slope", "only 0 is supported (use LeakyReLU)")
		}
		if c.float("threshold", 0) != 0 {
			c.fail("threshold", "only 0 is supported")
		}
		if _, ok := c.get("max_value"); ok {
			// min(max(x, 0), 6), MobileNet's ReLU6, is the one cap supported.
			if v := c.float("max_value", 0); v != 6 {
				c.fail("max_value", "got %g; only null and 6 are supported", v)
			}
			return layers.NewActivation(c.name, "relu6")
		}
		return layers.NewReLU(c.name)
	},
	"ELU": func(c *config) any {
		if a := c.float("alpha", 1); a != 1 {
			c.fail("alpha", "got %g; only 1 is supported", a)
		}
		return layers.NewActivation(c.name, "elu")
	},
	"Softmax": func(c *config) any {
		if axis := c.ints("axis"); len(axis) > 1 || (len(axis) == 1 && axis[0] != -1) {
			c.fail("axis", "got %v; only -1 (the last axis) is supported", axis)
		}
		return layers.NewActivation(c.name, "softmax")
	},
	"LeakyReLU": func(c *config) any {
		return layers.NewLeakyReLU(c.name, float32(c.float("alpha", 0.3)))
	},
	"Add":      func(c *config) any { return layers.NewAdd(c.name) },
	"Subtract": func(c *config) any { return layers.NewSubtract(c.name) },
	"Multiply": func(c *config) any { return layers.NewMultiply(c.name) },
	"Average":  func(c *config) any { return layers.NewAverage(c.name) },
	"Maximum":  func(c *config) any { return layers.NewMaximum(c.name) },
	"Concatenate": func(c *config) any {
		return layers.NewConcatenate(c.name, c.integer("axis", -1))
	},
}

// SupportedClasses returns the Keras layer classes this package reads
// and writes, sorted ("InputLayer" included).
func SupportedClasses() []string {
	out := []string{"InputLayer"}
	for k := range builders {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newLayer makes the convnet layer for one Keras layer entry (a
// layers.Layer or a layers.MultiLayer) with its size estimates.
func newLayer(class, name string, raw map[string]json.RawMessage) (*layerSpec, error) {
	b, ok := builders[class]
	if !ok {
		return nil, unknownClass(class, name)
	}
	c := newConfig(class, name, raw)
	c.common()
	l := b(c)
	if err := c.done(); err != nil {
		return nil, err
	}
	return &layerSpec{class: class, name: name, config: raw, layer: l, weights: c.weights, window: c.window}, nil
}

// windowSize returns the product of a kernel's sizes over the spatial
// dimensions of an input of rank len(in) (one value stands for all).
func windowSize(kernel []int, in []int) float64 {
	spatial := max(len(in)-2, 1)
	p := 1.0
	for i := range spatial {
		p *= float64(kernel[min(i, len(kernel)-1)])
	}
	return p
}

// channels returns the last dimension of in (the channels or features).
func channels(in []int) float64 {
	if len(in) == 0 {
		return 0
	}
	return float64(in[len(in)-1])
}

type convKind int

const (
	convPlain convKind = iota
	convTranspose
	convDepthwise
	convSeparable
)

// convConfig reads the keys of Keras's convolution layers.
func convConfig(c *config, kind convKind) layers.ConvConfig {
	var cfg layers.ConvConfig
	if kind != convDepthwise {
		cfg.Filters = c.integer("filters", 0)
		if cfg.Filters < 1 {
			c.fail("filters", "got %d, want a positive number", cfg.Filters)
		}
	}
	cfg.KernelSize = c.positive("kernel_size")
	if cfg.KernelSize == nil {
		c.fail("kernel_size", "missing")
	}
	cfg.Strides = c.positive("strides")
	cfg.Padding = strings.ToUpper(c.oneOf("padding", "valid", "valid", "same"))
	c.channelsLast()
	cfg.DilationRate = c.positive("dilation_rate")
	if g := c.integer("groups", 1); g != 1 {
		c.fail("groups", "got %d; only 1 is supported", g)
	}
	if kind == convDepthwise || kind == convSeparable {
		cfg.DepthMultiplier = c.integer("depth_multiplier", 1)
		if cfg.DepthMultiplier < 1 {
			c.fail("depth_multiplier", "got %d, want a positive number", cfg.DepthMultiplier)
		}
	}
	if kind == convTranspose {
		c.null("output_padding")
	}
	cfg.Activation = activation(c)
	cfg.NoBias = !c.boolean("use_bias", true)
	if cfg.KernelSize != nil {
		k, f, m := cfg.KernelSize, float64(cfg.Filters), float64(max(cfg.DepthMultiplier, 1))
		c.weights = func(in []int) float64 {
			w, cin := windowSize(k, in), channels(in)
			switch kind {
			case convDepthwise:
				return w*cin*m + cin*m
			case convSeparable:
				return w*cin*m + cin*m*f + f
			}
			return w*cin*f + f
		}
	}
	c.ignore("bias_initializer")
	c.null("bias_constraint", "activity_regularizer")
	switch kind {
	case convDepthwise:
		c.ignore("depthwise_initializer")
		c.null("depthwise_regularizer", "depthwise_constraint", "bias_regularizer")
	case convSeparable:
		c.ignore("depthwise_initializer", "pointwise_initializer")
		c.null("depthwise_regularizer", "depthwise_constraint", "pointwise_regularizer", "pointwise_constraint", "bias_regularizer")
	default:
		c.ignore("kernel_initializer")
		c.null("kernel_constraint")
		cfg.KernelRegularizer = c.regularizer("kernel_regularizer")
		cfg.BiasRegularizer = c.regularizer("bias_regularizer")
	}
	return cfg
}

// activation reads the activation key (absent: linear).
func activation(c *config) layers.Activation {
	name := c.str("activation", "linear")
	a, err := layers.ActivationByName(name)
	if err != nil {
		c.fail("activation", "%v", err)
	}
	return a
}

func dense(c *config) any {
	var cfg layers.DenseConfig
	cfg.Units = c.integer("units", 0)
	if cfg.Units < 1 {
		c.fail("units", "got %d, want a positive number", cfg.Units)
	}
	cfg.Activation = activation(c)
	cfg.NoBias = !c.boolean("use_bias", true)
	units := float64(cfg.Units)
	c.weights = func(in []int) float64 { return channels(in)*units + units }
	c.ignore("kernel_initializer", "bias_initializer")
	cfg.KernelRegularizer = c.regularizer("kernel_regularizer")
	cfg.BiasRegularizer = c.regularizer("bias_regularizer")
	c.null("activity_regularizer", "kernel_constraint", "bias_constraint")
	return layers.NewDense(c.name, cfg)
}

// batchNorm reads BatchNormalization; axis must be the last one (−1, or
// its index, checked against the input rank when the graph is built).
func batchNorm(c *config) any {
	var cfg layers.BatchNormConfig
	axis := c.ints("axis")
	if len(axis) > 1 {
		c.fail("axis", "got %v; one axis (the last) is supported", axis)
	}
	cfg.Momentum = float32(c.float("momentum", 0.99))
	cfg.Epsilon = float32(c.float("epsilon", 1e-3))
	if cfg.Epsilon <= 0 {
		c.fail("epsilon", "got %g, want a positive number", cfg.Epsilon)
	}
	if cfg.Momentum == 0 {
		cfg.Momentum = 1e-9 // layers reads 0 as "default"; Keras's 0 means no memory
	}
	cfg.NoCenter = !c.boolean("center", true)
	cfg.NoScale = !c.boolean("scale", true)
	c.ignore("beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer")
	c.null("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")
	if c.boolean("synchronized", false) {
		c.fail("synchronized", "true is not supported")
	}
	c.weights = func(in []int) float64 { return 4 * channels(in) }
	l := layers.NewBatchNormalization(c.name, cfg)
	if len(axis) == 1 && axis[0] != -1 {
		return &lastAxis{BatchNormalization: l, axis: axis[0]}
	}
	return l
}

// poolConfig reads the pooling layers' keys.
func poolConfig(c *config) layers.PoolConfig {
	var cfg layers.PoolConfig
	cfg.PoolSize = c.positive("pool_size")
	if cfg.PoolSize == nil {
		c.fail("pool_size", "missing")
	}
	cfg.Strides = c.positive("strides")
	cfg.Padding = strings.ToUpper(c.oneOf("padding", "valid", "valid", "same"))
	c.channelsLast()
	if k := cfg.PoolSize; k != nil {
		c.window = func(in []int) float64 { return windowSize(k, in) }
	}
	return cfg
}

func globalPool(c *config) {
	c.channelsLast()
	if c.boolean("keepdims", false) {
		c.fail("keepdims", "true is not supported")
	}
}

// reshape reads target_shape; TF.js writes the inferred −1 as null.
func reshape(c *config) any {
	v, ok := c.get("target_shape")
	if !ok {
		c.fail("target_shape", "missing")
		return layers.NewReshape(c.name)
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) != nil || len(list) == 0 || len(list) > 8 {
		c.fail("target_shape", "got %s, want a list of dimensions", short(v))
		return layers.NewReshape(c.name)
	}
	target := make([]int, len(list))
	for i, e := range list {
		if isNull(e) {
			target[i] = -1
			continue
		}
		n, ok := integer(e)
		if !ok || (n < 1 && n != -1) {
			c.fail("target_shape", "got %s, want positive dimensions and at most one -1 or null", short(v))
			break
		}
		target[i] = n
	}
	return layers.NewReshape(c.name, target...)
}

// zeroPadding reads ZeroPadding2D's padding: p, [h, w] or [[t, b], [l, r]].
func zeroPadding(c *config) []int {
	v, ok := c.get("padding")
	if !ok {
		return []int{1}
	}
	if n, ok := integer(v); ok && n >= 0 {
		return []int{n}
	}
	var pairs [][]int
	if json.Unmarshal(v, &pairs) == nil && len(pairs) == 2 && len(pairs[0]) == 2 && len(pairs[1]) == 2 {
		p := []int{pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1]}
		for _, d := range p {
			if d < 0 || d > 1<<20 {
				c.fail("padding", "got %s, want non-negative sizes", short(v))
			}
		}
		return p
	}
	var two []int
	if json.Unmarshal(v, &two) == nil && len(two) == 2 && two[0] >= 0 && two[1] >= 0 && two[0] <= 1<<20 && two[1] <= 1<<20 {
		return two
	}
	c.fail("padding", "got %s, want p, [h, w] or [[top, bottom], [left, right]] of non-negative sizes", short(v))
	return []int{0}
}

// lastAxis is a BatchNormalization whose config names the last axis by
// its index (Keras 2 writes "axis": [3] for NHWC data): building it for
// an input of another rank is an error.
type lastAxis struct {
	*layers.BatchNormalization
	axis int
}

func (l *lastAxis) check(in []int) error {
	if l.axis != len(in)-1 {
		return fmt.Errorf("keras: layer %s (BatchNormalization): config key \"axis\": got %d for inputs of shape %v; only the last axis (%d or -1) is supported", l.Name(), l.axis, in, len(in)-1)
	}
	return nil
}

// OutputShape checks the axis, then defers to BatchNormalization.
func (l *lastAxis) OutputShape(in []int) ([]int, error) {
	if err := l.check(in); err != nil {
		return nil, err
	}
	return l.BatchNormalization.OutputShape(in)
}

// Build checks the axis, then builds the BatchNormalization.
func (l *lastAxis) Build(in []int) error {
	if err := l.check(in); err != nil {
		return err
	}
	return l.BatchNormalization.Build(in)
}

// unknownClass is the error for a layer class without a builder.
func unknownClass(class, name string) error {
	return fmt.Errorf("keras: layer %s: unsupported layer class %q (supported: %s)", name, class, strings.Join(SupportedClasses(), ", "))
}
