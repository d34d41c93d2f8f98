package nn

// Batch normalization over the last axis, forward and backward side by
// side. Shape legend: x is [N, …, C] (channels last) viewed as [M, C]
// with M = N·… the rows (every position of every example); mean,
// variance, scale (γ), offset (β) are [C]; r[c] = 1/√(variance[c] + ε).
//
// Inference (tf.nn.batch_normalization with given statistics):
//
//	y[m, c] = (x[m, c] − mean[c])·r[c]·γ[c] + β[c]
//	dx[m, c] = g[m, c]·γ[c]·r[c]
//	dγ[c] = Σ_m g[m, c]·(x[m, c] − mean[c])·r[c]      dβ[c] = Σ_m g[m, c]
//
// Training (tf.compat.v1.nn.fused_batch_norm with is_training, the batch's
// own statistics, variance biased: divided by M, not M − 1):
//
//	μ[c] = Σ_m x[m, c]/M      σ²[c] = Σ_m (x[m, c] − μ[c])²/M
//	x̂[m, c] = (x[m, c] − μ[c])·r[c]      y[m, c] = x̂[m, c]·γ[c] + β[c]
//	dβ[c] = Σ_m g      dγ[c] = Σ_m g·x̂
//	dx[m, c] = γ[c]·r[c]/M · (M·g[m, c] − dβ[c] − x̂[m, c]·dγ[c])
//
// (the derivation: μ and σ² depend on every row, which adds the two mean
// terms to the inference gradient). The fast kernels make one pass over
// x for both statistics and one for the output (the backward: one for
// both sums, one for dx); their sums run in float64 over a fixed split of
// the rows (chunkSums: blocks summed in parallel, added in order), so
// results do not depend on the number of threads. Each inner loop runs along the
// channels with per-channel coefficients: float32 data runs
// internal/kernels' batch-norm loops (AVX2 or AVX-512 where the CPU has
// them, with the Go loops' bits). batchNormRef is the plain-loop
// reference the tests hold them to. FusedBatchNormRelu adds a following
// ReLU to the output pass and its gradient mask to both backward passes;
// the backward takes the mask from x, recomputing the forward's pre-ReLU
// value (its coefficients a, b follow from the statistics it returns),
// rather than reading the output: one stream less in each pass.

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// bnCheck validates x (rank ≥ 1, channels last) and the tensors named in
// vecs: "grad", "y" and "skip" must have x's shape, the others are [C]
// vectors; all are required (a nil one is an error). It returns M and C.
func bnCheck(op string, x *tensor.Tensor, vecs map[string]*tensor.Tensor) (rows, c int, err error) {
	if x == nil {
		return 0, 0, fmt.Errorf("nn: %s: x is nil", op)
	}
	if x.Rank() < 1 {
		return 0, 0, fmt.Errorf("nn: %s: x must have rank ≥ 1 with channels last, got shape %v", op, x.Shape())
	}
	c = x.Dim(x.Rank() - 1)
	if c > 0 {
		rows = x.Len() / c
	}
	for _, name := range []string{"grad", "y", "skip", "mean", "variance", "offset", "scale"} {
		v, ok := vecs[name]
		if !ok {
			continue
		}
		if v == nil {
			return 0, 0, fmt.Errorf("nn: %s: %s is nil", op, name)
		}
		if name == "grad" || name == "y" || name == "skip" {
			if !tensor.SameShape(v.Shape(), x.Shape()) {
				return 0, 0, fmt.Errorf("nn: %s: %s has shape %v, want x's shape %v", op, name, v.Shape(), x.Shape())
			}
			continue
		}
		if v.Rank() != 1 || v.Dim(0) != c {
			return 0, 0, fmt.Errorf("nn: %s: %s has shape %v, want [%d] (the last dimension of x %v)", op, name, v.Shape(), c, x.Shape())
		}
	}
	return rows, c, nil
}

