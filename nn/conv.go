package nn

// Convolutions (tf.nn.conv1d, conv2d, conv3d) and their gradient ops.
//
// Shape legend: N batch; D, H, W input spatial sizes; C input channels;
// F output channels (filters); KD, KH, KW window sizes; OD, OH, OW output
// sizes; P = KD·KH·KW·C the patch length. Conv1D and Conv2D run as Conv3D
// with size-1 leading spatial dimensions.
//
// Forward (cross-correlation, as in TF):
//
//	y[n, od, oh, ow, f] = Σ_{kd,kh,kw,c} x[n, od·sd − pd + kd·dd, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · w[kd, kh, kw, c, f]
//
// with out-of-range input cells read as zero; the pads p are TF's
// SAME/VALID/EXPLICIT pads before each dimension (see windowAxes).
//
// Which path a product takes, and its chunking, is chosen by planConv
// (plan.go) from the geometry, with the sizes of tune.
//
// Fast path: the patch matrix (kernels.Im2col) of a chunk of output
// positions, at most a few hundred KiB, times the filter viewed as [P, F]
// (kernels.Sgemm). Backprop-input is, at stride 1, the forward
// convolution of dy with the flipped filter; at larger strides one
// stride-1 product per sub-pixel phase of dx (conv_strided.go); with
// dilation, or few channels, it multiplies dy by the filter transposed
// and scatters the patches back (kernels.Col2im). Backprop-filter accumulates patchesᵀ·dy over the
// chunks. 1x1 stride-1 unpadded convolutions skip im2col: the input
// already is the patch matrix. The plain-loop references are in
// conv_ref.go.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// Conv1D is tf.nn.conv1d: input [N, W, C] (or [N, C, W] with DataFormat
// "NCW"), filter [KW, C, F], output [N, OW, F] (or [N, F, OW]) with
//
//	y[n, ow, f] = Σ_{kw,c} x[n, ow·s − pad + kw·d, c] · w[kw, c, f]
//
// and OW = ⌈W/s⌉ under SAME, ⌈(W − (KW−1)·d)/s⌉ under VALID, or
// (W + before + after − (KW−1)·d − 1)/s + 1 under EXPLICIT.
//
// Like tf.nn.conv1d, input may have extra leading batch dimensions,
// [B1, …, Bk, W, C] (or [B1, …, Bk, C, W]): they are flattened into N for
// the convolution and restored in the output, [B1, …, Bk, OW, F].
func Conv1D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	if input == nil || input.Rank() <= 3 {
		return convOp("nn.Conv1D", 1, input, filter, o)
	}
	shape := input.Shape()
	batch := shape[:len(shape)-2]
	flat, err := tensor.New([]int{tensor.Size(batch), shape[len(shape)-2], shape[len(shape)-1]}, input.Data())
	if err != nil {
		return nil, fmt.Errorf("nn.Conv1D: input %v: %v", shape, err)
	}
	y, err := convOp("nn.Conv1D", 1, flat, filter, o)
	if err != nil {
		return nil, err
	}
	out := append(append([]int(nil), batch...), y.Shape()[1:]...)
	return tensor.New(out, y.Data())
}

// Conv2D is tf.nn.conv2d: input [N, H, W, C] (or [N, C, H, W] with
// DataFormat "NCHW"), filter [KH, KW, C, F], output [N, OH, OW, F] (or
// [N, F, OH, OW]) with
//
//	y[n, oh, ow, f] = Σ_{kh,kw,c} x[n, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · w[kh, kw, c, f]
//
// where padding cells are zero and each output size is ⌈in/s⌉ (SAME),
// ⌈(in − (k−1)·d)/s⌉ (VALID) or (in + before + after − (k−1)·d − 1)/s + 1
// (EXPLICIT). Strides above 1 together with dilations above 1 are refused,
// as TF refuses them.
func Conv2D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convOp("nn.Conv2D", 2, input, filter, o)
}

// Conv3D is tf.nn.conv3d: input [N, D, H, W, C] (or [N, C, D, H, W] with
// DataFormat "NCDHW"), filter [KD, KH, KW, C, F], output
// [N, OD, OH, OW, F], each output size as in Conv2D.
func Conv3D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convOp("nn.Conv3D", 3, input, filter, o)
}

