package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/layers"
)

// config reads one layer's Keras config (a JSON object) key by key and
// remembers which keys were read, so that done can refuse every key this
// package does not understand instead of ignoring it.
type config struct {
	class, name string
	raw         map[string]json.RawMessage
	used        map[string]bool
	err         error
	// weights estimates the layer's weight count for an input shape
	// (batch first) before the layer allocates them; nil means none.
	weights func(in []int) float64
	// window is the size of a pooling window for an input shape, for
	// the cost estimate; nil means none.
	window func(in []int) float64
}

func newConfig(class, name string, raw map[string]json.RawMessage) *config {
	return &config{class: class, name: name, raw: raw, used: map[string]bool{}}
}

// fail records the first error, naming the layer and the key.
func (c *config) fail(key, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("keras: layer %s (%s): config key %q: %s", c.name, c.class, key, fmt.Sprintf(format, args...))
	}
}

// get returns the raw value of key and whether it is present and not null.
func (c *config) get(key string) (json.RawMessage, bool) {
	c.used[key] = true
	v, ok := c.raw[key]
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// integer decodes a JSON number holding a whole value that fits an int32.
func integer(v json.RawMessage) (int, bool) {
	var f float64
	if json.Unmarshal(v, &f) != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// ints reads a whole number or a list of whole numbers (Keras writes
// kernel_size as 3 or [3, 3]); absent or null gives nil.
func (c *config) ints(key string) []int {
	v, ok := c.get(key)
	if !ok {
		return nil
	}
	if n, ok := integer(v); ok {
		return []int{n}
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) != nil || len(list) == 0 || len(list) > 8 {
		c.fail(key, "got %s, want a whole number or a list of them", short(v))
		return nil
	}
	out := make([]int, len(list))
	for i, e := range list {
		n, ok := integer(e)
		if !ok {
			c.fail(key, "got %s, want a whole number or a list of them", short(v))
			return nil
		}
		out[i] = n
	}
	return out
}

// maxWindow bounds kernel, pool, stride, dilation and resize sizes.
const maxWindow = 1 << 16

// positive reads ints and checks that every value is in [1, maxWindow].
func (c *config) positive(key string) []int {
	v := c.ints(key)
	for _, d := range v {
		if d < 1 || d > maxWindow {
			c.fail(key, "got %v, want values from 1 to %d", v, maxWindow)
			return nil
		}
	}
	return v
}

// integer reads one whole number, def when absent.
func (c *config) integer(key string, def int) int {
	v, ok := c.get(key)
	if !ok {
		return def
	}
	n, ok := integer(v)
	if !ok {
		c.fail(key, "got %s, want a whole number", short(v))
	}
	return n
}

// float reads a number, def when absent.
func (c *config) float(key string, def float64) float64 {
	v, ok := c.get(key)
	if !ok {
		return def
	}
	var f float64
	if json.Unmarshal(v, &f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		c.fail(key, "got %s, want a number", short(v))
	}
	return f
}

// boolean reads true or false, def when absent.
func (c *config) boolean(key string, def bool) bool {
	v, ok := c.get(key)
	if !ok {
		return def
	}
	var b bool
	if json.Unmarshal(v, &b) != nil {
		c.fail(key, "got %s, want true or false", short(v))
	}
	return b
}

// str reads a string, def when absent.
func (c *config) str(key, def string) string {
	v, ok := c.get(key)
	if !ok {
		return def
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		c.fail(key, "got %s, want a string", short(v))
	}
	return s
}

// oneOf reads a string that must be one of allowed (def when absent).
func (c *config) oneOf(key, def string, allowed ...string) string {
	s := c.str(key, def)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	c.fail(key, "got %q; supported: %s", s, strings.Join(allowed, ", "))
	return def
}

// null accepts key only when it is absent or null: the feature it turns
// on (a constraint, an activity regularizer, …) is not supported.
func (c *config) null(keys ...string) {
	for _, k := range keys {
		if v, ok := c.get(k); ok {
			c.fail(k, "got %s; only null is supported", short(v))
		}
	}
}

// ignore marks keys whose values do not change what a loaded model
// computes (the initializers: every weight comes from the weights file).
// They are kept in the config and written back unchanged.
func (c *config) ignore(keys ...string) {
	for _, k := range keys {
		c.used[k] = true
	}
}

// regularizer reads a kernel or bias regularizer: null, "l1", "l2",
// "l1_l2", or {"class_name": "L1L2" | "L1" | "L2", "config": {"l1": …,
// "l2": …}} as tf.keras 2 and TF.js write it.
func (c *config) regularizer(key string) layers.Regularizer {
	v, ok := c.get(key)
	if !ok {
		return nil
	}
	var name string
	if json.Unmarshal(v, &name) == nil {
		r, err := layers.RegularizerByName(name)
		if err != nil {
			c.fail(key, "%v", err)
		}
		return r
	}
	var obj struct {
		ClassName string          `json:"class_name"`
		Config    json.RawMessage `json:"config"`
	}
	var factors struct {
		L1 *float64 `json:"l1"`
		L2 *float64 `json:"l2"`
	}
	want := `want null, a name or {"class_name": "L1L2", "config": {"l1": …, "l2": …}}`
	if decodeStrict(v, &obj, key) != nil {
		c.fail(key, "got %s, %s", short(v), want)
		return nil
	}
	switch obj.ClassName {
	case "L1L2", "L1", "L2":
	default:
		c.fail(key, "regularizer class %q; supported: L1L2, L1, L2", obj.ClassName)
		return nil
	}
	if obj.Config == nil || decodeStrict(obj.Config, &factors, key) != nil {
		c.fail(key, "got %s, %s", short(v), want)
		return nil
	}
	get := func(p *float64, what string) float32 {
		if p == nil {
			return 0
		}
		if *p < 0 || math.IsInf(*p, 0) || math.IsNaN(*p) {
			c.fail(key, "%s factor %g, want a non-negative number", what, *p)
		}
		return float32(*p)
	}
	if (obj.ClassName == "L1" && factors.L2 != nil) || (obj.ClassName == "L2" && factors.L1 != nil) {
		c.fail(key, "%s with both factors", obj.ClassName)
	}
	return layers.L1L2{L1: get(factors.L1, "l1"), L2: get(factors.L2, "l2")}
}

// common reads the keys every layer has: name, trainable, dtype.
func (c *config) common() {
	c.str("name", "")
	if !c.boolean("trainable", true) {
		c.fail("trainable", "false is not supported (frozen layers)")
	}
	c.oneOf("dtype", "float32", "float32")
}

// channelsLast accepts data_format channels_last (or absent).
func (c *config) channelsLast() {
	c.oneOf("data_format", "channels_last", "channels_last")
}

// done returns the first error, or an error naming every key no reader
// asked for.
func (c *config) done() error {
	if c.err != nil {
		return c.err
	}
	var unknown []string
	for k := range c.raw {
		if !c.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("keras: layer %s (%s): unsupported config key(s) %q", c.name, c.class, unknown)
	}
	return nil
}

// short quotes a JSON value for an error message, cut to 60 bytes.
func short(v json.RawMessage) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
