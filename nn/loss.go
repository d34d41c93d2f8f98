package nn

// Losses. Shape legend: N examples, C classes; logits and labels are
// [N, C] for the softmax losses and of any (matching) shape for the
// sigmoid loss.

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// SoftmaxCrossEntropyWithLogits is TF's raw op of that name: for labels
// and logits of shape [N, C] it returns the per-example loss [N],
//
//	loss[n] = Σ_c labels[n,c]·(log Σ_j exp(logits[n,j]) − logits[n,c]),
//
// and backprop [N, C] = softmax(logits) − labels, its gradient with
// respect to logits when each row of labels sums to 1 (TF returns this
// same expression whatever the labels' sums). The log-sum-exp is taken
// after subtracting the row maximum, so large logits do not overflow.
func SoftmaxCrossEntropyWithLogits(labels, logits *tensor.Tensor) (loss, backprop *tensor.Tensor, err error) {
	const op = "SoftmaxCrossEntropyWithLogits"
	if err := opsSameShape(op, "labels", labels, "logits", logits); err != nil {
		return nil, nil, err
	}
	if logits.Rank() != 2 {
		return nil, nil, fmt.Errorf("nn: %s wants [N, C] logits and labels, got shape %v", op, logits.Shape())
	}
	n, c := logits.Dim(0), logits.Dim(1)
	loss, backprop = tensor.Zeros(n), tensor.Zeros(n, c)
	ld, bd, zd, xd := loss.Data(), backprop.Data(), labels.Data(), logits.Data()
	parallel.For(n, max(1, elemMinPer/max(c, 1)), func(lo, hi int) {
		softmaxXentKernel(ld[lo:hi], bd[lo*c:hi*c], zd[lo*c:hi*c], xd[lo*c:hi*c], c)
	})
	return loss, backprop, nil
}

// SparseSoftmaxCrossEntropyWithLogits is SoftmaxCrossEntropyWithLogits
// with one class index per example instead of a distribution: labels has
// N values in [0, C) and logits is [N, C]. loss[n] = log Σ_j
// exp(logits[n,j]) − logits[n, labels[n]], and backprop[n] =
// softmax(logits[n]) − onehot(labels[n]). A label outside [0, C) is an
// error naming it, as in TF.
func SparseSoftmaxCrossEntropyWithLogits(labels []int, logits *tensor.Tensor) (loss, backprop *tensor.Tensor, err error) {
	const op = "SparseSoftmaxCrossEntropyWithLogits"
	if logits == nil {
		return nil, nil, fmt.Errorf("nn: %s: logits is nil", op)
	}
	if logits.Rank() != 2 {
		return nil, nil, fmt.Errorf("nn: %s wants [N, C] logits, got shape %v", op, logits.Shape())
	}
	n, c := logits.Dim(0), logits.Dim(1)
	if len(labels) != n {
		return nil, nil, fmt.Errorf("nn: %s: %d labels for logits of shape %v (want %d)", op, len(labels), logits.Shape(), n)
	}
	for i, l := range labels {
		if l < 0 || l >= c {
			return nil, nil, fmt.Errorf("nn: %s: label %d of example %d is outside the valid range [0, %d) for logits of shape %v", op, l, i, c, logits.Shape())
		}
	}
	loss, backprop = tensor.Zeros(n), tensor.Zeros(n, c)
	ld, bd, xd := loss.Data(), backprop.Data(), logits.Data()
	parallel.For(n, max(1, elemMinPer/max(c, 1)), func(lo, hi int) {
		sparseSoftmaxXentKernel(ld[lo:hi], bd[lo*c:hi*c], labels[lo:hi], xd[lo*c:hi*c], c)
	})
	return loss, backprop, nil
}

// SigmoidCrossEntropyWithLogits returns the elementwise logistic loss of
// logits x against labels z (same shape, z usually in [0, 1]), in TF's
// overflow-free form
//
//	loss = max(x, 0) − x·z + log(1 + exp(−|x|)),
//
// which equals −z·log σ(x) − (1−z)·log(1−σ(x)).
func SigmoidCrossEntropyWithLogits(labels, logits *tensor.Tensor) (*tensor.Tensor, error) {
	return opsBinary("SigmoidCrossEntropyWithLogits", "labels", labels, "logits", logits, sigmoidXentKernel[float32])
}

// SigmoidCrossEntropyWithLogitsGrad returns the gradient of
// SigmoidCrossEntropyWithLogits with respect to logits, given grad, the
// gradient with respect to its output: grad·(σ(x) − z). labels, logits
// and grad have the same shape.
func SigmoidCrossEntropyWithLogitsGrad(labels, logits, grad *tensor.Tensor) (*tensor.Tensor, error) {
	const op = "SigmoidCrossEntropyWithLogitsGrad"
	if err := opsSameShape(op, "labels", labels, "logits", logits); err != nil {
		return nil, err
	}
	if err := opsSameShape(op, "logits", logits, "grad", grad); err != nil {
		return nil, err
	}
	dx := tensor.Zeros(logits.Shape()...)
	dd, zd, xd, gd := dx.Data(), labels.Data(), logits.Data(), grad.Data()
	parallel.For(len(dd), elemMinPer, func(lo, hi int) {
		sigmoidXentGradKernel(dd[lo:hi], zd[lo:hi], xd[lo:hi], gd[lo:hi])
	})
	return dx, nil
}

// softmaxXentKernel fills loss (one per row) and backprop for rows of c
// labels z and logits x.
func softmaxXentKernel[T float](loss, back, z, x []T, c int) {
	for r := range loss {
		xr, zr, br := x[r*c:(r+1)*c], z[r*c:(r+1)*c], back[r*c:(r+1)*c]
		if c == 0 {
			loss[r] = 0
			continue
		}
		m := rowMax(xr)
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		ls := math.Log(s)
		var l float64
		for i, v := range xr {
			sh := float64(v - m)
			l += float64(zr[i]) * (ls - sh)
			br[i] = T(math.Exp(sh)/s - float64(zr[i]))
		}
		loss[r] = T(l)
	}
}

// sparseSoftmaxXentKernel is softmaxXentKernel with one-hot labels given
// by index.
func sparseSoftmaxXentKernel[T float](loss, back []T, labels []int, x []T, c int) {
	for r := range loss {
		xr, br := x[r*c:(r+1)*c], back[r*c:(r+1)*c]
		m := rowMax(xr)
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		ls := math.Log(s)
		for i, v := range xr {
			br[i] = T(math.Exp(float64(v-m)) / s)
		}
		br[labels[r]] -= 1
		loss[r] = T(ls - float64(xr[labels[r]]-m))
	}
}

func sigmoidXentKernel[T float](dst, z, x []T) {
	z, x = z[:len(dst)], x[:len(dst)]
	for i, v := range x {
		xv := float64(v)
		dst[i] = T(math.Max(xv, 0) - xv*float64(z[i]) + math.Log1p(math.Exp(-math.Abs(xv))))
	}
}

func sigmoidXentGradKernel[T float](dst, z, x, g []T) {
	z, x, g = z[:len(dst)], x[:len(dst)], g[:len(dst)]
	for i, v := range x {
		dst[i] = T(float64(g[i]) * (sigmoid64(float64(v)) - float64(z[i])))
	}
}
