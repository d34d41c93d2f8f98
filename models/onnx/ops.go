package onnx

// The op table: which ops run, which attributes each accepts, and the
// shape, data-movement and elementwise ops. Convolutions and pooling are
// in ops_conv.go.
//
// Layouts are ONNX's: X [N, C, spatial…] channels-first, which the nn ops
// take natively with DataFormat "NCW"/"NCHW"/"NCDHW".

import (
	"fmt"
	"math"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// opDef describes one op: its attributes, input count, an optional
// load-time check and preparation, and its evaluation.
type opDef struct {
	attrs        []string
	minIn, maxIn int
	check        func(n *node, opset int64) error
	prepare      func(n *node, m *Model) error
	run          func(c *call) ([]value, error)
	// exactInts lists the inputs that may be integers: they run exactly
	// through float32 (|x| ≤ 2²⁴), and output 0 returns to input 0's
	// integer type.
	exactInts []int
	// layoutAware ops take values stored channels-last (value.nhwc) as
	// they are; the others get them transposed to their logical layout.
	layoutAware bool
}

// call is one evaluation of a node: its inputs (has[i] false for an
// omitted optional input) and the model's opset.
type call struct {
	n     *node
	in    []value
	has   []bool
	opset int64
}

const many = 1 << 20

var opDefs map[string]*opDef

func init() {
	unary := func(f func(*tensor.Tensor) *tensor.Tensor) *opDef {
		return &opDef{minIn: 1, maxIn: 1, layoutAware: true, run: func(c *call) ([]value, error) {
			x, nhwc, err := c.stored(0)
			if err != nil {
				return nil, err
			}
			return []value{{f: f(x), dt: dtFloat, nhwc: nhwc}}, nil
		}}
	}
	binary := func(f func(a, b *tensor.Tensor) (*tensor.Tensor, error)) *opDef {
		return &opDef{minIn: 2, maxIn: 2, layoutAware: true, run: func(c *call) ([]value, error) { return c.binary(f) }}
	}
	opDefs = map[string]*opDef{
		"Conv":               {layoutAware: true, attrs: []string{"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, minIn: 2, maxIn: 3, check: checkConv, prepare: prepareConv, run: runConv},
		"ConvTranspose":      {attrs: []string{"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"}, minIn: 2, maxIn: 3, check: checkConv, prepare: prepareConv, run: runConvTranspose},
		"MaxPool":            {layoutAware: true, attrs: []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}, minIn: 1, maxIn: 1, check: checkPool, run: runPool, exactInts: []int{0}},
		"AveragePool":        {layoutAware: true, attrs: []string{"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}, minIn: 1, maxIn: 1, check: checkPool, run: runPool},
		"GlobalAveragePool":  {layoutAware: true, minIn: 1, maxIn: 1, run: runGlobalPool},
		"GlobalMaxPool":      {layoutAware: true, minIn: 1, maxIn: 1, run: runGlobalPool},
		"BatchNormalization": {layoutAware: true, attrs: []string{"epsilon", "momentum", "spatial", "training_mode"}, minIn: 5, maxIn: 5, check: checkBatchNorm, run: runBatchNorm},
		"Gemm":               {attrs: []string{"alpha", "beta", "transA", "transB"}, minIn: 2, maxIn: 3, run: runGemm},
		"MatMul":             {minIn: 2, maxIn: 2, run: runMatMul},
		"Add":                binary(nn.Add),
		"Sub":                binary(nn.Sub),
		"Mul":                binary(nn.Mul),
		"Div":                binary(nn.Div),
		"Relu":               unary(nn.Relu),
		"Exp":                unary(nn.Exp),
		"Log":                unary(nn.Log),
		"Sqrt":               unary(nn.Sqrt),
		"Neg":                unary(nn.Neg),
		"Abs":                unary(nn.Abs),
		"ReduceMax":          {attrs: []string{"axes", "keepdims", "noop_with_empty_axes"}, minIn: 1, maxIn: 2, check: movedToInputs(18, "axes"), run: runReduce},
		"ReduceMean":         {attrs: []string{"axes", "keepdims", "noop_with_empty_axes"}, minIn: 1, maxIn: 2, check: movedToInputs(18, "axes"), run: runReduce},
		"ReduceSum":          {attrs: []string{"axes", "keepdims", "noop_with_empty_axes"}, minIn: 1, maxIn: 2, check: movedToInputs(13, "axes"), run: runReduce},
		"Pad":                {attrs: []string{"mode", "pads", "value"}, minIn: 1, maxIn: 4, check: movedToInputs(11, "pads", "value"), run: runPad, exactInts: []int{0, 2}},
		"Sigmoid":            unary(nn.Sigmoid),
		"Tanh":               unary(nn.Tanh),
		"LeakyRelu":          {attrs: []string{"alpha"}, minIn: 1, maxIn: 1, layoutAware: true, run: runLeakyRelu},
		"Clip":               {attrs: []string{"min", "max"}, minIn: 1, maxIn: 3, check: movedToInputs(11, "min", "max"), run: runClip, exactInts: []int{0, 1, 2}},
		"Softmax":            {attrs: []string{"axis"}, minIn: 1, maxIn: 1, run: runSoftmax},
		"LogSoftmax":         {attrs: []string{"axis"}, minIn: 1, maxIn: 1, run: runSoftmax},
		"Flatten":            {attrs: []string{"axis"}, minIn: 1, maxIn: 1, run: runFlatten},
		"Reshape":            {attrs: []string{"allowzero"}, minIn: 2, maxIn: 2, run: runReshape},
		"Transpose":          {attrs: []string{"perm"}, minIn: 1, maxIn: 1, layoutAware: true, run: runTranspose},
		"Concat":             {attrs: []string{"axis"}, minIn: 1, maxIn: many, run: runConcat},
		"Squeeze":            {attrs: []string{"axes"}, minIn: 1, maxIn: 2, check: movedToInputs(13, "axes"), run: runSqueeze},
		"Unsqueeze":          {attrs: []string{"axes"}, minIn: 1, maxIn: 2, check: movedToInputs(13, "axes"), run: runUnsqueeze},
		"Identity":           {minIn: 1, maxIn: 1, layoutAware: true, run: func(c *call) ([]value, error) { return c.in[:1], nil }},
		"Dropout":            {attrs: []string{"ratio", "seed"}, minIn: 1, maxIn: 3, run: runDropout},
		"Constant":           {attrs: []string{"value", "value_float", "value_floats", "value_int", "value_ints"}, minIn: 0, maxIn: 0, check: checkConstant, run: runConstant},
		"Shape":              {attrs: []string{"start", "end"}, minIn: 1, maxIn: 1, layoutAware: true, run: runShape},
		"Gather":             {attrs: []string{"axis"}, minIn: 2, maxIn: 2, run: runGather},
		"Cast":               {attrs: []string{"to"}, minIn: 1, maxIn: 1, check: checkCast, run: runCast},
	}
}

// movedToInputs checks an op whose attributes became inputs at opset
// since: before it the node takes only input 0, from it none of the
// attributes.
func movedToInputs(since int64, attrs ...string) func(n *node, opset int64) error {
	return func(n *node, opset int64) error {
		if opset < since {
			if len(n.inputs) > 1 {
				return n.errorf("%d inputs at opset %d; %v are attributes before opset %d", len(n.inputs), opset, attrs, since)
			}
			return nil
		}
		for _, a := range attrs {
			if _, ok := n.attrs[a]; ok {
				return n.attrErrorf(a, "is an input from opset %d on (the model's opset is %d)", since, opset)
			}
		}
		return nil
	}
}

// fits reports whether shape holds at most maxRunElems elements.
func fits(shape []int) bool {
	n := 1
	for _, d := range shape {
		if d != 0 && n > maxRunElems/d {
			return false
		}
		n *= d
	}
	return true
}

func one(t *tensor.Tensor) []value { return []value{floatValue(t)} }

// ---- attributes ----

func (n *node) attrInt(name string, def int64) (int64, error) {
	a, ok := n.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != atInt && a.typ != 0 {
		return 0, n.attrErrorf(name, "type %d, want INT", a.typ)
	}
	return a.i, nil
}

func (n *node) attrFloat(name string, def float32) (float32, error) {
	a, ok := n.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != atFloat && a.typ != 0 {
		return 0, n.attrErrorf(name, "type %d, want FLOAT", a.typ)
	}
	return a.f, nil
}

func (n *node) attrString(name, def string) (string, error) {
	a, ok := n.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != atString && a.typ != 0 {
		return "", n.attrErrorf(name, "type %d, want STRING", a.typ)
	}
	return string(a.s), nil
}

// attrInts returns an INTS attribute (nil, false when absent).
func (n *node) attrInts(name string) ([]int64, bool, error) {
	a, ok := n.attrs[name]
	if !ok {
		return nil, false, nil
	}
	if a.typ != atInts && a.typ != 0 {
		return nil, false, n.attrErrorf(name, "type %d, want INTS", a.typ)
	}
	return a.ints, true, nil
}

// ---- inputs ----

func (c *call) present(i int) bool { return i < len(c.in) && c.has[i] }

// float returns input i as a float tensor in its logical layout.
func (c *call) float(i int) (*tensor.Tensor, error) {
	if !c.present(i) {
		return nil, c.n.errorf("input %d is missing", i)
	}
	if c.in[i].nhwc {
		return c.in[i].materialized().f, nil
	}
	if c.in[i].isInt() {
		if slices.Contains(c.n.def.exactInts, i) {
			return c.intsToFloat(i)
		}
		return nil, c.n.unsupportedf("input %d (%q) is %s; this op runs on float tensors only", i, c.n.inputs[i], dtName(c.in[i].dt))
	}
	return c.in[i].f, nil
}

// stored returns float input i as stored, and whether that is
// channels-last (value.nhwc), for elementwise ops that keep the layout.
func (c *call) stored(i int) (*tensor.Tensor, bool, error) {
	if c.present(i) && c.in[i].nhwc {
		return c.in[i].f, true, nil
	}
	x, err := c.float(i)
	return x, false, err
}

// channelsLast returns rank-4 float input i stored [N, H, W, C],
// transposing it when it is stored channels-first.
func (c *call) channelsLast(i int) (*tensor.Tensor, error) {
	if c.present(i) && c.in[i].nhwc {
		return c.in[i].f, nil
	}
	x, err := c.float(i)
	if err != nil {
		return nil, err
	}
	return transposeFloat(x, []int{0, 2, 3, 1}), nil
}

func (c *call) intsIn(i int) ([]int64, error) {
	if !c.present(i) {
		return nil, c.n.errorf("input %d is missing", i)
	}
	if !c.in[i].isInt() {
		return nil, c.n.errorf("input %d (%q) is float, want an integer tensor", i, c.n.inputs[i])
	}
	return c.in[i].ints, nil
}

// normAxis maps an axis in [−r, r) to [0, r).
func (c *call) normAxis(attr string, a int64, r int) (int, error) {
	if a < -int64(r) || a >= int64(r) {
		return 0, c.n.attrErrorf(attr, "axis %d out of range for rank %d", a, r)
	}
	if a < 0 {
		a += int64(r)
	}
	return int(a), nil
}

// ---- elementwise ----

// exactLimit is the largest integer magnitude float32 holds exactly.
const exactLimit = 1 << 24

// intsToFloat converts integer data to float32 when every value is
// exactly representable (|x| ≤ 2²⁴), as integer inputs run on the float
// nn ops.
func (c *call) intsToFloat(i int) (*tensor.Tensor, error) {
	v := c.in[i]
	f := make([]float32, len(v.ints))
	for j, x := range v.ints {
		if x > exactLimit || x < -exactLimit {
			return nil, c.n.unsupportedf("input %d (%q) is %s with value %d; integers run through float32 only up to 2^24 in magnitude", i, c.n.inputs[i], dtName(v.dt), x)
		}
		f[j] = float32(x)
	}
	return tensor.New(v.shape, f)
}

// floatToInts converts a float result of integer inputs back to element
// type dt: truncated toward zero (integer Div), checked to be exact, and
// wrapped to dt's width as C integer arithmetic wraps.
func (c *call) floatToInts(t *tensor.Tensor, dt int32) (value, error) {
	out := make([]int64, t.Len())
	for j, f := range t.Data() {
		x := math.Trunc(float64(f))
		if !(math.Abs(x) <= exactLimit) {
			return value{}, c.n.unsupportedf("%s result %g is beyond the 2^24 that float32 holds exactly", dtName(dt), f)
		}
		out[j] = wrapInt(int64(x), dt)
	}
	return value{ints: out, shape: append([]int{}, t.Shape()...), dt: dt}, nil
}

// wrapInt reduces x to the range of element type dt.
func wrapInt(x int64, dt int32) int64 {
	switch dt {
	case dtUint8:
		return x & 0xff
	case dtInt8:
		return int64(int8(x))
	case dtUint16:
		return x & 0xffff
	case dtInt16:
		return int64(int16(x))
	case dtUint32:
		return x & 0xffffffff
	case dtInt32:
		return int64(int32(x))
	case dtBool:
		if x != 0 {
			return 1
		}
	}
	return x
}

// binary runs a broadcasting op with nn. Integer inputs (shape arithmetic,
// or the 8- and 16-bit types) of one element type run exactly through
// float32 and come back wrapped to their type; integer Div truncates
// toward zero.
func (c *call) binary(f func(a, b *tensor.Tensor) (*tensor.Tensor, error)) ([]value, error) {
	a, b := c.in[0], c.in[1]
	if a.nhwc && b.nhwc && slices.Equal(a.f.Shape(), b.f.Shape()) {
		y, err := f(a.f, b.f) // elementwise in either layout
		if err != nil {
			return nil, c.n.errorf("%v", err)
		}
		return []value{{f: y, dt: dtFloat, nhwc: true}}, nil
	}
	a, b = a.materialized(), b.materialized()
	if a.isInt() != b.isInt() || (a.isInt() && a.dt != b.dt) {
		return nil, c.n.errorf("inputs of element types %s and %s; both must have one type", dtName(a.dt), dtName(b.dt))
	}
	af, bf := a.f, b.f
	if a.isInt() {
		var err error
		if af, err = c.intsToFloat(0); err != nil {
			return nil, err
		}
		if bf, err = c.intsToFloat(1); err != nil {
			return nil, err
		}
		if c.n.opType == "Div" && slices.Contains(b.ints, 0) {
			return nil, c.n.errorf("integer division by zero")
		}
	}
	if s, err := nn.BroadcastShape(af.Shape(), bf.Shape()); err == nil && !fits(s) {
		return nil, c.n.errorf("inputs %v and %v broadcast to a shape that is too large", af.Shape(), bf.Shape())
	}
	y, err := f(af, bf)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	if a.isInt() {
		v, err := c.floatToInts(y, a.dt)
		if err != nil {
			return nil, err
		}
		return []value{v}, nil
	}
	return one(y), nil
}

func runLeakyRelu(c *call) ([]value, error) {
	x, nhwc, err := c.stored(0)
	if err != nil {
		return nil, err
	}
	alpha, err := c.n.attrFloat("alpha", 0.01)
	if err != nil {
		return nil, err
	}
	return []value{{f: nn.LeakyRelu(x, alpha), dt: dtFloat, nhwc: nhwc}}, nil
}

// runClip is min(max(x, lo), hi) with lo, hi from the attributes before
// opset 11 and from the optional scalar inputs after.
func runClip(c *call) ([]value, error) {
	x, err := c.float(0)
	if err != nil {
		return nil, err
	}
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if c.opset < 11 {
		if lo, err = c.n.attrFloat("min", -math.MaxFloat32); err != nil {
			return nil, err
		}
		if hi, err = c.n.attrFloat("max", math.MaxFloat32); err != nil {
			return nil, err
		}
	} else {
		for i, dst := range []*float32{&lo, &hi} {
			if !c.present(i + 1) {
				continue
			}
			b, err := c.float(i + 1)
			if err != nil {
				return nil, err
			}
			if b.Len() != 1 {
				return nil, c.n.errorf("input %d (%s) must be a scalar, got shape %v", i+1, []string{"min", "max"}[i], b.Shape())
			}
			*dst = b.Data()[0]
		}
	}
	y, err := nn.Maximum(x, tensor.Full(lo))
	if err == nil {
		y, err = nn.Minimum(y, tensor.Full(hi))
	}
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return one(y), nil
}

// runSoftmax is Softmax or LogSoftmax. Before opset 13 the input is
// coerced to 2-D [Π dims[:axis], Π dims[axis:]] (default axis 1) and
// normalised along the second dimension; from 13 on it is normalised
// along the one axis (default −1).
func runSoftmax(c *call) ([]value, error) {
	x, err := c.float(0)
	if err != nil {
		return nil, err
	}
	f := nn.Softmax
	if c.n.opType == "LogSoftmax" {
		f = nn.LogSoftmax
	}
	def := int64(-1)
	if c.opset < 13 {
		def = 1
	}
	a, err := c.n.attrInt("axis", def)
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	if r == 0 {
		return nil, c.n.errorf("input is a scalar, want rank ≥ 1")
	}
	axis, err := c.normAxis("axis", a, r)
	if err != nil {
		return nil, err
	}
	shape := x.Shape()
	if c.opset < 13 || axis == r-1 {
		inner := tensor.Size(shape[axis:])
		x2, err := x.Reshape(tensor.Size(shape[:axis]), inner)
		if err != nil {
			return nil, c.n.errorf("%v", err)
		}
		y, err := f(x2)
		if err != nil {
			return nil, c.n.errorf("%v", err)
		}
		y, _ = y.Reshape(shape...)
		return one(y), nil
	}
	g := nn.SoftmaxAxis
	if c.n.opType == "LogSoftmax" {
		g = nn.LogSoftmaxAxis
	}
	y, err := g(x, axis)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return one(y), nil
}

// ---- shape and data movement ----

// reshaped returns v with a new shape (same data).
func reshaped(v value, shape []int) value {
	if v.isInt() {
		return value{ints: v.ints, shape: shape, dt: v.dt}
	}
	t, _ := v.f.Reshape(shape...) // callers keep the element count
	return floatValue(t)
}

func runFlatten(c *call) ([]value, error) {
	v := c.in[0]
	s := v.dims()
	a, err := c.n.attrInt("axis", 1)
	if err != nil {
		return nil, err
	}
	if a < -int64(len(s)) || a > int64(len(s)) {
		return nil, c.n.attrErrorf("axis", "%d out of range for rank %d", a, len(s))
	}
	if a < 0 {
		a += int64(len(s))
	}
	return []value{reshaped(v, []int{tensor.Size(s[:a]), tensor.Size(s[a:])})}, nil
}

func runReshape(c *call) ([]value, error) {
	v := c.in[0]
	want, err := c.intsIn(1)
	if err != nil {
		return nil, err
	}
	allowZero, err := c.n.attrInt("allowzero", 0)
	if err != nil {
		return nil, err
	}
	in := v.dims()
	shape := make([]int, len(want))
	infer, known := -1, 1
	for i, d := range want {
		switch {
		case d == 0 && allowZero == 0:
			if i >= len(in) {
				return nil, c.n.errorf("shape %v copies dimension %d (0) of an input of rank %d", want, i, len(in))
			}
			shape[i] = in[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d < 0 || d > int64(maxRunElems):
			return nil, c.n.errorf("shape %v has bad dimension %d", want, d)
		default:
			shape[i] = int(d)
		}
		if shape[i] != 0 && known > maxRunElems/shape[i] {
			return nil, c.n.errorf("shape %v is too large", want)
		}
		known *= shape[i]
	}
	n := v.size()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, c.n.errorf("cannot reshape %v (%d values) to %v", in, n, want)
		}
		shape[infer] = n / known
		known *= shape[infer]
	}
	if known != n {
		return nil, c.n.errorf("cannot reshape %v (%d values) to %v (%d values)", in, n, want, known)
	}
	return []value{reshaped(v, shape)}, nil
}

// permute returns src (shape) transposed by perm: out dim i is src dim
// perm[i].
func permute[T any](src []T, shape, perm []int) ([]T, []int) {
	r := len(shape)
	out := make([]T, len(src))
	oshape := make([]int, r)
	for i, p := range perm {
		oshape[i] = shape[p]
	}
	if len(src) == 0 {
		return out, oshape
	}
	stride := make([]int, r) // src strides
	s := 1
	for i := r - 1; i >= 0; i-- {
		stride[i] = s
		s *= shape[i]
	}
	ostr := make([]int, r) // src stride of each out dim
	for i, p := range perm {
		ostr[i] = stride[p]
	}
	idx := make([]int, r)
	off := 0
	for o := range out {
		out[o] = src[off]
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			off += ostr[d]
			if idx[d] < oshape[d] {
				break
			}
			off -= idx[d] * ostr[d]
			idx[d] = 0
		}
	}
	return out, oshape
}

// transposeFloat is nn.Transpose for a perm known to be valid.
func transposeFloat(x *tensor.Tensor, perm []int) *tensor.Tensor {
	y, err := nn.Transpose(x, perm)
	if err != nil {
		panic(err) // callers pass permutations of x's rank
	}
	return y
}

func runTranspose(c *call) ([]value, error) {
	v := c.in[0]
	r := len(v.dims())
	if p, ok, _ := c.n.attrInts("perm"); ok && r == 4 && !v.isInt() {
		switch {
		case v.nhwc && slices.Equal(p, []int64{0, 2, 3, 1}):
			return []value{{f: v.f, dt: v.dt}}, nil // already stored so
		case !v.nhwc && slices.Equal(p, []int64{0, 3, 1, 2}):
			return []value{{f: v.f, dt: v.dt, nhwc: true}}, nil // NHWC data read as NCHW
		}
	}
	v = v.materialized()
	p, ok, err := c.n.attrInts("perm")
	if err != nil {
		return nil, err
	}
	perm := make([]int, r)
	if !ok {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	} else {
		if len(p) != r {
			return nil, c.n.attrErrorf("perm", "%v has %d entries for an input of rank %d", p, len(p), r)
		}
		seen := make([]bool, r)
		for i, x := range p {
			if x < 0 || x >= int64(r) || seen[x] {
				return nil, c.n.attrErrorf("perm", "%v is not a permutation of 0…%d", p, r-1)
			}
			seen[x] = true
			perm[i] = int(x)
		}
	}
	if v.isInt() {
		d, s := permute(v.ints, v.shape, perm)
		return []value{{ints: d, shape: s, dt: v.dt}}, nil
	}
	return one(transposeFloat(v.f, perm)), nil
}

// concat joins integer tensors' data along axis: outer blocks of Π shape[:axis]
// rows, each input contributing its Π shape[axis:] run.
func concat[T any](parts [][]T, shapes [][]int, axis int) []T {
	outer := tensor.Size(shapes[0][:axis])
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	out := make([]T, 0, total)
	for o := 0; o < outer; o++ {
		for i, p := range parts {
			run := tensor.Size(shapes[i][axis:])
			out = append(out, p[o*run:(o+1)*run]...)
		}
	}
	return out
}

func runConcat(c *call) ([]value, error) {
	def := int64(0)
	if c.opset < 4 {
		def = 1 // Concat-1's default
	}
	a, err := c.n.attrInt("axis", def)
	if err != nil {
		return nil, err
	}
	if !c.present(0) {
		return nil, c.n.errorf("input 0 is missing")
	}
	first := c.in[0].dims()
	axis, err := c.normAxis("axis", a, max(len(first), 1))
	if err != nil {
		return nil, err
	}
	shapes := make([][]int, len(c.in))
	out := append([]int(nil), first...)
	if len(out) == 0 {
		return nil, c.n.errorf("input 0 is a scalar; Concat needs rank ≥ 1")
	}
	out[axis] = 0
	isInt := c.in[0].isInt()
	for i, v := range c.in {
		if !c.present(i) {
			return nil, c.n.errorf("input %d is missing", i)
		}
		s := v.dims()
		if v.isInt() != isInt {
			return nil, c.n.errorf("input %d mixes integer and float tensors", i)
		}
		if len(s) != len(first) {
			return nil, c.n.errorf("input %d has shape %v, input 0 %v: ranks differ", i, s, first)
		}
		for d := range s {
			if d != axis && s[d] != first[d] {
				return nil, c.n.errorf("input %d has shape %v, input 0 %v: they differ outside axis %d", i, s, first, axis)
			}
		}
		shapes[i] = s
		out[axis] += s[axis]
	}
	if isInt {
		parts := make([][]int64, len(c.in))
		for i, v := range c.in {
			parts[i] = v.ints
		}
		return []value{{ints: concat(parts, shapes, axis), shape: out, dt: c.in[0].dt}}, nil
	}
	parts := make([]*tensor.Tensor, len(c.in))
	for i, v := range c.in {
		parts[i] = v.f
	}
	y, err := nn.Concat(parts, axis)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return one(y), nil
}

// axesOf returns the axes of Squeeze/Unsqueeze: the attribute before
// opset 13, the optional second input from 13 on.
func (c *call) axesOf() ([]int64, bool, error) {
	if c.opset < 13 {
		return c.n.attrInts("axes")
	}
	if !c.present(1) {
		return nil, false, nil
	}
	a, err := c.intsIn(1)
	return a, true, err
}

func runSqueeze(c *call) ([]value, error) {
	v := c.in[0]
	s := v.dims()
	axes, ok, err := c.axesOf()
	if err != nil {
		return nil, err
	}
	drop := make([]bool, len(s))
	if !ok {
		for i, d := range s {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := c.normAxis("axes", a, len(s))
		if err != nil {
			return nil, err
		}
		if s[ax] != 1 {
			return nil, c.n.errorf("cannot squeeze axis %d of shape %v: its size is not 1", a, s)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range s {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return []value{reshaped(v, append([]int{}, out...))}, nil
}

func runUnsqueeze(c *call) ([]value, error) {
	v := c.in[0]
	s := v.dims()
	axes, ok, err := c.axesOf()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.n.errorf("axes are required")
	}
	r := len(s) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		ax, err := c.normAxis("axes", a, r)
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, c.n.errorf("axes %v repeat axis %d", axes, ax)
		}
		ins[ax] = true
	}
	out := make([]int, r)
	j := 0
	for i := range out {
		if ins[i] {
			out[i] = 1
		} else {
			out[i] = s[j]
			j++
		}
	}
	return []value{reshaped(v, out)}, nil
}

// runDropout is the identity (inference); the optional mask output is all
// true. A training_mode input that is true is refused.
func runDropout(c *call) ([]value, error) {
	if c.present(2) {
		t := c.in[2]
		if (t.isInt() && len(t.ints) > 0 && t.ints[0] != 0) || (!t.isInt() && t.f.Len() > 0 && t.f.Data()[0] != 0) {
			return nil, c.n.unsupportedf("training_mode is true; only inference (training_mode false) runs")
		}
	}
	out := []value{c.in[0]}
	if len(c.n.outputs) > 1 {
		mask := make([]int64, c.in[0].size())
		for i := range mask {
			mask[i] = 1
		}
		out = append(out, value{ints: mask, shape: c.in[0].dims(), dt: dtBool})
	}
	return out, nil
}

func checkConstant(n *node, _ int64) error {
	if len(n.attrs) != 1 {
		return n.errorf("needs exactly one of value, value_float, value_floats, value_int, value_ints; got %d attributes", len(n.attrs))
	}
	if a := n.attrs["value"]; a != nil && a.t == nil {
		return n.attrErrorf("value", "is not a tensor")
	}
	return nil
}

func runConstant(c *call) ([]value, error) {
	n := c.n
	for name, a := range n.attrs {
		switch name {
		case "value":
			t := *a.t // decodeData ran at load
			shape := make([]int, len(t.dims))
			for i, d := range t.dims {
				shape[i] = int(d)
			}
			if isFloat(t.dataType) {
				return one(tensor.Must(tensor.New(shape, append([]float32(nil), t.floats...)))), nil
			}
			return []value{{ints: t.ints, shape: shape, dt: t.dataType}}, nil
		case "value_float":
			return one(tensor.Full(a.f)), nil
		case "value_floats":
			return one(tensor.Must(tensor.New([]int{len(a.floats)}, append([]float32(nil), a.floats...)))), nil
		case "value_int":
			return []value{intValue(nil, []int64{a.i})}, nil
		case "value_ints":
			return []value{intValue([]int{len(a.ints)}, a.ints)}, nil
		}
	}
	return nil, n.errorf("no value attribute")
}

func runShape(c *call) ([]value, error) {
	s := c.in[0].dims()
	r := int64(len(s))
	start, err := c.n.attrInt("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := c.n.attrInt("end", r)
	if err != nil {
		return nil, err
	}
	clamp := func(x int64) int64 {
		if x < 0 {
			x += r
		}
		return min(max(x, 0), r)
	}
	start, end = clamp(start), clamp(end)
	var out []int64
	for i := start; i < end; i++ {
		out = append(out, int64(s[i]))
	}
	return []value{intValue([]int{len(out)}, out)}, nil
}

// runGather is numpy.take(data, indices, axis): out shape data[:axis] +
// indices + data[axis+1:]; negative indices count from the end.
func runGather(c *call) ([]value, error) {
	data := c.in[0]
	idx, err := c.intsIn(1)
	if err != nil {
		return nil, err
	}
	s := data.dims()
	a, err := c.n.attrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, c.n.errorf("data is a scalar; Gather needs rank ≥ 1")
	}
	axis, err := c.normAxis("axis", a, len(s))
	if err != nil {
		return nil, err
	}
	outer, inner, dim := tensor.Size(s[:axis]), tensor.Size(s[axis+1:]), s[axis]
	pos := make([]int, len(idx))
	for i, x := range idx {
		if x < -int64(dim) || x >= int64(dim) {
			return nil, c.n.errorf("index %d out of range for axis %d of size %d", x, axis, dim)
		}
		if x < 0 {
			x += int64(dim)
		}
		pos[i] = int(x)
	}
	shape := append(append(append([]int{}, s[:axis]...), c.in[1].shape...), s[axis+1:]...)
	if !fits(shape) {
		return nil, c.n.errorf("output %v is too large", shape)
	}
	if data.isInt() {
		return []value{{ints: gather(data.ints, outer, dim, inner, pos), shape: shape, dt: data.dt}}, nil
	}
	return one(tensor.Must(tensor.New(shape, gather(data.f.Data(), outer, dim, inner, pos)))), nil
}

func gather[T any](src []T, outer, dim, inner int, pos []int) []T {
	out := make([]T, 0, outer*len(pos)*inner)
	for o := 0; o < outer; o++ {
		for _, p := range pos {
			base := (o*dim + p) * inner
			out = append(out, src[base:base+inner]...)
		}
	}
	return out
}

func checkCast(n *node, _ int64) error {
	to, err := n.attrInt("to", -1)
	if err != nil {
		return err
	}
	if _, ok := elemSize[int32(to)]; !ok || to == dtFloat16 {
		return n.attrErrorf("to", "casting to %s is not supported", dtName(int32(to)))
	}
	return nil
}

// runCast converts between float and integer values; float to integer
// truncates toward zero, anything to BOOL is x ≠ 0.
func runCast(c *call) ([]value, error) {
	to64, _ := c.n.attrInt("to", -1)
	to := int32(to64)
	v := c.in[0]
	switch {
	case isFloat(to) && !v.isInt():
		return []value{{f: v.f, dt: to}}, nil
	case isFloat(to):
		f := make([]float32, len(v.ints))
		for i, x := range v.ints {
			f[i] = float32(x)
		}
		return []value{{f: tensor.Must(tensor.New(v.shape, f)), dt: to}}, nil
	}
	var src []int64
	if v.isInt() {
		src = v.ints
	} else {
		src = make([]int64, v.f.Len())
		for i, x := range v.f.Data() {
			src[i] = int64(x)
			if to == dtBool && x != 0 {
				src[i] = 1
			}
		}
	}
	out := make([]int64, len(src))
	for i, x := range src {
		if to == dtBool && x != 0 {
			x = 1
		}
		out[i] = x
	}
	return []value{{ints: out, shape: append([]int{}, v.dims()...), dt: to}}, nil
}

// runReduce is ReduceMax, ReduceMean and ReduceSum: axes from the
// attribute, or from the second input (ReduceSum from opset 13, the
// others from 18); no axes reduce everything unless noop_with_empty_axes.
func runReduce(c *call) ([]value, error) {
	x, err := c.float(0)
	if err != nil {
		return nil, err
	}
	var axes []int64
	given := false
	if c.present(1) {
		if axes, err = c.intsIn(1); err != nil {
			return nil, err
		}
		given = true
	} else if axes, given, err = c.n.attrInts("axes"); err != nil {
		return nil, err
	}
	keep, err := c.n.attrInt("keepdims", 1)
	if err != nil {
		return nil, err
	}
	noop, err := c.n.attrInt("noop_with_empty_axes", 0)
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 && noop != 0 {
		return one(x), nil
	}
	ax := make([]int, 0, x.Rank())
	if !given || len(axes) == 0 {
		for i := 0; i < x.Rank(); i++ {
			ax = append(ax, i)
		}
	}
	for _, a := range axes {
		i, err := c.normAxis("axes", a, x.Rank())
		if err != nil {
			return nil, err
		}
		ax = append(ax, i)
	}
	f := map[string]func(*tensor.Tensor, []int, bool) (*tensor.Tensor, error){
		"ReduceMax": nn.ReduceMax, "ReduceMean": nn.ReduceMean, "ReduceSum": nn.ReduceSum}[c.n.opType]
	y, err := f(x, ax, keep != 0)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return one(y), nil
}

// runPad is Pad in modes constant, reflect and edge (nn.Pad's CONSTANT,
// REFLECT, and SYMMETRIC by doubling steps); pads [b0, b1, …, e0, e1, …] come from the attribute before
// opset 11 and from the second input after, optionally for the given axes
// only (opset 18). Negative pads (cropping) are refused.
func runPad(c *call) ([]value, error) {
	x, err := c.float(0)
	if err != nil {
		return nil, err
	}
	mode, err := c.n.attrString("mode", "constant")
	if err != nil {
		return nil, err
	}
	var pads []int64
	val := float32(0)
	if c.opset < 11 {
		if pads, _, err = c.n.attrInts("pads"); err != nil {
			return nil, err
		}
		if val, err = c.n.attrFloat("value", 0); err != nil {
			return nil, err
		}
	} else {
		if pads, err = c.intsIn(1); err != nil {
			return nil, err
		}
		if c.present(2) {
			v, err := c.float(2)
			if err != nil {
				return nil, err
			}
			if v.Len() != 1 {
				return nil, c.n.errorf("constant_value has shape %v, want a scalar", v.Shape())
			}
			val = v.Data()[0]
		}
	}
	r := x.Rank()
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if c.present(3) {
		a, err := c.intsIn(3)
		if err != nil {
			return nil, err
		}
		axes = axes[:0]
		for _, v := range a {
			i, err := c.normAxis("axes", v, r)
			if err != nil {
				return nil, err
			}
			axes = append(axes, i)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, c.n.errorf("pads %v: want %d values (begin and end for each of %d axes)", pads, 2*len(axes), len(axes))
	}
	p := make([][2]int, r)
	grown := 1
	for j, a := range axes {
		b, e := pads[j], pads[len(axes)+j]
		if b < 0 || e < 0 {
			return nil, c.n.unsupportedf("negative pads %v (cropping)", pads)
		}
		if b > int64(maxRunElems) || e > int64(maxRunElems) {
			return nil, c.n.errorf("pads %v are too large", pads)
		}
		p[a] = [2]int{int(b), int(e)}
	}
	for i, d := range x.Shape() {
		n := d + p[i][0] + p[i][1]
		if n != 0 && grown > maxRunElems/n {
			return nil, c.n.errorf("padded shape is too large (pads %v on %v)", pads, x.Shape())
		}
		grown *= n
	}
	var y *tensor.Tensor
	switch mode {
	case "constant":
		y, err = nn.Pad(x, p, "CONSTANT", val)
	case "reflect":
		y, err = nn.Pad(x, p, "REFLECT", 0)
	case "edge":
		y, err = edgePad(x, p)
	default:
		return nil, c.n.attrErrorf("mode", "%q, want constant, reflect or edge", mode)
	}
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return one(y), nil
}

// edgePad repeats each border cell outward (numpy's "edge" mode) with
// nn.Pad's SYMMETRIC mode: once k cells next to a border all equal the
// edge cell, mirroring them adds k more equal cells, so each pass at most
// doubles the filled width and ⌈log₂(pad + 1)⌉ passes suffice.
func edgePad(x *tensor.Tensor, p [][2]int) (*tensor.Tensor, error) {
	for i, d := range x.Shape() {
		if d == 0 && (p[i][0] > 0 || p[i][1] > 0) {
			return nil, fmt.Errorf("edge padding of dimension %d, which is empty", i)
		}
	}
	left := append([][2]int(nil), p...)
	width := make([][2]int, len(p)) // edge-valued cells at each border so far
	for i := range width {
		width[i] = [2]int{1, 1}
	}
	for {
		step := make([][2]int, len(p))
		done := true
		for i := range p {
			for s := 0; s < 2; s++ {
				step[i][s] = min(left[i][s], width[i][s], x.Dim(i))
				left[i][s] -= step[i][s]
				width[i][s] += step[i][s]
				done = done && step[i][s] == 0
			}
		}
		if done {
			return x, nil
		}
		var err error
		if x, err = nn.Pad(x, step, "SYMMETRIC", 0); err != nil {
			return nil, err
		}
	}
}