// Conv1DBackpropInput is the gradient of Conv1D with respect to its input
// of shape inputShape ([N, W, C] or [N, C, W]), given the filter
// [KW, C, F] and the gradient grad of the output (the shape Conv1D
// gives): dx[n, iw, c] = Σ_{ow,kw,f : ow·s − pad + kw·d = iw} dy[n, ow, f] · w[kw, c, f].
func Conv1DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convBackpropInputOp("nn.Conv1DBackpropInput", 1, inputShape, filter, grad, o)
}

// Conv2DBackpropInput is tf.raw_ops.Conv2DBackpropInput: the gradient of
// Conv2D with respect to its input of shape inputShape ([N, H, W, C] or
// [N, C, H, W], or only the spatial [H, W] as TF's input_sizes may be, N
// then taken from grad and C from the filter), given the filter
// [KH, KW, C, F] and the output gradient grad [N, OH, OW, F]. Each output gradient flows back to the input cells
// its window read: dx[n, ih, iw, c] = Σ dy[n, oh, ow, f] · w[kh, kw, c, f]
// over ih = oh·sh − ph + kh·dh, iw = ow·sw − pw + kw·dw.
func Conv2DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convBackpropInputOp("nn.Conv2DBackpropInput", 2, inputShape, filter, grad, o)
}

// Conv2DBackpropInputAdd returns Conv2DBackpropInput(inputShape, filter,
// grad, o) + add, add of the input's shape: an input gradient summed into
// the gradient the input already has (a residual block's input gets the
// skip's and the convolution's). The sum has the bits of the two ops
// run in turn. Where the input gradient runs as a Winograd convolution
// (stride 1) its output transforms add as they store, and by sub-pixel
// phases (a stride) the rows of dx are summed as they are written,
// instead of a pass of its own over the three tensors.
func Conv2DBackpropInputAdd(inputShape []int, filter, grad, add *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	const op = "nn.Conv2DBackpropInputAdd"
	if add == nil {
		return nil, fmt.Errorf("%s: add is nil", op)
	}
	return backpropInputOp(op, 2, inputShape, filter, grad, add, o, false, convBackpropInput)
}

// Conv3DBackpropInput is the gradient of Conv3D with respect to its input
// of shape inputShape ([N, D, H, W, C] or [N, C, D, H, W]), given the
// filter [KD, KH, KW, C, F] and the output gradient grad [N, OD, OH, OW, F].
func Conv3DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convBackpropInputOp("nn.Conv3DBackpropInput", 3, inputShape, filter, grad, o)
}

// Conv1DBackpropFilter is the gradient of Conv1D with respect to its
// filter of shape filterShape [KW, C, F], given the input [N, W, C] and
// the output gradient grad [N, OW, F]:
// dw[kw, c, f] = Σ_{n,ow} x[n, ow·s − pad + kw·d, c] · dy[n, ow, f].
func Conv1DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convBackpropFilterOp("nn.Conv1DBackpropFilter", 1, input, filterShape, grad, o)
}

// Conv2DBackpropFilter is tf.raw_ops.Conv2DBackpropFilter: the gradient of
// Conv2D with respect to its filter of shape filterShape [KH, KW, C, F],
// given the input [N, H, W, C] and the output gradient grad [N, OH, OW, F]:
// dw[kh, kw, c, f] = Σ_{n,oh,ow} x[n, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw, c] · dy[n, oh, ow, f].
func Conv2DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convBackpropFilterOp("nn.Conv2DBackpropFilter", 2, input, filterShape, grad, o)
}

// Conv3DBackpropFilter is the gradient of Conv3D with respect to its
// filter of shape filterShape [KD, KH, KW, C, F], given the input
// [N, D, H, W, C] and the output gradient grad [N, OD, OH, OW, F].
func Conv3DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return convBackpropFilterOp("nn.Conv3DBackpropFilter", 3, input, filterShape, grad, o)
}

// convSpec is a validated convolution: its geometry as a channels-last
// 3-D convolution, and the shapes as the caller sees them.
type convSpec struct {
	op     string
	nsp    int // spatial dimensions: 1, 2 or 3
	chLast bool
	g      kernels.ConvGeom
	f      int // filter's last dimension: output channels F, or the multiplier M of a depthwise filter
	in     []int
	filter []int
	out    []int
}

var (
	layoutNames = [4]string{1: "[N,W,C]", 2: "[N,H,W,C]", 3: "[N,D,H,W,C]"}
	filterNames = [4]string{1: "[KW, C, F]", 2: "[KH, KW, C, F]", 3: "[KD, KH, KW, C, F]"}
)

