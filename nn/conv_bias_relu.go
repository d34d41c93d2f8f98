package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// Conv2DBiasRelu returns Relu(BiasAdd(Conv2D(input, filter, o), bias)),
// what tf.layers.conv2d with activation=tf.nn.relu computes, with the
// bias and the ReLU applied as the convolution writes each part of its
// output (still in cache) rather than in passes of their own. The result
// has the bits of the three ops run in turn. bias has shape [F], F the
// filter's last dimension; the data format is o.DataFormat's.
func Conv2DBiasRelu(input, filter, bias *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return conv2DBias("Conv2DBiasRelu", input, filter, bias, nil, o, nil, true)
}

// Conv2DBiasReluPacked is Conv2DBiasRelu(input, p.Tensor(), bias, o) with
// the filter's prepared forms kept in p, as Conv2DPacked; the values are
// Conv2DBiasRelu's.
func Conv2DBiasReluPacked(input *tensor.Tensor, p *Packed, bias *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	if p == nil {
		return nil, fmt.Errorf("Conv2DBiasRelu: nil Packed")
	}
	return conv2DBias("Conv2DBiasRelu", input, p.w, bias, nil, o, p, true)
}

// Conv2DBias returns BiasAdd(Conv2D(input, filter, o), bias) with the
// bias added as the convolution writes each part of its output, as in
// Conv2DBiasRelu (and with the bits of the two ops run in turn).
func Conv2DBias(input, filter, bias *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return conv2DBias("Conv2DBias", input, filter, bias, nil, o, nil, false)
}

// Conv2DBiasPacked is Conv2DBias(input, p.Tensor(), bias, o) with the
// filter's prepared forms kept in p, as Conv2DPacked.
func Conv2DBiasPacked(input *tensor.Tensor, p *Packed, bias *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	if p == nil {
		return nil, fmt.Errorf("Conv2DBias: nil Packed")
	}
	return conv2DBias("Conv2DBias", input, p.w, bias, nil, o, p, false)
}

// Conv2DBiasAddRelu returns Relu(Add(BiasAdd(Conv2D(input, filter, o),
// bias), skip)): a residual join, the skip added and the ReLU applied as
// the convolution writes each part of its output, with the bits of the
// ops run in turn. skip has the output's shape; the data format must be
// channels last (NHWC).
func Conv2DBiasAddRelu(input, filter, bias, skip *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	if skip == nil {
		return nil, fmt.Errorf("Conv2DBiasAddRelu: skip is nil")
	}
	return conv2DBias("Conv2DBiasAddRelu", input, filter, bias, skip, o, nil, true)
}

// Conv2DBiasAddReluPacked is Conv2DBiasAddRelu(input, p.Tensor(), bias,
// skip, o) with the filter's prepared forms kept in p, as Conv2DPacked.
func Conv2DBiasAddReluPacked(input *tensor.Tensor, p *Packed, bias, skip *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	switch {
	case p == nil:
		return nil, fmt.Errorf("Conv2DBiasAddRelu: nil Packed")
	case skip == nil:
		return nil, fmt.Errorf("Conv2DBiasAddRelu: skip is nil")
	}
	return conv2DBias("Conv2DBiasAddRelu", input, p.w, bias, skip, o, p, true)
}

// conv2DBias runs Conv2DBias, or Conv2DBiasRelu when relu is set, or
// Conv2DBiasAddRelu with a skip (relu set), as op, with the filter's
// forms from p when p is not nil (p.w is filter).
func conv2DBias(op string, input, filter, bias, skip *tensor.Tensor, o ConvOptions, p *Packed, relu bool) (*tensor.Tensor, error) {
	if err := checkTensors(op, []string{"input", "filter", "bias"}, input, filter, bias); err != nil {
		return nil, err
	}
	var s *convSpec
	var pl *convPlan
	var err error
	if p != nil {
		s, pl, err = p.forwardSetup(op, input.Shape(), o)
	} else {
		s, err = newConvSpec(op, 2, input.Shape(), filter.Shape(), o, false)
	}
	if err != nil {
		return nil, err
	}
	if b := bias.Shape(); len(b) != 1 || b[0] != s.f {
		return nil, fmt.Errorf("%s: bias must have shape [%d] (the filter's output channels), got %v", op, s.f, b)
	}
	ep := epilogue{bias: bias.Data(), relu: relu}
	if skip != nil {
		if !tensor.SameShape(skip.Shape(), s.out) || !s.chLast {
			return nil, fmt.Errorf("%s: skip must have the output's shape %v (channels last), got %v", op, s.out, skip.Shape())
		}
		ep.skip = skip.Data()
	}
	x, xb := s.lastLayout(input.Data(), s.in)
	y := s.result(s.out, func(y []float32) {
		if p != nil {
			p.convForward(pl, &s.g, s.f, x, filter.Data(), y, ep)
			return
		}
		convForwardPlan(planConv(passForward, &s.g, s.f), &s.g, s.f, x, filter.Data(), y, ep)
	})
	putScratch(xb)
	return y, nil
}