// BatchNormalization is tf.nn.batch_normalization with channels last and
// [C] statistics: y = (x − mean)·γ/√(variance + ε) + β, broadcast along
// the last axis of x [N, …, C]. Keras's BatchNormalization layer uses it
// at inference with its moving statistics. The result has x's shape.
func BatchNormalization(x, mean, variance, offset, scale *tensor.Tensor, epsilon float32) (*tensor.Tensor, error) {
	const op = "BatchNormalization"
	_, c, err := bnCheck(op, x, map[string]*tensor.Tensor{"mean": mean, "variance": variance, "offset": offset, "scale": scale})
	if err != nil {
		return nil, err
	}
	if err := checkEpsilon(op, epsilon); err != nil {
		return nil, err
	}
	a, b := bnAffine(mean.Data(), variance.Data(), scale.Data(), offset.Data(), float64(epsilon))
	y := newResult(x.Shape()...)
	bnApply(y.Data(), x.Data(), nil, a, b, c, false)
	return y, nil
}

// BatchNormalizationGrad returns the gradients of BatchNormalization
// with respect to x, scale and offset, the statistics held fixed:
// dx = g·γ·r, dγ[c] = Σ g·(x − mean)·r, dβ[c] = Σ g, r = 1/√(variance + ε).
func BatchNormalizationGrad(grad, x, mean, variance, scale *tensor.Tensor, epsilon float32) (dx, dscale, doffset *tensor.Tensor, err error) {
	const op = "BatchNormalizationGrad"
	rows, c, err := bnCheck(op, x, map[string]*tensor.Tensor{"grad": grad, "mean": mean, "variance": variance, "scale": scale})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkEpsilon(op, epsilon); err != nil {
		return nil, nil, nil, err
	}
	r := rsqrtEps(variance.Data(), epsilon)
	sums := bnGradSums(grad.Data(), x.Data(), nil, nil, mean.Data(), rows, c)
	dscale, doffset = tensor.Zeros(c), tensor.Zeros(c)
	a := make([]float32, c)
	zero := make([]float32, c)
	for ch := range c {
		doffset.Data()[ch] = float32(sums[ch])
		dscale.Data()[ch] = float32(sums[c+ch] * r[ch])
		a[ch] = float32(float64(scale.Data()[ch]) * r[ch])
	}
	dx = newResult(x.Shape()...)
	bnApply(dx.Data(), grad.Data(), nil, a, zero, c, false)
	return dx, dscale, doffset, nil
}

// FusedBatchNorm is the training form of batch normalization
// (tf.compat.v1.nn.fused_batch_norm, is_training=True, channels last): it
// normalises x [N, …, C] with the batch's own per-channel mean and biased
// variance and returns y = (x − μ)·γ/√(σ² + ε) + β together with μ and σ²
// ([C] each), which the Keras layer folds into its moving statistics.
func FusedBatchNorm(x, scale, offset *tensor.Tensor, epsilon float32) (y, mean, variance *tensor.Tensor, err error) {
	return fusedBatchNorm("FusedBatchNorm", x, nil, scale, offset, epsilon, false)
}

// FusedBatchNormRelu is FusedBatchNorm followed by Relu, the ReLU applied
// as the normalised values are written (one pass less over the output):
// y = max((x − μ)·γ/√(σ² + ε) + β, 0), with μ and σ² returned as by
// FusedBatchNorm. y has the bits of the two ops run in turn.
func FusedBatchNormRelu(x, scale, offset *tensor.Tensor, epsilon float32) (y, mean, variance *tensor.Tensor, err error) {
	return fusedBatchNorm("FusedBatchNormRelu", x, nil, scale, offset, epsilon, true)
}

// FusedBatchNormAddRelu is a residual join in training: FusedBatchNorm,
// then Add of skip (x's shape), then Relu, in one pass over the output:
// y = max((x − μ)·γ/√(σ² + ε) + β + skip, 0), with μ and σ² returned as
// by FusedBatchNorm. y has the bits of the three ops run in turn. Its
// gradient is ReluGrad's against y, which goes to skip as it is and
// through FusedBatchNormGrad to x, scale and offset.
func FusedBatchNormAddRelu(x, skip, scale, offset *tensor.Tensor, epsilon float32) (y, mean, variance *tensor.Tensor, err error) {
	if skip == nil {
		return nil, nil, nil, fmt.Errorf("nn: FusedBatchNormAddRelu: skip is nil")
	}
	return fusedBatchNorm("FusedBatchNormAddRelu", x, skip, scale, offset, epsilon, true)
}