// newConvSpec validates a convolution of an input of shape in with a
// filter of shape filter ([K…, C, F], or [KH, KW, C, M] when depthwise)
// where TF validates, and returns its geometry.
func newConvSpec(op string, nsp int, in, filter []int, o ConvOptions, depthwise bool) (*convSpec, error) {
	rank := nsp + 2
	if len(in) != rank {
		return nil, fmt.Errorf("%s: input must have rank %d (%s or channels-first), got shape %v", op, rank, layoutNames[nsp], in)
	}
	if len(filter) != rank {
		want := filterNames[nsp]
		if depthwise {
			want = "[KH, KW, C, M]"
		}
		return nil, fmt.Errorf("%s: filter must have rank %d %s, got shape %v", op, rank, want, filter)
	}
	for _, d := range in {
		if d < 0 {
			return nil, fmt.Errorf("%s: input shape %v has a negative dimension", op, in)
		}
	}
	for i, d := range filter {
		if d < 0 || (i < nsp && d < 1) {
			return nil, fmt.Errorf("%s: filter shape %v: window sizes must be ≥ 1 and channels ≥ 0", op, filter)
		}
	}
	chLast, err := channelsLast(rank, o.DataFormat)
	if err != nil {
		return nil, opError(op, err)
	}
	n, c := in[0], in[rank-1]
	sp := in[1 : 1+nsp]
	if !chLast {
		c, sp = in[1], in[2:]
	}
	k := filter[:nsp]
	if filter[nsp] != c {
		return nil, fmt.Errorf("%s: input %v has %d channels but filter %v expects %d", op, in, c, filter, filter[nsp])
	}
	var sBuf, dBuf [3]int
	var axBuf [3]axis
	strides, err := spatialParam(&sBuf, "strides", o.Strides, nsp, chLast)
	if err != nil {
		return nil, opError(op, err)
	}
	dil, err := spatialParam(&dBuf, "dilations", o.Dilations, nsp, chLast)
	if err != nil {
		return nil, opError(op, err)
	}
	if anyAbove1(strides) && anyAbove1(dil) {
		return nil, fmt.Errorf("%s: strides %v together with dilations %v: strides > 1 are not supported in conjunction with dilations > 1", op, slices.Clone(strides), slices.Clone(dil))
	}
	ax, err := windowAxes(&axBuf, sp, k, strides, dil, o.Padding, o.ExplicitPaddings, chLast)
	if err != nil {
		return nil, opError(op, err)
	}
	s := &convSpec{op: op, nsp: nsp, chLast: chLast, f: filter[nsp+1],
		in: append([]int(nil), in...), filter: append([]int(nil), filter...)}
	s.g = kernels.ConvGeom{N: n, C: c,
		In: [3]int{1, 1, 1}, K: [3]int{1, 1, 1}, Out: [3]int{1, 1, 1},
		Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 1, 1}}
	outSp := make([]int, nsp)
	for i, a := range ax {
		j := 3 - nsp + i
		s.g.In[j], s.g.K[j], s.g.Out[j] = a.In, a.K, a.Out
		s.g.Stride[j], s.g.Dilation[j], s.g.Pad[j] = a.Stride, a.Dilation, a.PadBefore
		outSp[i] = a.Out
	}
	outC := s.f
	if depthwise {
		outC = c * s.f
	}
	if chLast {
		s.out = append(append([]int{n}, outSp...), outC)
	} else {
		s.out = append([]int{n, outC}, outSp...)
	}
	return s, nil
}

func anyAbove1(v []int) bool {
	for _, x := range v {
		if x > 1 {
			return true
		}
	}
	return false
}

// opError prefixes a geometry helper's error with the op's name.
func opError(op string, err error) error {
	return fmt.Errorf("%s: %s", op, strings.TrimPrefix(err.Error(), "nn: "))
}

// lastLayout returns data of a tensor of shape shape in channels-last
// order: data itself when it already is, else a transposed scratch copy
// (release with putScratch; the returned pointer is nil when data is used).
func (s *convSpec) lastLayout(data []float32, shape []int) ([]float32, *[]float32) {
	if s.chLast {
		return data, nil
	}
	n, c := shape[0], shape[1]
	sp := tensor.Size(shape[2:])
	buf := getScratch(len(data))
	toChannelsLast(*buf, data, n, c, sp)
	return *buf, buf
}

