// Package nn implements TensorFlow's tf.nn operations on float32 tensors
// with TensorFlow's exact semantics: convolutions, pooling, dense algebra,
// activations, losses and dropout, each with its gradient ops exported
// the way TF exports its raw ops (Conv2DBackpropInput, MaxPoolGrad, …).
//
// Layout is channels-last by default: inputs are NWC, NHWC or NDHWC and
// filters WIO, HWIO or DHWIO; depthwise filters are [KH, KW, C, M].
// Channels-first data formats are accepted where TF accepts them.
//
// Every op validates its arguments where TF does and returns an error
// quoting what it received; none panics on bad input.
//
// Padding follows TF: SAME gives out = ⌈in/s⌉ and pads
// max((out−1)·s + (k−1)·d + 1 − in, 0) cells, half before and the odd one
// after; VALID gives out = ⌈(in − (k−1)·d)/s⌉.
package nn