// fusedBatchNorm validates and runs FusedBatchNorm, with skip added
// when it is not nil, and followed by a ReLU when relu.
func fusedBatchNorm(op string, x, skip, scale, offset *tensor.Tensor, epsilon float32, relu bool) (y, mean, variance *tensor.Tensor, err error) {
	vecs := map[string]*tensor.Tensor{"scale": scale, "offset": offset}
	var sk []float32
	if skip != nil {
		vecs["skip"], sk = skip, skip.Data()
	}
	rows, c, err := bnTrainCheck(op, x, vecs, epsilon)
	if err != nil {
		return nil, nil, nil, err
	}
	mean, variance, y = tensor.Zeros(c), tensor.Zeros(c), newResult(x.Shape()...)
	bnTrainForward(y.Data(), mean.Data(), variance.Data(), x.Data(), sk, scale.Data(), offset.Data(), rows, c, float64(epsilon), relu)
	return y, mean, variance, nil
}

// bnTrainCheck is bnCheck and checkEpsilon for a training op, which
// also needs rows to take its statistics over.
func bnTrainCheck(op string, x *tensor.Tensor, vecs map[string]*tensor.Tensor, epsilon float32) (rows, c int, err error) {
	rows, c, err = bnCheck(op, x, vecs)
	if err != nil {
		return 0, 0, err
	}
	if err := checkEpsilon(op, epsilon); err != nil {
		return 0, 0, err
	}
	if rows == 0 {
		return 0, 0, fmt.Errorf("nn: %s: x %v has no rows to take statistics over", op, x.Shape())
	}
	return rows, c, nil
}

// FusedBatchNormGrad returns the gradients of FusedBatchNorm with respect
// to x, scale and offset, given the incoming gradient, the forward input
// and the batch statistics FusedBatchNorm returned:
//
//	dβ = Σ g      dγ = Σ g·x̂      dx = γ·r/M · (M·g − dβ − x̂·dγ)
//
// with x̂ = (x − μ)·r, r = 1/√(σ² + ε), sums over the M rows. One pass
// gathers both sums, one more writes dx.
func FusedBatchNormGrad(grad, x, scale, mean, variance *tensor.Tensor, epsilon float32) (dx, dscale, doffset *tensor.Tensor, err error) {
	return fusedBatchNormGrad("FusedBatchNormGrad", grad, x, scale, nil, mean, variance, epsilon)
}

// FusedBatchNormReluGrad returns the gradients of FusedBatchNormRelu with
// respect to x, scale and offset, given the incoming gradient, the op's
// input x, its scale and offset and the batch statistics it returned:
// FusedBatchNormGrad's formulas with grad replaced by grad·[y > 0]
// (ReLU's gradient), the mask applied inside the two passes rather than
// in one of its own. The mask is taken where the forward's pre-ReLU
// value (x − μ)·γ/√(σ² + ε) + β, recomputed as the forward computed it,
// is > 0: the places where its output y is > 0, without reading y.
func FusedBatchNormReluGrad(grad, x, scale, offset, mean, variance *tensor.Tensor, epsilon float32) (dx, dscale, doffset *tensor.Tensor, err error) {
	return fusedBatchNormGrad("FusedBatchNormReluGrad", grad, x, scale, offset, mean, variance, epsilon)
}