// result runs fill on channels-last storage for a fresh tensor of shape
// shape, transposing to channels-first when the caller's layout is.
func (s *convSpec) result(shape []int, fill func(dst []float32)) *tensor.Tensor {
	t := newResult(shape...) // every kernel writes all of its output
	if s.chLast {
		fill(t.Data())
		return t
	}
	buf := getScratch(t.Len())
	fill(*buf)
	toChannelsFirst(t.Data(), *buf, shape[0], shape[1], tensor.Size(shape[2:]))
	putScratch(buf)
	return t
}

// toChannelsLast copies src [N, C, S] into dst [N, S, C].
func toChannelsLast(dst, src []float32, n, c, s int) {
	for i := 0; i < n; i++ {
		d, x := dst[i*c*s:(i+1)*c*s], src[i*c*s:(i+1)*c*s]
		for ch := 0; ch < c; ch++ {
			row := x[ch*s : (ch+1)*s]
			for j, v := range row {
				d[j*c+ch] = v
			}
		}
	}
}

// toChannelsFirst copies src [N, S, C] into dst [N, C, S].
func toChannelsFirst(dst, src []float32, n, c, s int) {
	for i := 0; i < n; i++ {
		d, x := dst[i*c*s:(i+1)*c*s], src[i*c*s:(i+1)*c*s]
		for ch := 0; ch < c; ch++ {
			row := d[ch*s : (ch+1)*s]
			for j := range row {
				row[j] = x[j*c+ch]
			}
		}
	}
}

func checkTensors(op string, names []string, ts ...*tensor.Tensor) error {
	for i, t := range ts {
		if t == nil {
			return fmt.Errorf("%s: %s is nil", op, names[i])
		}
	}
	return nil
}

// convKernel computes one of the three products of a convolution on
// channels-last data; f is the filter's last dimension.
type convKernel func(g *kernels.ConvGeom, f int, a, b, dst []float32)

func convOp(op string, nsp int, input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return forwardOp(op, nsp, input, filter, o, false, convForward)
}

func convBackpropInputOp(op string, nsp int, inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return backpropInputOp(op, nsp, inputShape, filter, grad, nil, o, false, convBackpropInput)
}

func convBackpropFilterOp(op string, nsp int, input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return backpropFilterOp(op, nsp, input, filterShape, grad, o, false, convBackpropFilter)
}

// forwardOp validates a forward convolution and runs fn(g, f, x, w, y).
func forwardOp(op string, nsp int, input, filter *tensor.Tensor, o ConvOptions, depthwise bool, fn convKernel) (*tensor.Tensor, error) {
	if err := checkTensors(op, []string{"input", "filter"}, input, filter); err != nil {
		return nil, err
	}
	s, err := newConvSpec(op, nsp, input.Shape(), filter.Shape(), o, depthwise)
	if err != nil {
		return nil, err
	}
	x, xb := s.lastLayout(input.Data(), s.in)
	y := s.result(s.out, func(y []float32) { fn(&s.g, s.f, x, filter.Data(), y) })
	putScratch(xb)
	return y, nil
}

// checkGrad checks that grad has the shape the forward op would give.
func (s *convSpec) checkGrad(grad *tensor.Tensor) error {
	if !tensor.SameShape(grad.Shape(), s.out) {
		return fmt.Errorf("%s: grad has shape %v but the forward op on input %v with filter %v gives %v", s.op, grad.Shape(), s.in, s.filter, s.out)
	}
	return nil
}

// inputGradKernel computes an input gradient dx from w and dy, all
// channels-last, plus add (dx's length) when add is not nil.
type inputGradKernel func(g *kernels.ConvGeom, f int, w, dy, dx, add []float32)

// backpropInputOp validates an input gradient (and add, nil or of the
// input's shape) and runs fn(g, f, w, dy, dx, add).
func backpropInputOp(op string, nsp int, inputShape []int, filter, grad, add *tensor.Tensor, o ConvOptions, depthwise bool, fn inputGradKernel) (*tensor.Tensor, error) {
	if err := checkTensors(op, []string{"filter", "grad"}, filter, grad); err != nil {
		return nil, err
	}
	inputShape, err := fullInputShape(op, nsp, inputShape, filter, grad, o)
	if err != nil {
		return nil, err
	}
	s, err := newConvSpec(op, nsp, inputShape, filter.Shape(), o, depthwise)
	if err != nil {
		return nil, err
	}
	if err := s.checkGrad(grad); err != nil {
		return nil, err
	}
	var ad []float32
	var ab *[]float32
	if add != nil {
		if !tensor.SameShape(add.Shape(), s.in) {
			return nil, fmt.Errorf("%s: add has shape %v, want the input's %v", op, add.Shape(), s.in)
		}
		ad, ab = s.lastLayout(add.Data(), s.in)
	}
	dy, db := s.lastLayout(grad.Data(), s.out)
	dx := s.result(s.in, func(dx []float32) { fn(&s.g, s.f, filter.Data(), dy, dx, ad) })
	putScratch(db)
	putScratch(ab)
	return dx, nil
}

