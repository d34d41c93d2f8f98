package onnx

// Convolutions, pooling, batch normalization and the matrix products.
//
// Shape legend: N batch, C input channels, M output channels, g groups
// (C/g and M/g channels each), spatial sizes in…, kernel k…, strides s…,
// dilations d…, pads (b…, e…) before and after. X is [N, C, in…]; Conv's
// W is [M, C/g, k…]; ConvTranspose's W is [C, M/g, k…]. The nn ops take
// channels-first data (DataFormat NCW/NCHW/NCDHW) and filters
// [k…, in, out]: W is converted to that layout once at load when it is an
// initializer.

import (
	"math"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

var channelsFirst = map[int]string{1: "NCW", 2: "NCHW", 3: "NCDHW"}

// spatialAttr returns an INTS attribute of one value per spatial
// dimension, each ≥ lo, or def for all when absent.
func spatialAttr(n *node, name string, ns int, def, lo int) ([]int, error) {
	v, ok, err := n.attrInts(name)
	if err != nil {
		return nil, err
	}
	out := make([]int, ns)
	if !ok {
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	if len(v) != ns {
		return nil, n.attrErrorf(name, "%v has %d values, want %d (one per spatial dimension)", v, len(v), ns)
	}
	for i, x := range v {
		if x < int64(lo) || x > int64(maxRunElems) {
			return nil, n.attrErrorf(name, "value %d out of range (want ≥ %d)", x, lo)
		}
		out[i] = int(x)
	}
	return out, nil
}

// window is the geometry of a sliding window over the spatial dims.
type window struct {
	in, k, s, d []int
	pb, pe      []int
	out         []int
}

// convGeometry reads strides, dilations, pads and auto_pad for input
// spatial sizes in and kernel k, and computes the output sizes; ceil
// rounds them up (pooling's ceil_mode). For ConvTranspose (transposed)
// only the pads are read: runConvTranspose computes its output size.
func convGeometry(n *node, in, k []int, ceil, transposed bool) (*window, error) {
	ns := len(in)
	w := &window{in: in, k: k, pb: make([]int, ns), pe: make([]int, ns), out: make([]int, ns)}
	var err error
	if w.s, err = spatialAttr(n, "strides", ns, 1, 1); err != nil {
		return nil, err
	}
	if w.d, err = spatialAttr(n, "dilations", ns, 1, 1); err != nil {
		return nil, err
	}
	autoPad, err := n.attrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	pads, hasPads, err := n.attrInts("pads")
	if err != nil {
		return nil, err
	}
	if hasPads && len(pads) != 2*ns {
		return nil, n.attrErrorf("pads", "%v has %d values, want %d (begin and end per spatial dimension)", pads, len(pads), 2*ns)
	}
	for i := 0; i < ns; i++ {
		ek := (k[i]-1)*w.d[i] + 1
		switch autoPad {
		case "NOTSET", "":
			if hasPads {
				if pads[i] < 0 || pads[ns+i] < 0 || pads[i] > int64(maxRunElems) || pads[ns+i] > int64(maxRunElems) {
					return nil, n.attrErrorf("pads", "%v: pads must be ≥ 0", pads)
				}
				w.pb[i], w.pe[i] = int(pads[i]), int(pads[ns+i])
			}
		case "VALID":
		case "SAME_UPPER", "SAME_LOWER":
			out := (in[i] + w.s[i] - 1) / w.s[i]
			total := max((out-1)*w.s[i]+ek-in[i], 0)
			w.pb[i] = total / 2
			if autoPad == "SAME_LOWER" {
				w.pb[i] = total - total/2
			}
			w.pe[i] = total - w.pb[i]
		default:
			return nil, n.attrErrorf("auto_pad", "%q, want NOTSET, SAME_UPPER, SAME_LOWER or VALID", autoPad)
		}
		if transposed {
			continue
		}
		span := in[i] + w.pb[i] + w.pe[i] - ek
		if span < 0 {
			return nil, n.errorf("spatial dimension %d: input %d + pads %d+%d is smaller than the (dilated) kernel %d", i, in[i], w.pb[i], w.pe[i], ek)
		}
		w.out[i] = span/w.s[i] + 1
		if ceil && span%w.s[i] != 0 {
			w.out[i]++
			if (w.out[i]-1)*w.s[i] >= in[i]+w.pb[i] { // the last window would start in the end padding
				w.out[i]--
			}
		}
	}
	return w, nil
}

func (w *window) explicit() [][2]int {
	p := make([][2]int, len(w.in))
	for i := range p {
		p[i] = [2]int{w.pb[i], w.pe[i]}
	}
	return p
}

// stridedAndDilated reports whether some strides and dilations are both
// above 1, which the nn convolutions refuse (as TF does); the filter is
// then dilated with zeros instead.
func (w *window) stridedAndDilated() bool {
	s, d := false, false
	for i := range w.s {
		s = s || w.s[i] > 1
		d = d || w.d[i] > 1
	}
	return s && d
}

func checkConv(n *node, _ int64) error {
	if g, err := n.attrInt("group", 1); err != nil || g < 1 {
		if err != nil {
			return err
		}
		return n.attrErrorf("group", "%d, want ≥ 1", g)
	}
	if a, err := n.attrString("auto_pad", "NOTSET"); err != nil {
		return err
	} else if !slices.Contains([]string{"NOTSET", "", "VALID", "SAME_UPPER", "SAME_LOWER"}, a) {
		return n.attrErrorf("auto_pad", "%q, want NOTSET, SAME_UPPER, SAME_LOWER or VALID", a)
	}
	return nil
}

// prepareConv converts an initializer W to the nn layout at load.
func prepareConv(n *node, m *Model) error {
	w, ok := m.consts[n.inputs[1]]
	if !ok || w.isInt() {
		return nil
	}
	// The conversion depends on the input's spatial size only through
	// the dilation-for-strides rewrite, which needs the attributes alone.
	p, err := convFilters(n, w.f)
	if err != nil {
		return err
	}
	n.prep = p
	return nil
}

// convFilters returns W in the nn layout per group: [k…, C/g, M/g] for
// Conv ([M, C/g, k…] split by output rows) and [k…, M/g, C/g] for
// ConvTranspose ([C, M/g, k…] split by input rows), dilated with zeros
// when strides and dilations are both above 1 (the returned slice then
// pairs with dilations 1). For a 2-D Conv with g = C it is one depthwise
// filter [KH, KW, C, M/C].
func convFilters(n *node, w *tensor.Tensor) ([]*tensor.Tensor, error) {
	ws := w.Shape()
	if len(ws) < 3 || len(ws) > 5 {
		return nil, n.errorf("W has shape %v, want rank 3 to 5 ([out, in/group, k…])", ws)
	}
	ns := len(ws) - 2
	g64, _ := n.attrInt("group", 1)
	g := int(g64)
	if k, ok, err := n.attrInts("kernel_shape"); err != nil {
		return nil, err
	} else if ok && !slices.Equal(k, toInt64(ws[2:])) {
		return nil, n.attrErrorf("kernel_shape", "%v does not match W's shape %v", k, ws)
	}
	s, err := spatialAttr(n, "strides", ns, 1, 1)
	if err != nil {
		return nil, err
	}
	d, err := spatialAttr(n, "dilations", ns, 1, 1)
	if err != nil {
		return nil, err
	}
	wv := w
	if (&window{s: s, d: d}).stridedAndDilated() {
		ds := append([]int{}, ws...)
		for i := range d {
			if ds[2+i] > 0 && d[i] > maxRunElems/ds[2+i] {
				return nil, n.attrErrorf("dilations", "%v are too large for kernel %v", d, ws[2:])
			}
			ds[2+i] = (ds[2+i]-1)*d[i] + 1
		}
		if !fits(ds) {
			return nil, n.attrErrorf("dilations", "%v spread W %v to a filter that is too large", d, ws)
		}
		wv = dilateFilter(w, d)
	}
	ws = wv.Shape()
	if ws[0]%g != 0 {
		return nil, n.errorf("W has %d rows, not divisible by group %d", ws[0], g)
	}
	perm := make([]int, 0, len(ws))
	for i := 2; i < len(ws); i++ {
		perm = append(perm, i)
	}
	perm = append(perm, 1, 0)
	if n.opType == "Conv" && ns == 2 && g > 1 && ws[1] == 1 {
		// Depthwise: W [C·mult, 1, KH, KW] viewed [C, mult, KH, KW].
		v := tensor.Must(wv.Reshape(g, ws[0]/g, ws[2], ws[3]))
		return []*tensor.Tensor{transposeFloat(v, []int{2, 3, 0, 1})}, nil
	}
	rows := ws[0] / g
	per := rows * tensor.Size(ws[1:])
	out := make([]*tensor.Tensor, g)
	for j := range out {
		part := tensor.Must(tensor.New(append([]int{rows}, ws[1:]...), wv.Data()[j*per:(j+1)*per]))
		out[j] = transposeFloat(part, perm)
	}
	return out, nil
}

func toInt64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// dilateFilter spreads W [a, b, k…] to [a, b, (k−1)·d+1 …] with zeros
// between the taps, so that a convolution with dilation 1 equals one with
// dilations d.
func dilateFilter(w *tensor.Tensor, d []int) *tensor.Tensor {
	ws := w.Shape()
	ns := len(ws) - 2
	os := append([]int{}, ws...)
	for i := 0; i < ns; i++ {
		os[2+i] = (ws[2+i]-1)*d[i] + 1
	}
	out := tensor.Zeros(os...)
	idx := make([]int, len(ws))
	for _, v := range w.Data() {
		off := 0
		for i := range ws {
			p := idx[i]
			if i >= 2 {
				p *= d[i-2]
			}
			off = off*os[i] + p
		}
		out.Data()[off] = v
		for i := len(ws) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < ws[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// channelSlice returns x restricted to channels [lo, hi) of axis ch.
func channelSlice(x *tensor.Tensor, ch, lo, hi int) (*tensor.Tensor, error) {
	begin := make([]int, x.Rank())
	size := append([]int{}, x.Shape()...)
	begin[ch], size[ch] = lo, hi-lo
	return nn.Slice(x, begin, size)
}

// joinChannels concatenates tensors along channel axis ch.
func joinChannels(parts []*tensor.Tensor, ch int) (*tensor.Tensor, error) {
	if len(parts) == 1 {
		return parts[0], nil
	}
	return nn.Concat(parts, ch)
}

// addChannelBias adds b [M] (input i, when present) to y along channel
// axis ch — y [N, M, rest…] (ch 1) or [N, rest…, M] (ch last) — and
// applies the node's fused ReLU.
func addChannelBias(c *call, y *tensor.Tensor, i, ch int) (*tensor.Tensor, error) {
	format := "NC..."
	if ch == y.Rank()-1 {
		format = "N...C"
	}
	switch {
	case !c.present(i) && c.n.fuseRelu:
		return nn.Relu(y), nil
	case !c.present(i):
		return y, nil
	}
	b, err := c.float(i)
	if err != nil {
		return nil, err
	}
	if b.Rank() != 1 || b.Len() != y.Dim(ch) {
		return nil, c.n.errorf("bias B has shape %v, want [%d]", b.Shape(), y.Dim(ch))
	}
	if c.n.fuseRelu {
		y, err = nn.BiasAddRelu(y, b, format)
	} else {
		y, err = nn.BiasAdd(y, b, format)
	}
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return y, nil
}

// convInputs returns X's logical shape [N, C, spatial…], the per-group
// filters and the geometry.
func convInputs(c *call) ([]int, []*tensor.Tensor, *window, error) {
	if !c.present(0) || c.in[0].isInt() {
		_, err := c.float(0)
		return nil, nil, nil, err
	}
	xs := c.in[0].dims()
	w, err := c.float(1)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(xs) < 3 || len(xs) > 5 || w.Rank() != len(xs) {
		return nil, nil, nil, c.n.errorf("X has shape %v and W %v, want equal ranks 3 to 5 ([N, C, spatial…])", xs, w.Shape())
	}
	filters := c.n.prep
	if filters == nil {
		if filters, err = convFilters(c.n, w); err != nil {
			return nil, nil, nil, err
		}
	}
	win, err := convGeometry(c.n, xs[2:], w.Shape()[2:], false, c.n.opType == "ConvTranspose")
	if err != nil {
		return nil, nil, nil, err
	}
	if win.stridedAndDilated() {
		win.k = filters[0].Shape()[:len(xs)-2]
		for i := range win.d {
			win.d[i] = 1
		}
	}
	return xs, filters, win, nil
}

// runConv runs 2-D convolutions channels-last (the nn ops' native
// layout; the output stays so, see value.nhwc) and 1-D/3-D ones
// channels-first.
func runConv(c *call) ([]value, error) {
	xs, filters, win, err := convInputs(c)
	if err != nil {
		return nil, err
	}
	ns := len(xs) - 2
	g64, _ := c.n.attrInt("group", 1)
	g, ws := int(g64), c.in[1].f.Shape()
	if xs[1] != ws[1]*g {
		return nil, c.n.errorf("X has %d channels, W %v with group %d expects %d", xs[1], ws, g, ws[1]*g)
	}
	if !fits(append([]int{xs[0], ws[0]}, win.out...)) {
		return nil, c.n.errorf("output [%d %d %v] is too large", xs[0], ws[0], win.out)
	}
	padded := append([]int{xs[0], xs[1]}, win.in...)
	for i := range win.in {
		padded[2+i] += win.pb[i] + win.pe[i]
	}
	if !fits(padded) {
		return nil, c.n.errorf("X %v padded by %v and %v is too large", xs, win.pb, win.pe)
	}
	if err := c.n.checkWork("the convolution", append([]int{xs[0], ws[0], ws[1]}, win.out...), filters[0].Shape()[:ns]); err != nil {
		return nil, err
	}
	o := nn.ConvOptions{Strides: win.s, Dilations: win.d, Padding: "EXPLICIT", ExplicitPaddings: win.explicit(), DataFormat: channelsFirst[ns]}
	var x *tensor.Tensor
	ch, last := 1, ns == 2
	if last {
		x, err = c.channelsLast(0)
		o.DataFormat, ch = "NHWC", 3
	} else {
		x, err = c.float(0)
	}
	if err != nil {
		return nil, err
	}
	conv := [4]func(a, b *tensor.Tensor, o nn.ConvOptions) (*tensor.Tensor, error){1: nn.Conv1D, 2: nn.Conv2D, 3: nn.Conv3D}[ns]
	var y *tensor.Tensor
	switch {
	case g == 1 && last && c.n.fuseRelu && c.present(2):
		b, err := c.float(2)
		if err != nil {
			return nil, err
		}
		if y, err = nn.Conv2DBiasRelu(x, filters[0], b, o); err != nil {
			return nil, c.n.errorf("%v", err)
		}
		return []value{{f: y, dt: dtFloat, nhwc: true}}, nil
	case g == 1 && last && ns == 2 && c.present(2):
		// The bias rides on the output pass (a bias of the wrong shape
		// is reported by addChannelBias, below).
		b, err := c.float(2)
		if err != nil {
			return nil, err
		}
		if f := filters[0]; b.Rank() == 1 && f.Rank() == 4 && b.Len() == f.Dim(3) {
			if y, err = nn.Conv2DBias(x, f, b, o); err != nil {
				return nil, c.n.errorf("%v", err)
			}
			return []value{{f: y, dt: dtFloat, nhwc: true}}, nil
		}
		y, err = conv(x, filters[0], o)
	case g == 1:
		y, err = conv(x, filters[0], o)
	case len(filters) == 1: // depthwise
		y, err = nn.DepthwiseConv2D(x, filters[0], o)
	default:
		parts := make([]*tensor.Tensor, g)
		cg := xs[1] / g
		for j := 0; j < g && err == nil; j++ {
			var xj *tensor.Tensor
			if xj, err = channelSlice(x, ch, j*cg, (j+1)*cg); err == nil {
				parts[j], err = conv(xj, filters[j], o)
			}
		}
		if err == nil {
			y, err = joinChannels(parts, ch)
		}
	}
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	y, err = addChannelBias(c, y, 2, ch)
	if err != nil {
		return nil, err
	}
	return []value{{f: y, dt: dtFloat, nhwc: last}}, nil
}

// runConvTranspose computes the gradient of the Conv that maps the output
// back to X: out = s·(in − 1) + output_padding + (k − 1)·d + 1 − b − e,
// or output_shape with the pads it implies (split by auto_pad).
func runConvTranspose(c *call) ([]value, error) {
	_, filters, win, err := convInputs(c)
	if err != nil {
		return nil, err
	}
	x, err := c.float(0)
	if err != nil {
		return nil, err
	}
	ns := x.Rank() - 2
	g64, _ := c.n.attrInt("group", 1)
	g, ws := int(g64), c.in[1].f.Shape()
	if x.Dim(1) != ws[0] {
		return nil, c.n.errorf("X has %d channels, W %v wants %d", x.Dim(1), ws, ws[0])
	}
	op, err := spatialAttr(c.n, "output_padding", ns, 0, 0)
	if err != nil {
		return nil, err
	}
	autoPad, _ := c.n.attrString("auto_pad", "NOTSET")
	outShape, hasOut, err := c.n.attrInts("output_shape")
	if err != nil {
		return nil, err
	}
	if hasOut && len(outShape) == ns+2 {
		outShape = outShape[2:]
	}
	if hasOut && len(outShape) != ns {
		return nil, c.n.attrErrorf("output_shape", "%v, want %d spatial sizes", outShape, ns)
	}
	in := x.Shape()[2:]
	out := make([]int, ns)
	extra := make([]int, ns)
	for i := 0; i < ns; i++ {
		ek := (win.k[i]-1)*win.d[i] + 1
		if op[i] >= win.s[i] && op[i] >= win.d[i] {
			return nil, c.n.attrErrorf("output_padding", "%v must be smaller than the stride or the dilation", op)
		}
		full := win.s[i]*(in[i]-1) + op[i] + ek
		target := -1
		switch {
		case hasOut:
			target = int(min(max(outShape[i], 0), int64(maxRunElems)))
		case autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
			target = in[i] * win.s[i]
		}
		if target < 0 {
			out[i] = full - win.pb[i] - win.pe[i] // pads from the attribute (VALID: none)
		} else {
			total := full - target
			if total < 0 {
				// A larger output_shape adds zero cells at the end.
				extra[i], total, target = -total, 0, full
			}
			if autoPad == "SAME_UPPER" {
				win.pb[i], win.pe[i] = total/2, total-total/2
			} else {
				win.pb[i], win.pe[i] = total-total/2, total/2
			}
			out[i] = target
		}
		if out[i] < 1 {
			return nil, c.n.errorf("output size %d along spatial dimension %d is not positive", out[i], i)
		}
	}
	mg := ws[1]
	shape := append([]int{x.Dim(0), mg}, out...)
	// whole is the output once the groups are joined and output_shape's
	// extra cells added: the largest tensor this op allocates.
	whole := append([]int{x.Dim(0), mg * g}, out...)
	for i, e := range extra {
		whole[2+i] += e
	}
	if !fits(whole) {
		return nil, c.n.errorf("output %v (%d groups of %v) is too large", whole, g, shape)
	}
	if err := c.n.checkWork("the transposed convolution", []int{x.Len(), mg}, filters[0].Shape()[:ns]); err != nil {
		return nil, err
	}
	// Pads (b, e) make the forward conv of an out-sized input give in
	// cells: (out + b + e − ek)/s + 1 = in + ⌊output_padding/s⌋.
	o := nn.ConvOptions{Strides: win.s, Dilations: win.d, Padding: "EXPLICIT", ExplicitPaddings: win.explicit(), DataFormat: channelsFirst[ns]}
	back := [4]func([]int, *tensor.Tensor, *tensor.Tensor, nn.ConvOptions) (*tensor.Tensor, error){
		1: nn.Conv1DBackpropInput, 2: nn.Conv2DBackpropInput, 3: nn.Conv3DBackpropInput}[ns]
	cg := x.Dim(1) / g
	parts := make([]*tensor.Tensor, g)
	for j := range parts {
		xj := x
		if g > 1 {
			if xj, err = channelSlice(x, 1, j*cg, (j+1)*cg); err != nil {
				return nil, c.n.errorf("%v", err)
			}
		}
		if parts[j], err = back(shape, filters[j], xj, o); err != nil {
			return nil, c.n.errorf("%v", err)
		}
	}
	y, err := joinChannels(parts, 1)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	if slices.Max(extra) > 0 {
		p := make([][2]int, y.Rank())
		for i, e := range extra {
			p[2+i][1] = e
		}
		if y, err = nn.Pad(y, p, "CONSTANT", 0); err != nil {
			return nil, c.n.errorf("%v", err)
		}
	}
	y, err = addChannelBias(c, y, 2, 1)
	if err != nil {
		return nil, err
	}
	return one(y), nil
}

func checkPool(n *node, _ int64) error {
	if len(n.outputs) > 1 && n.outputs[1] != "" && n.opType != "MaxPool" {
		return n.errorf("%s has one output, got %d", n.opType, len(n.outputs))
	}
	if so, err := n.attrInt("storage_order", 0); err != nil || so < 0 || so > 1 {
		if err != nil {
			return err
		}
		return n.attrErrorf("storage_order", "%d, want 0 (row major) or 1 (column major)", so)
	}
	if _, ok := n.attrs["kernel_shape"]; !ok {
		return n.errorf("attribute \"kernel_shape\" is required")
	}
	return nil
}

// runPool is MaxPool and AveragePool over [N, C, in…]. A window's maximum
// ignores padded cells; its average divides by the real cells, or with
// count_include_pad by the cells inside the padded input. Without
// dilations and with no padding or TF's SAME padding it runs on nn.MaxPool
// / nn.AvgPool; otherwise on a direct loop.
func runPool(c *call) ([]value, error) {
	if !c.present(0) {
		return nil, c.n.errorf("input 0 is missing")
	}
	xs := c.in[0].dims()
	if len(xs) < 3 {
		return nil, c.n.errorf("X has shape %v, want [N, C, spatial…]", xs)
	}
	ns := len(xs) - 2
	k, err := spatialAttr(c.n, "kernel_shape", ns, 1, 1)
	if err != nil {
		return nil, err
	}
	ceil, err := c.n.attrInt("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	incl, err := c.n.attrInt("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	w, err := convGeometry(c.n, xs[2:], k, ceil != 0, false)
	if err != nil {
		return nil, err
	}
	isMax := c.n.opType == "MaxPool"
	outShape := append([]int{xs[0], xs[1]}, w.out...)
	if !fits(outShape) {
		return nil, c.n.errorf("output %v is too large", outShape)
	}
	if err := c.n.checkWork("the pooling", outShape, k); err != nil {
		return nil, err
	}
	if len(c.n.outputs) > 1 && c.n.outputs[1] != "" {
		// MaxPool's Indices: flat positions in X, the spatial part row
		// major (storage_order 0) or column major (1).
		x, err := c.float(0)
		if err != nil {
			return nil, err
		}
		idx := make([]int64, tensor.Size(outShape))
		y := poolRef(x, w, true, false, outShape, idx)
		if so, _ := c.n.attrInt("storage_order", 0); so == 1 {
			plane := tensor.Size(w.in)
			for i, v := range idx {
				base, rem := v/int64(plane)*int64(plane), v%int64(plane)
				col, stride := int64(0), int64(1)
				digits := make([]int64, ns)
				for d := ns - 1; d >= 0; d-- {
					digits[d] = rem % int64(w.in[d])
					rem /= int64(w.in[d])
				}
				for d := 0; d < ns; d++ {
					col += digits[d] * stride
					stride *= int64(w.in[d])
				}
				idx[i] = base + col
			}
		}
		return []value{floatValue(y), {ints: idx, shape: outShape, dt: dtInt64}}, nil
	}
	if pad := w.tfPadding(isMax || incl == 0); pad != "" && ns <= 3 {
		// nn's pools; 2-D ones channels-last, their native layout.
		f := nn.AvgPool
		if isMax {
			f = nn.MaxPool
		}
		o := nn.PoolOptions{KSize: k, Strides: w.s, Padding: pad, DataFormat: channelsFirst[ns]}
		input, want, last := c.float, outShape, ns == 2
		if last {
			input, o.DataFormat = c.channelsLast, "NHWC"
			want = []int{outShape[0], outShape[2], outShape[3], outShape[1]}
		}
		x, err := input(0)
		if err != nil {
			return nil, err
		}
		if y, err := f(x, o); err == nil && slices.Equal(y.Shape(), want) {
			return []value{{f: y, dt: dtFloat, nhwc: last}}, nil
		}
	}
	x, err := c.float(0)
	if err != nil {
		return nil, err
	}
	return one(poolRef(x, w, isMax, incl != 0, outShape, nil)), nil
}

// tfPadding returns "VALID" or "SAME" when the window's pads and output
// sizes are TF's for that padding (and dilations are 1), else "".
func (w *window) tfPadding(sameOK bool) string {
	valid, same := true, sameOK
	for i := range w.in {
		if w.d[i] != 1 {
			return ""
		}
		valid = valid && w.pb[i] == 0 && w.pe[i] == 0 && w.out[i] == (w.in[i]-w.k[i])/w.s[i]+1
		out := (w.in[i] + w.s[i] - 1) / w.s[i]
		total := max((out-1)*w.s[i]+w.k[i]-w.in[i], 0)
		same = same && w.out[i] == out && w.pb[i] == total/2 && w.pe[i] == total-total/2
	}
	switch {
	case valid:
		return "VALID"
	case same:
		return "SAME"
	}
	return ""
}

// poolRef is the direct pooling loop over [N, C, in…]. With argmax (a
// slice of the output's length) it also records where each maximum was,
// as a flat index into x (the first maximum in window order on ties).
func poolRef(x *tensor.Tensor, w *window, isMax, countPad bool, outShape []int, argmax []int64) *tensor.Tensor {
	ns := len(w.in)
	y := tensor.Zeros(outShape...)
	planeIn, planeOut := tensor.Size(w.in), tensor.Size(w.out)
	o := make([]int, ns)
	kk := make([]int, ns)
	for p := 0; p < x.Dim(0)*x.Dim(1); p++ {
		src := x.Data()[p*planeIn : (p+1)*planeIn]
		dst := y.Data()[p*planeOut : (p+1)*planeOut]
		for i := range o {
			o[i] = 0
		}
		for oi := range dst {
			acc := float32(math.Inf(-1))
			if !isMax {
				acc = 0
			}
			real, inPad, at := 0, 0, -1
			for i := range kk {
				kk[i] = 0
			}
			for {
				off, inside, padded := 0, true, true
				for i := 0; i < ns; i++ {
					pos := o[i]*w.s[i] - w.pb[i] + kk[i]*w.d[i]
					if pos < 0 || pos >= w.in[i] {
						inside = false
					}
					if pos < -w.pb[i] || pos >= w.in[i]+w.pe[i] {
						padded = false
					}
					off = off*w.in[i] + pos
				}
				if padded {
					inPad++
				}
				if inside {
					real++
					v := src[off]
					if isMax {
						if v > acc || at < 0 {
							acc, at = v, off
						}
					} else {
						acc += v
					}
				}
				i := ns - 1
				for ; i >= 0; i-- {
					kk[i]++
					if kk[i] < w.k[i] {
						break
					}
					kk[i] = 0
				}
				if i < 0 {
					break
				}
			}
			if !isMax {
				div := real
				if countPad {
					div = inPad
				}
				if div > 0 {
					acc /= float32(div)
				}
			}
			dst[oi] = acc
			if argmax != nil {
				argmax[p*planeOut+oi] = int64(p*planeIn + at)
			}
			for i := ns - 1; i >= 0; i-- {
				o[i]++
				if o[i] < w.out[i] {
					break
				}
				o[i] = 0
			}
		}
	}
	return y
}

func runGlobalPool(c *call) ([]value, error) {
	x, nhwc, err := c.stored(0)
	if err != nil {
		return nil, err
	}
	if x.Rank() < 3 {
		return nil, c.n.errorf("X has shape %v, want [N, C, spatial…]", x.Shape())
	}
	axes := make([]int, 0, x.Rank()-2)
	for i := 2; i < x.Rank(); i++ {
		axes = append(axes, i)
	}
	if nhwc {
		axes = []int{1, 2}
	}
	f := nn.ReduceMean
	if c.n.opType == "GlobalMaxPool" {
		f = nn.ReduceMax
	}
	y, err := f(x, axes, true)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return []value{{f: y, dt: dtFloat, nhwc: nhwc}}, nil
}

func checkBatchNorm(n *node, opset int64) error {
	if t, err := n.attrInt("training_mode", 0); err != nil || t != 0 {
		if err != nil {
			return err
		}
		return n.attrUnsupportedf("training_mode", "%d: only inference (0)", t)
	}
	if s, err := n.attrInt("spatial", 1); err != nil || s != 1 {
		if err != nil {
			return err
		}
		return n.attrUnsupportedf("spatial", "%d: only 1 (per-channel statistics)", s)
	}
	for _, o := range n.outputs[1:] {
		if o != "" {
			return n.unsupportedf("output %q: only the Y output (inference)", o)
		}
	}
	return nil
}

// runBatchNorm is inference batch normalization over channel axis 1:
// y = (x − mean)·scale/sqrt(var + epsilon) + B, as y = x·a + b with
// a = scale/sqrt(var + epsilon) and b = B − mean·a per channel.
func runBatchNorm(c *call) ([]value, error) {
	x, nhwc, err := c.stored(0)
	if err != nil {
		return nil, err
	}
	if x.Rank() < 2 {
		return nil, c.n.errorf("X has shape %v, want [N, C, …]", x.Shape())
	}
	eps, err := c.n.attrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	ch := x.Dim(1)
	if nhwc {
		ch = x.Dim(3)
	}
	var p [4][]float32
	for i := range p {
		t, err := c.float(i + 1)
		if err != nil {
			return nil, err
		}
		if t.Len() != ch {
			return nil, c.n.errorf("input %d (%s) has shape %v, want [%d]", i+1, []string{"scale", "B", "mean", "var"}[i], t.Shape(), ch)
		}
		p[i] = t.Data()
	}
	shape := make([]int, x.Rank()-1)
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = ch
	if nhwc {
		shape = []int{ch} // along the last axis
	}
	a, b := tensor.Zeros(shape...), tensor.Zeros(shape...)
	for j := 0; j < ch; j++ {
		s := float64(p[0][j]) / math.Sqrt(float64(p[3][j])+float64(eps))
		a.Data()[j] = float32(s)
		b.Data()[j] = float32(float64(p[1][j]) - float64(p[2][j])*s)
	}
	y, err := nn.Mul(x, a)
	if err == nil {
		y, err = nn.Add(y, b)
	}
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	return []value{{f: y, dt: dtFloat, nhwc: nhwc}}, nil
}

// runGemm is alpha·op(A)·op(B) + beta·C with C broadcast to [M, N].
func runGemm(c *call) ([]value, error) {
	a, err := c.float(0)
	if err != nil {
		return nil, err
	}
	b, err := c.float(1)
	if err != nil {
		return nil, err
	}
	ta, err := c.n.attrInt("transA", 0)
	if err != nil {
		return nil, err
	}
	tb, err := c.n.attrInt("transB", 0)
	if err != nil {
		return nil, err
	}
	alpha, err := c.n.attrFloat("alpha", 1)
	if err != nil {
		return nil, err
	}
	beta, err := c.n.attrFloat("beta", 1)
	if err != nil {
		return nil, err
	}
	if a.Rank() == 2 && b.Rank() == 2 {
		if err := c.n.checkWork("the product", []int{a.Len(), b.Len() / max(a.Dim(1-int(ta&1)), 1)}); err != nil {
			return nil, err
		}
	}
	y, err := nn.MatMul(a, b, ta != 0, tb != 0)
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	if alpha != 1 {
		if y, err = nn.Mul(y, tensor.Full(alpha)); err != nil {
			return nil, c.n.errorf("%v", err)
		}
	}
	if c.present(2) && beta == 1 && c.in[2].f != nil && c.in[2].f.Rank() == 1 && c.in[2].f.Len() == y.Dim(1) && c.in[2].f.Len() > 1 {
		// A per-column bias (a Dense layer): one BiasAdd pass, with the
		// fused ReLU when there is one.
		f := nn.BiasAdd
		if c.n.fuseRelu {
			f = nn.BiasAddRelu
		}
		if y, err = f(y, c.in[2].f, ""); err != nil {
			return nil, c.n.errorf("%v", err)
		}
		return one(y), nil
	}
	if c.present(2) && beta != 0 {
		cc, err := c.float(2)
		if err != nil {
			return nil, err
		}
		if beta != 1 {
			if cc, err = nn.Mul(cc, tensor.Full(beta)); err != nil {
				return nil, c.n.errorf("%v", err)
			}
		}
		shape := y.Shape()
		if y, err = nn.Add(y, cc); err != nil {
			return nil, c.n.errorf("C: %v", err)
		}
		if !slices.Equal(y.Shape(), shape) {
			return nil, c.n.errorf("C of shape %v does not broadcast to the product's %v", cc.Shape(), shape)
		}
	}
	if c.n.fuseRelu {
		y = nn.Relu(y)
	}
	return one(y), nil
}

// runMatMul is numpy.matmul for: two matrices; a vector on either side;
// a batch [.., M, K] times a matrix [K, N]; and two batches with equal
// leading dimensions. Other batch broadcasts are refused.
func runMatMul(c *call) ([]value, error) {
	a, err := c.float(0)
	if err != nil {
		return nil, err
	}
	b, err := c.float(1)
	if err != nil {
		return nil, err
	}
	as, bs := a.Shape(), b.Shape()
	if len(as) == 0 || len(bs) == 0 {
		return nil, c.n.errorf("scalar inputs (shapes %v, %v)", as, bs)
	}
	vecA, vecB := len(as) == 1, len(bs) == 1
	if vecA {
		a = tensor.Must(a.Reshape(1, as[0]))
	}
	if vecB {
		b = tensor.Must(b.Reshape(bs[0], 1))
	}
	as, bs = a.Shape(), b.Shape()
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	if bs[len(bs)-2] != k {
		return nil, c.n.errorf("inner dimensions differ: %v times %v", c.in[0].f.Shape(), c.in[1].f.Shape())
	}
	if err := c.n.checkWork("the product", []int{a.Len(), n}); err != nil {
		return nil, err
	}
	var out []int
	var y *tensor.Tensor
	switch {
	case len(bs) == 2:
		batch := as[:len(as)-2]
		y, err = nn.MatMul(tensor.Must(a.Reshape(tensor.Size(batch)*m, k)), b, false, false)
		out = append(append([]int{}, batch...), m, n)
	case slices.Equal(as[:len(as)-2], bs[:len(bs)-2]):
		batch := as[:len(as)-2]
		nb := tensor.Size(batch)
		data := make([]float32, 0, nb*m*n)
		for i := 0; i < nb && err == nil; i++ {
			ai := tensor.Must(tensor.New([]int{m, k}, a.Data()[i*m*k:(i+1)*m*k]))
			bi := tensor.Must(tensor.New([]int{k, n}, b.Data()[i*k*n:(i+1)*k*n]))
			var yi *tensor.Tensor
			if yi, err = nn.MatMul(ai, bi, false, false); err == nil {
				data = append(data, yi.Data()...)
			}
		}
		out = append(append([]int{}, batch...), m, n)
		y = tensor.Must(tensor.New([]int{len(data)}, data))
	default:
		return nil, c.n.unsupportedf("batch dimensions of %v and %v differ; broadcasting batches", as, bs)
	}
	if err != nil {
		return nil, c.n.errorf("%v", err)
	}
	if vecA {
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	if vecB {
		out = out[:len(out)-1]
	}
	return one(tensor.Must(y.Reshape(out...))), nil
}