// fusedBatchNormGrad validates and runs FusedBatchNormGrad, or with an
// offset FusedBatchNormReluGrad (grad masked where the forward's
// pre-ReLU value is ≤ 0).
func fusedBatchNormGrad(op string, grad, x, scale, offset, mean, variance *tensor.Tensor, epsilon float32) (dx, dscale, doffset *tensor.Tensor, err error) {
	vecs := map[string]*tensor.Tensor{"grad": grad, "scale": scale, "mean": mean, "variance": variance}
	relu := offset != nil
	if relu {
		vecs["offset"] = offset
	}
	rows, c, err := bnCheck(op, x, vecs)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkEpsilon(op, epsilon); err != nil {
		return nil, nil, nil, err
	}
	if rows == 0 {
		return nil, nil, nil, fmt.Errorf("nn: %s: x %v has no rows", op, x.Shape())
	}
	var fa, fb []float32
	if relu {
		fa, fb = bnAffine(mean.Data(), variance.Data(), scale.Data(), offset.Data(), float64(epsilon))
	}
	dx, dscale, doffset = newResult(x.Shape()...), tensor.Zeros(c), tensor.Zeros(c)
	bnTrainBackward(dx.Data(), dscale.Data(), doffset.Data(), grad.Data(), x.Data(), fa, fb, scale.Data(), mean.Data(), variance.Data(), rows, c, float64(epsilon))
	return dx, dscale, doffset, nil
}

// checkEpsilon rejects a negative or non-finite ε (TF requires ε ≥ 0;
// Keras's default is 1e-3).
func checkEpsilon(op string, eps float32) error {
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		return fmt.Errorf("nn: %s: epsilon must be a finite value ≥ 0, got %v", op, eps)
	}
	return nil
}

// rsqrtEps returns 1/√(v + ε) per channel in float64.
func rsqrtEps(v []float32, eps float32) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = 1 / math.Sqrt(float64(x)+float64(eps))
	}
	return r
}

// bnAffine folds statistics into y = x·a + b per channel: a = γ/√(σ² +
// ε) and b = β − μ·a, computed in float64 from the T values and rounded
// to T. Inference folds its given statistics; the training forward folds
// the batch statistics it returns (rounded to T first), so that its
// ReLU's backward can fold them again to the same bits.
func bnAffine[T float](mean, variance, scale, offset []T, eps float64) (a, b []T) {
	a, b = make([]T, len(mean)), make([]T, len(mean))
	for i := range mean {
		aa := float64(scale[i]) / math.Sqrt(float64(variance[i])+eps)
		a[i] = T(aa)
		b[i] = T(float64(offset[i]) - float64(mean[i])*aa)
	}
	return a, b
}

// bnTrainForward is FusedBatchNorm's kernel for x [rows, c]: it writes
// the batch mean and biased variance into mean and variance and the
// normalised output into y, plus skip when not nil, clamped at 0 when
// relu. Generic so that the tests can check it in float64 with finite
// differences.
func bnTrainForward[T float](y, mean, variance, x, skip, scale, offset []T, rows, c int, eps float64, relu bool) {
	a, b := bnTrainStats(mean, variance, x, scale, offset, rows, c, eps)
	bnApply(y, x, skip, a, b, c, relu)
}

// bnTrainStats writes the batch mean and biased variance of x [rows, c]
// into mean and variance (rounded to T) and returns them folded with
// scale and offset into the output's coefficients (bnAffine).
func bnTrainStats[T float](mean, variance, x, scale, offset []T, rows, c int, eps float64) (a, b []T) {
	mu, vr := bnMoments(x, rows, c)
	for ch := range c {
		mean[ch], variance[ch] = T(mu[ch]), T(vr[ch])
	}
	return bnAffine(mean, variance, scale, offset, eps)
}

// bnTrainBackward is FusedBatchNormGrad's kernel: one pass gathers Σg and
// Σg·(x − μ), then dx = k·g + a·x + b per channel with k = γr,
// a = −γr³·Σg·(x − μ)/M and b = −k·dβ/M − a·μ (the formula of
// FusedBatchNormGrad with x̂ expanded). Non-nil fa and fb (the forward's
// coefficients, when a ReLU follows) zero g where x·fa + fb ≤ 0 in both
// passes.
func bnTrainBackward[T float](dx, dscale, doffset, g, x, fa, fb, scale, mean, variance []T, rows, c int, eps float64) {
	sums := bnGradSums(g, x, fa, fb, mean, rows, c)
	k, a, b := make([]T, c), make([]T, c), make([]T, c)
	m := float64(rows)
	for ch := range c {
		r := 1 / math.Sqrt(float64(variance[ch])+eps)
		db, dgc := sums[ch], sums[c+ch]
		doffset[ch], dscale[ch] = T(db), T(dgc*r)
		kk := float64(scale[ch]) * r
		aa := -kk * r * r * dgc / m
		k[ch], a[ch], b[ch] = T(kk), T(aa), T(-kk*db/m-aa*float64(mean[ch]))
	}
	bnGradApply(dx, g, x, fa, fb, k, a, b, c)
}