// fullInputShape returns inputShape, or, when it gives only the nsp
// spatial sizes (TF's input_sizes may be [H, W]), the full shape with the
// batch of grad and the channels of filter ([KH, KW, C, …]) in the
// layout o.DataFormat names.
func fullInputShape(op string, nsp int, inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) ([]int, error) {
	if len(inputShape) != nsp || grad.Rank() != nsp+2 || filter.Rank() != nsp+2 {
		return inputShape, nil
	}
	chLast, err := channelsLast(nsp+2, o.DataFormat)
	if err != nil {
		return nil, opError(op, err)
	}
	n, c := grad.Dim(0), filter.Dim(nsp)
	if chLast {
		return append(append([]int{n}, inputShape...), c), nil
	}
	return append([]int{n, c}, inputShape...), nil
}

// backpropFilterOp validates a filter gradient and runs fn(g, f, x, dy, dw).
func backpropFilterOp(op string, nsp int, input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions, depthwise bool, fn convKernel) (*tensor.Tensor, error) {
	if err := checkTensors(op, []string{"input", "grad"}, input, grad); err != nil {
		return nil, err
	}
	s, err := newConvSpec(op, nsp, input.Shape(), filterShape, o, depthwise)
	if err != nil {
		return nil, err
	}
	if err := s.checkGrad(grad); err != nil {
		return nil, err
	}
	x, xb := s.lastLayout(input.Data(), s.in)
	dy, db := s.lastLayout(grad.Data(), s.out)
	dw := newResult(s.filter...) // every kernel writes all of dw
	fn(&s.g, s.f, x, dy, dw.Data())
	putScratch(xb)
	putScratch(db)
	return dw, nil
}

// Scratch buffers come from internal/pool by power-of-two size class:
// fresh large allocations cost page faults on every call. getScratch's
// contents are undefined; putScratch hands the buffer back (nil is
// ignored) once nothing reads it.
func getScratch(n int) *[]float32 { return pool.GetClass(n) }

func putScratch(p *[]float32) { pool.PutClass(p) }

// convChunks splits the n·imgRows rows of a patch matrix into ranges of
// at most maxRows rows that either hold whole images (perImage == 0) or
// split each image into perImage ranges. The split depends only on the
// geometry, never on the number of workers, so results repeat bit for
// bit; and whole-image chunks can scatter into the input one image per
// worker.
func convChunks(n, imgRows, maxRows int) (chunks [][2]int, perImage int) {
	if imgRows <= maxRows {
		per := max(1, maxRows/max(imgRows, 1))
		for i := 0; i < n; i += per {
			chunks = append(chunks, [2]int{i * imgRows, min(i+per, n) * imgRows})
		}
		return chunks, 0
	}
	perImage = ceilDiv(imgRows, maxRows)
	size := ceilDiv(imgRows, perImage)
	for i := 0; i < n; i++ {
		for r := 0; r < imgRows; r += size {
			chunks = append(chunks, [2]int{i*imgRows + r, i*imgRows + min(r+size, imgRows)})
		}
	}
	return chunks, perImage
}

// pointwise reports a 1x1 window with stride 1 and no padding, where the
// input [rows, C] is its own patch matrix.
func pointwise(g *kernels.ConvGeom) bool {
	return g.K == [3]int{1, 1, 1} && g.Stride == [3]int{1, 1, 1} && g.Pad == [3]int{} && g.Out == g.In
}

// planChunksOf returns the chunks of g's patch matrix (each at most
// bytes), the chunks per image (0 when chunks hold whole images) and the
// rows of the longest.
func planChunksOf(g *kernels.ConvGeom, bytes int) (chunks [][2]int, perImage, longest int) {
	imgRows := g.Out[0] * g.Out[1] * g.Out[2]
	chunks, perImage = convChunks(g.N, imgRows, max(1, bytes/(4*max(g.PatchLen(), 1))))
	for _, c := range chunks {
		longest = max(longest, c[1]-c[0])
	}
	return chunks, perImage, longest
}

// im2col fills buf with patch rows [lo, hi), the rows split across the
// workers (each row is written by one of them).
func im2col(g *kernels.ConvGeom, x []float32, lo, hi int, buf []float32) {
	p := g.PatchLen()
	parallel.For(hi-lo, tune.Im2colMinRows, func(a, b int) {
		kernels.Im2col(g, x, lo+a, lo+b, buf[a*p:])
	})
}

// The forward pass gives each worker whole chunks (Im2col and a serial
// GEMM, the patches still in that core's L2). The GEMMs of the other
// paths run one after another: kernels.Sgemm spreads each one over the
// workers itself (and gives every element the same operations whatever
// the split).

// convForward computes y [N, OD, OH, OW, F] from x [N, D, H, W, C] and
// w [KD, KH, KW, C, F], all channels-last: y[rows, F] = patches[rows, P] · w[P, F],
// chunk by chunk.
func convForward(g *kernels.ConvGeom, f int, x, w, y []float32) {
	convForwardPlan(planConv(passForward, g, f), g, f, x, w, y, epilogue{})
}

// epilogue is what a forward convolution applies to its outputs as it
// writes them: nothing (the zero value), y + bias for a bias of F values
// (Conv2DBias), max(y + bias, 0) when relu is set (Conv2DBiasRelu),
// max((y + bias) + skip, 0) with a skip of y's shape (relu set too;
// Conv2DBiasAddRelu), or y + skip without a bias (relu not set; an input
// gradient summed into another, Conv2DBackpropInputAdd). Applied to each
// part of y as soon as it is final, while it is still in cache, instead
// of in a pass of its own.
type epilogue struct {
	bias []float32
	relu bool
	skip []float32 // from the part's first value: see from
}

// from returns the epilogue of the part of y that starts at value off
// (its skip sliced to match).
func (ep epilogue) from(off int) epilogue {
	if ep.skip != nil {
		ep.skip = ep.skip[off:]
	}
	return ep
}

// apply runs the epilogue in place on whole pixels y (F values each), the
// part of the output that ep (through from) starts at.
func (ep epilogue) apply(y []float32) {
	switch {
	case len(ep.bias) == 0 && ep.skip != nil:
		kernels.Add(y, y, ep.skip[:len(y)])
	case len(ep.bias) == 0:
	case ep.skip != nil:
		kernels.BiasSkipRelu(y, y, ep.skip[:len(y)], ep.bias)
	case ep.relu:
		kernels.BiasRelu(y, y, ep.bias)
	default:
		kernels.BiasAdd(y, y, ep.bias)
	}
}

// convForwardPlan is convForward following the forward plan pl,
// followed by ep.
func convForwardPlan(pl *convPlan, g *kernels.ConvGeom, f int, x, w, y []float32, ep epilogue) {
	p, rows := g.PatchLen(), g.OutPositions()
	switch pl.algo {
	case algoClear:
		if len(y) > 0 {
			clear(y)
			ep.apply(y)
		}
		return
	case algoPointwise:
		kernels.Sgemm(false, false, rows, f, p, 1, x, p, w, f, 0, y, f)
		ep.apply(y)
		return
	case algoWinograd:
		winogradConv(pl, g, f, x, w, y, ep, prologue{})
		return
	case algoDirectC1:
		convC1Forward(&pl.c1, g, f, x, w, y, ep)
		return
	}
	chunks, longest := pl.chunks, pl.longest
	if pl.split {
		// Too few chunks to share out (a single image): split each one,
		// or (a small one) run it on one goroutine or spread its rows
		// over the workers, whichever has been faster.
		if pl.ways != nil {
			way, start := pl.ways.choose()
			defer pl.ways.record(way, start)
			convRows(pl, g, f, x, w, y, ep, way == waySpread)
			return
		}
		buf := getScratch(longest * p)
		for _, c := range chunks {
			im2col(g, x, c[0], c[1], *buf)
			kernels.Sgemm(false, false, c[1]-c[0], f, p, 1, *buf, p, w, f, 0, y[c[0]*f:], f)
			ep.from(c[0] * f).apply(y[c[0]*f : c[1]*f])
		}
		putScratch(buf)
		return
	}
	// The filter is packed once and shared by every chunk. SgemmPackedB
	// gives the values of Sgemm, so y does not depend on the worker count.
	pw := kernels.PackB(false, p, f, w, f)
	defer pw.Release()
	parallel.For(len(chunks), 1, func(lo, hi int) {
		buf := getScratch(longest * p)
		for _, c := range chunks[lo:hi] {
			kernels.Im2col(g, x, c[0], c[1], *buf)
			kernels.SgemmPackedB(c[1]-c[0], 1, *buf, p, pw, 0, y[c[0]*f:], f)
			ep.from(c[0] * f).apply(y[c[0]*f : c[1]*f])
		}
		putScratch(buf)
	})
}