// bnMoments returns the per-channel mean and biased variance of x [rows,
// c] from one pass: with s = x's first row (a shift close to the data,
// so the float64 sums do not cancel), S1 = Σ(x − s), S2 = Σ(x − s)²,
// μ = s + S1/M and σ² = S2/M − (S1/M)² (never below 0). float32 data runs
// kernels.ShiftedMoments, the same sums in the same order.
func bnMoments[T float](x []T, rows, c int) (mu, vr []float64) {
	shift := make([]float64, c)
	for ch, v := range x[:c] {
		shift[ch] = float64(v)
	}
	var sums []float64
	if x32, ok := any(x).([]float32); ok {
		sums = chunkSums(rows, 2*c, rows*c, func(lo, hi int, acc []float64) {
			kernels.ShiftedMoments(acc, x32[lo*c:hi*c], shift)
		})
	} else {
		sums = chunkSums(rows, 2*c, rows*c, func(lo, hi int, acc []float64) {
			s1, s2 := acc[:c], acc[c:2*c]
			for m := lo; m < hi; m++ {
				for ch, v := range x[m*c : (m+1)*c] {
					d := float64(v) - shift[ch]
					s1[ch] += d
					s2[ch] += d * d
				}
			}
		})
	}
	mu, vr = make([]float64, c), make([]float64, c)
	m := float64(rows)
	for ch := range c {
		d := sums[ch] / m
		mu[ch] = shift[ch] + d
		vr[ch] = max(sums[c+ch]/m-d*d, 0)
	}
	return mu, vr
}

// bnGradSums returns [Σ g | Σ g·(x − mean)] per channel (2·c values) in
// one pass over g and x (kernels.GradMoments for float32 data), g zeroed
// where x·fa + fb ≤ 0 when fa is not nil.
func bnGradSums[T float](g, x, fa, fb []T, mean []T, rows, c int) []float64 {
	mu := make([]float64, c)
	for ch, v := range mean {
		mu[ch] = float64(v)
	}
	if g32, ok := any(g).([]float32); ok {
		x32 := any(x).([]float32)
		if fa != nil {
			fa32, fb32 := any(fa).([]float32), any(fb).([]float32)
			return chunkSums(rows, 2*c, rows*c, func(lo, hi int, acc []float64) {
				kernels.GradMomentsRelu(acc, g32[lo*c:hi*c], x32[lo*c:hi*c], fa32, fb32, mu)
			})
		}
		return chunkSums(rows, 2*c, rows*c, func(lo, hi int, acc []float64) {
			kernels.GradMoments(acc, g32[lo*c:hi*c], x32[lo*c:hi*c], mu)
		})
	}
	return chunkSums(rows, 2*c, rows*c, func(lo, hi int, acc []float64) {
		sg, sgx := acc[:c], acc[c:2*c]
		for m := lo; m < hi; m++ {
			gr, xr := g[m*c:(m+1)*c], x[m*c:(m+1)*c]
			for ch, gv := range gr {
				if fa != nil && !(T(xr[ch]*fa[ch])+fb[ch] > 0) {
					gv = 0
				}
				sg[ch] += float64(gv)
				sgx[ch] += float64(gv) * (float64(xr[ch]) - mu[ch])
			}
		}
	})
}