// convRows is convForwardPlan's split im2col path for a plan on a
// timer: each chunk copied and multiplied on one goroutine, or with
// spread its rows shared out among the workers, each copying and
// multiplying its own. A GEMM's row does not depend on the rows beside
// it, so y is the same either way.
func convRows(pl *convPlan, g *kernels.ConvGeom, f int, x, w, y []float32, ep epilogue, spread bool) {
	p := g.PatchLen()
	for _, c := range pl.chunks {
		rows := func(lo, hi int) {
			lo, hi = c[0]+lo, c[0]+hi
			buf := getScratch((hi - lo) * p)
			kernels.Im2col(g, x, lo, hi, *buf)
			kernels.SgemmSerial(false, false, hi-lo, f, p, 1, *buf, p, w, f, 0, y[lo*f:], f)
			ep.from(lo * f).apply(y[lo*f : hi*f])
			putScratch(buf)
		}
		if spread {
			parallel.For(c[1]-c[0], 1, rows)
		} else {
			rows(0, c[1]-c[0])
		}
	}
}

// convBackpropInput computes dx [N, D, H, W, C] from w [KD, KH, KW, C, F]
// and dy [N, OD, OH, OW, F]: at stride 1 (with enough channels) as the
// forward convolution of dy with the flipped filter (see planChunked),
// at larger strides without dilation (with enough channels) by sub-pixel
// phases (conv_strided.go), otherwise as dpatches = dy · wᵀ scattered
// back with Col2im. A non-nil add (dx's length) is summed in: as the
// first two write dx, after the others.
func convBackpropInput(g *kernels.ConvGeom, f int, w, dy, dx, add []float32) {
	pl := planConv(passInputGrad, g, f)
	switch pl.algo {
	case algoFlip:
		convInputGradFlip(pl, g, f, w, dy, dx, add)
		return
	case algoPhases:
		convInputGradPhases(pl, g, f, w, dy, dx, add)
		return
	}
	convInputGrad(pl, g, f, w, dy, dx)
	if add != nil {
		parallel.For(len(dx), elemMinPer, func(lo, hi int) { kernels.Add(dx[lo:hi], dx[lo:hi], add[lo:hi]) })
	}
}

// convInputGradFlip is convBackpropInput's flipped-filter forward pass
// (algoFlip), add summed in as an epilogue of the forward pass.
func convInputGradFlip(pl *convPlan, g *kernels.ConvGeom, f int, w, dy, dx, add []float32) {
	c := g.C
	taps := g.K[0] * g.K[1] * g.K[2]
	flipped := getScratch(len(w))
	wf := *flipped
	for k := 0; k < taps; k++ {
		src, dst := w[k*c*f:(k+1)*c*f], wf[(taps-1-k)*f*c:(taps-k)*f*c]
		for ch := 0; ch < c; ch++ {
			for j := 0; j < f; j++ {
				dst[j*c+ch] = src[ch*f+j]
			}
		}
	}
	convForwardPlan(pl.inner, &pl.back, c, dy, wf, dx, epilogue{skip: add})
	putScratch(flipped)
}

// convInputGrad is convBackpropInput on the plans other than algoFlip
// and algoPhases (convInputGradFlip's and convInputGradPhases'), without
// add.
func convInputGrad(pl *convPlan, g *kernels.ConvGeom, f int, w, dy, dx []float32) {
	p, rows := g.PatchLen(), g.OutPositions()
	c := g.C
	switch pl.algo {
	case algoClear:
		clear(dx)
		return
	case algoPointwise:
		kernels.Sgemm(false, true, rows, c, f, 1, dy, f, w, f, 0, dx, c)
		return
	}
	// wt [F, P] = wᵀ, so that the GEMM reads it row by row.
	wtb := getScratch(len(w))
	wt := *wtb
	for i := 0; i < p; i++ {
		for j := 0; j < f; j++ {
			wt[j*p+i] = w[i*f+j]
		}
	}
	chunks, perImage, longest := pl.chunks, pl.perImage, pl.longest
	imgRows := g.Out[0] * g.Out[1] * g.Out[2]
	imgIn := len(dx) / g.N
	buf := getScratch(longest * p)
	// Each image of dx is cleared just before its first patches are
	// added into it (by the worker that adds them, while it is cached),
	// not all of dx up front.
	for _, ch := range chunks {
		m, img := ch[1]-ch[0], ch[0]/imgRows
		kernels.Sgemm(false, false, m, p, f, 1, dy[ch[0]*f:], f, wt, p, 0, *buf, p)
		if perImage > 0 {
			if ch[0]%imgRows == 0 {
				clear(dx[img*imgIn : (img+1)*imgIn])
			}
			kernels.Col2im(g, *buf, ch[0], ch[1], dx)
			continue
		}
		// A chunk of whole images: the images scatter into disjoint parts of dx.
		parallel.For(m/imgRows, 1, func(lo, hi int) {
			clear(dx[(img+lo)*imgIn : (img+hi)*imgIn])
			kernels.Col2im(g, (*buf)[lo*imgRows*p:], ch[0]+lo*imgRows, ch[0]+hi*imgRows, dx)
		})
	}
	putScratch(buf)
	putScratch(wtb)
}

// convBackpropFilter computes dw [KD, KH, KW, C, F] = Σ_chunks patchesᵀ · dy
// from x [N, D, H, W, C] and dy [N, OD, OH, OW, F], accumulating in dw in
// chunk order.
func convBackpropFilter(g *kernels.ConvGeom, f int, x, dy, dw []float32) {
	pl := planConv(passFilterGrad, g, f)
	p, rows := g.PatchLen(), g.OutPositions()
	switch pl.algo {
	case algoClear:
		clear(dw)
		return
	case algoPointwise:
		kernels.Sgemm(true, false, p, f, rows, 1, x, p, dy, f, 0, dw, f)
		return
	case algoWinograd:
		winogradFilterGrad(pl, g, f, x, dy, dw, prologue{})
		return
	case algoDirectC1:
		convC1Filter(&pl.c1, g, f, x, dy, dw)
		return
	}
	chunks, longest, groups := pl.chunks, pl.longest, pl.groups
	if pl.split {
		buf := getScratch(longest * p)
		var beta float32
		for _, c := range chunks {
			im2col(g, x, c[0], c[1], *buf)
			kernels.Sgemm(true, false, p, f, c[1]-c[0], 1, *buf, p, dy[c[0]*f:], f, beta, dw, f)
			beta = 1
		}
		putScratch(buf)
		return
	}
	// Fixed groups of chunks (independent of the workers), each summed by
	// one worker into its own partial dw (Im2col and a serial GEMM, no
	// barrier per chunk), then the partials added in group order.
	pf := p * f
	parts := getScratch(groups * pf)
	parallel.For(groups, 1, func(lo, hi int) {
		buf := getScratch(longest * p)
		for gi := lo; gi < hi; gi++ {
			part := (*parts)[gi*pf : (gi+1)*pf]
			var beta float32
			for _, c := range chunks[gi*len(chunks)/groups : (gi+1)*len(chunks)/groups] {
				kernels.Im2col(g, x, c[0], c[1], *buf)
				kernels.SgemmSerial(true, false, p, f, c[1]-c[0], 1, *buf, p, dy[c[0]*f:], f, beta, part, f)
				beta = 1
			}
		}
		putScratch(buf)
	})
	sumGroups(dw, *parts, groups)
	putScratch(parts)
}

// sumGroups sets dst[i] = parts[0][i] + parts[1][i] + … in group order,
// parts holding groups partial sums of len(dst) values one after the
// other (dst may be the first of them). The elements are split across the
// workers, each summed in the same order whatever the split, so the
// result repeats bit for bit.
func sumGroups(dst, parts []float32, groups int) {
	n := len(dst)
	parallel.For(n, 1<<12, func(lo, hi int) {
		copy(dst[lo:hi], parts[lo:hi])
		for gi := 1; gi < groups; gi++ {
			for i, v := range parts[gi*n+lo : gi*n+hi] {
				dst[lo+i] += v
			}
		}
	})
}