// bnApply writes y = x·a + b per channel for x [rows, c], plus skip
// (x's length) when not nil, clamped at 0 when relu (skip only with
// relu).
func bnApply[T float](y, x, skip, a, b []T, c int, relu bool) {
	if c == 0 {
		return
	}
	rows := len(x) / c
	if x32, ok := any(x).([]float32); ok {
		y32, a32, b32 := any(y).([]float32), any(a).([]float32), any(b).([]float32)
		s32, _ := any(skip).([]float32)
		parallel.For(rows, max(1, elemMinPer/c), func(lo, hi int) {
			switch {
			case skip != nil:
				kernels.AffineAddRelu(y32[lo*c:hi*c], x32[lo*c:hi*c], s32[lo*c:hi*c], a32, b32)
				return
			case relu:
				kernels.AffineRelu(y32[lo*c:hi*c], x32[lo*c:hi*c], a32, b32)
				return
			}
			kernels.Affine(y32[lo*c:hi*c], x32[lo*c:hi*c], a32, b32)
		})
		return
	}
	parallel.For(rows, max(1, elemMinPer/c), func(lo, hi int) {
		for m := lo; m < hi; m++ {
			xr, yr := x[m*c:(m+1)*c], y[m*c:(m+1)*c]
			for ch, v := range xr {
				v = T(v*a[ch]) + b[ch] // rounded before the sum, as the kernels do
				if skip != nil {
					v += skip[m*c+ch]
				}
				if relu && v < 0 {
					v = 0
				}
				yr[ch] = v
			}
		}
	})
}

// bnGradApply writes dx = k·g + a·x + b per channel, g zeroed where
// x·fa + fb ≤ 0 when fa is not nil.
func bnGradApply[T float](dx, g, x, fa, fb, k, a, b []T, c int) {
	if c == 0 {
		return
	}
	rows := len(x) / c
	if g32, ok := any(g).([]float32); ok {
		x32, d32 := any(x).([]float32), any(dx).([]float32)
		k32, a32, b32 := any(k).([]float32), any(a).([]float32), any(b).([]float32)
		fa32, fb32 := any(fa).([]float32), any(fb).([]float32)
		parallel.For(rows, max(1, elemMinPer/c), func(lo, hi int) {
			if fa != nil {
				kernels.Affine2Relu(d32[lo*c:hi*c], g32[lo*c:hi*c], x32[lo*c:hi*c], fa32, fb32, k32, a32, b32)
				return
			}
			kernels.Affine2(d32[lo*c:hi*c], g32[lo*c:hi*c], x32[lo*c:hi*c], k32, a32, b32)
		})
		return
	}
	parallel.For(rows, max(1, elemMinPer/c), func(lo, hi int) {
		for m := lo; m < hi; m++ {
			gr, xr, dr := g[m*c:(m+1)*c], x[m*c:(m+1)*c], dx[m*c:(m+1)*c]
			for ch, gv := range gr {
				if fa != nil && !(T(xr[ch]*fa[ch])+fb[ch] > 0) {
					gv = 0
				}
				dr[ch] = k[ch]*gv + a[ch]*xr[ch] + b[ch]
			}
		}
	})
}

// batchNormRef is the plain-loop reference of the training forward and
// backward in float64, written straight from the formulas at the top of
// this file: it returns y, μ, σ², dx, dγ, dβ for x and g [rows, c].
func batchNormRef(x, g, scale, offset []float64, rows, c int, eps float64) (y, mu, vr, dx, dscale, doffset []float64) {
	mu, vr = make([]float64, c), make([]float64, c)
	for ch := range c {
		for m := range rows {
			mu[ch] += x[m*c+ch]
		}
		mu[ch] /= float64(rows)
		for m := range rows {
			d := x[m*c+ch] - mu[ch]
			vr[ch] += d * d
		}
		vr[ch] /= float64(rows)
	}
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	dscale, doffset = make([]float64, c), make([]float64, c)
	for ch := range c {
		r := 1 / math.Sqrt(vr[ch]+eps)
		for m := range rows {
			xh := (x[m*c+ch] - mu[ch]) * r
			y[m*c+ch] = xh*scale[ch] + offset[ch]
			doffset[ch] += g[m*c+ch]
			dscale[ch] += g[m*c+ch] * xh
		}
		for m := range rows {
			xh := (x[m*c+ch] - mu[ch]) * r
			dx[m*c+ch] = scale[ch] * r / float64(rows) * (float64(rows)*g[m*c+ch] - doffset[ch] - xh*dscale[ch])
		}
	}
	return y, mu, vr, dx, dscale, doffset
}
