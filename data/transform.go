package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Normalization maps each value of channel c to (v − Mean[c]) / Std[c],
// the per-channel standardisation of torchvision's Normalize (and of
// Keras' Normalization layer with axis −1).
type Normalization struct {
	Mean, Std []float32
}

// ComputeNormalization returns the per-channel mean and (population)
// standard deviation of ds's images in [0, 1], summed in float64 over
// every pixel in example order. A channel whose deviation is below 1e-6
// gets Std 1. It reads every example once, on Batches' worker pool; with
// skipBad, examples that fail to read are left out, else the first
// failure is returned as a *ReadError.
func ComputeNormalization(ds Dataset, skipBad bool) (*Normalization, error) {
	sh := ds.Shape()
	sum := make([]float64, sh.C)
	sq := make([]float64, sh.C)
	n := 0
	b := NewBatches(ds, BatchOptions{BatchSize: 256, SkipBad: skipBad}, 0)
	defer b.Close()
	for {
		x, labels, ok := b.Next()
		if !ok {
			break
		}
		for j, v := range x.Data() {
			sum[j%sh.C] += float64(v)
			sq[j%sh.C] += float64(v) * float64(v)
		}
		n += len(labels)
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("data: cannot compute a normalisation from no examples")
	}
	cnt := float64(n * sh.H * sh.W)
	nm := &Normalization{Mean: make([]float32, sh.C), Std: make([]float32, sh.C)}
	for c := range sh.C {
		mean := sum[c] / cnt
		sd := math.Sqrt(max(sq[c]/cnt-mean*mean, 0))
		if sd < 1e-6 {
			sd = 1
		}
		nm.Mean[c], nm.Std[c] = float32(mean), float32(sd)
	}
	return nm, nil
}

// Apply normalises an HWC image of len(Mean) channels in place.
func (n *Normalization) Apply(img []float32) {
	c := len(n.Mean)
	for j := range img {
		img[j] = (img[j] - n.Mean[j%c]) / n.Std[j%c]
	}
}

// String encodes n as "mean0,mean1,…;std0,std1,…" with the shortest
// decimal that reads back to each float32 (the checkpoint metadata form).
func (n *Normalization) String() string {
	f := func(v []float32) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return strings.Join(s, ",")
	}
	return f(n.Mean) + ";" + f(n.Std)
}

// ParseNormalization reads String's form; channels is the number of
// channels expected. Deviations must be positive and finite.
func ParseNormalization(s string, channels int) (*Normalization, error) {
	parts := strings.Split(s, ";")
	if len(parts) != 2 {
		return nil, fmt.Errorf("data: normalisation %q, want \"MEAN,…;STD,…\"", s)
	}
	var vals [2][]float32
	for k, p := range parts {
		for _, f := range strings.Split(p, ",") {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("data: normalisation %q: %q is not a finite number", s, f)
			}
			vals[k] = append(vals[k], float32(v))
		}
	}
	if len(vals[0]) != channels || len(vals[1]) != channels {
		return nil, fmt.Errorf("data: normalisation %q has %d means and %d deviations, want %d of each", s, len(vals[0]), len(vals[1]), channels)
	}
	for _, sd := range vals[1] {
		if !(sd > 0) {
			return nil, fmt.Errorf("data: normalisation %q: deviation %v, want > 0", s, sd)
		}
	}
	return &Normalization{Mean: vals[0], Std: vals[1]}, nil
}

// Augment describes random changes made to each training image, drawn
// independently per example from a seed. All are off in the zero value.
// The image is rotated about its centre by an angle uniform in
// [−Rotate, Rotate] degrees, shifted by whole pixels dy, dx uniform in
// [−Shift, Shift] (a random crop of the image padded by Shift zeros on
// every side), and mirrored left-right with probability ½ when FlipH.
// Points that come from outside the image are 0; rotation samples
// bilinearly. With probability Erase, Erasing then sets a random
// rectangle of the normalised image to 0 (random erasing, Zhong et al.
// 2017, as torchvision's RandomErasing with its defaults after
// Normalize: the rectangle covers 2%…33% of the image, its aspect ratio
// log-uniform in [0.3, 3.3]).
type Augment struct {
	Shift  int
	FlipH  bool
	Rotate float64 // degrees
	Erase  float64 // probability, in [0, 1]
}

// Active reports whether a changes anything.
func (a Augment) Active() bool { return a.Shift > 0 || a.FlipH || a.Rotate != 0 || a.Erase > 0 }

func (a Augment) String() string {
	var p []string
	if a.Shift > 0 {
		p = append(p, fmt.Sprintf("shift:%d", a.Shift))
	}
	if a.FlipH {
		p = append(p, "flip")
	}
	if a.Rotate != 0 {
		p = append(p, fmt.Sprintf("rotate:%g", a.Rotate))
	}
	if a.Erase > 0 {
		p = append(p, fmt.Sprintf("erase:%g", a.Erase))
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ",")
}

// ParseAugment reads a comma-separated list of shift:N, flip,
// rotate:DEGREES and erase:P ("none" or "" for none), the --augment
// syntax.
func ParseAugment(s string) (Augment, error) {
	var a Augment
	if s == "" || s == "none" {
		return a, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, arg, hasArg := strings.Cut(item, ":")
		switch {
		case name == "flip" && !hasArg:
			a.FlipH = true
		case name == "shift" && hasArg:
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 || n > 64 {
				return a, fmt.Errorf("augment %q: shift:%s, want whole pixels 1…64", s, arg)
			}
			a.Shift = n
		case name == "rotate" && hasArg:
			d, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(d > 0 && d <= 180) {
				return a, fmt.Errorf("augment %q: rotate:%s, want degrees in (0, 180]", s, arg)
			}
			a.Rotate = d
		case name == "erase" && hasArg:
			p, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(p > 0 && p <= 1) {
				return a, fmt.Errorf("augment %q: erase:%s, want a probability in (0, 1]", s, arg)
			}
			a.Erase = p
		default:
			return a, fmt.Errorf("augment %q: unknown item %q, want shift:N, flip, rotate:DEGREES or erase:P", s, item)
		}
	}
	return a, nil
}

// Apply transforms the HWC image src of shape sh into dst (same length)
// with the draws of r: rotation angle, then dy, dx, then the flip.
// Output pixel (y, x) takes the source point p = R⁻¹·(q − c) + c with
// q = (y − dy, x' − dx), x' = W−1−x when flipped, and c the centre
// ((H−1)/2, (W−1)/2). Without rotation p is a whole pixel and copied
// exactly.
func (a Augment) Apply(dst, src []float32, sh Shape, r *rand.Rand) {
	var theta float64
	var dy, dx int
	flip := false
	if a.Rotate != 0 {
		theta = (r.Float64()*2 - 1) * a.Rotate * math.Pi / 180
	}
	if a.Shift > 0 {
		dy = r.IntN(2*a.Shift+1) - a.Shift
		dx = r.IntN(2*a.Shift+1) - a.Shift
	}
	if a.FlipH {
		flip = r.IntN(2) == 1
	}
	h, w, c := sh.H, sh.W, sh.C
	clear(dst)
	if theta == 0 {
		for y := range h {
			sy := y - dy
			if sy < 0 || sy >= h {
				continue
			}
			for x := range w {
				xx := x
				if flip {
					xx = w - 1 - x
				}
				sx := xx - dx
				if sx < 0 || sx >= w {
					continue
				}
				copy(dst[(y*w+x)*c:(y*w+x+1)*c], src[(sy*w+sx)*c:(sy*w+sx+1)*c])
			}
		}
		return
	}
	cos, sin := math.Cos(theta), math.Sin(theta)
	cy, cx := float64(h-1)/2, float64(w-1)/2
	for y := range h {
		for x := range w {
			xx := x
			if flip {
				xx = w - 1 - x
			}
			qy, qx := float64(y-dy)-cy, float64(xx-dx)-cx
			py := cos*qy - sin*qx + cy
			px := sin*qy + cos*qx + cx
			sampleBilinear(dst[(y*w+x)*c:(y*w+x+1)*c], src, sh, py, px)
		}
	}
}

// Erasing applies random erasing to the normalised HWC image img of
// shape sh, with the draws of r after Apply's: whether to erase (with
// probability a.Erase), then up to ten tries of an area fraction uniform
// in [0.02, 0.33) and a log-uniform aspect ratio h/w in [0.3, 3.3),
// giving h = round(√(area·ratio)) and w = round(√(area/ratio)); the first
// that fits strictly inside (h < H, w < W) is placed at a uniform corner
// and set to 0 in every channel. When no try fits, img is unchanged.
func (a Augment) Erasing(img []float32, sh Shape, r *rand.Rand) {
	if a.Erase <= 0 || r.Float64() >= a.Erase {
		return
	}
	area := float64(sh.H * sh.W)
	lo, hi := math.Log(0.3), math.Log(3.3)
	for range 10 {
		target := area * (0.02 + r.Float64()*(0.33-0.02))
		ratio := math.Exp(lo + r.Float64()*(hi-lo))
		h := int(math.Round(math.Sqrt(target * ratio)))
		w := int(math.Round(math.Sqrt(target / ratio)))
		if h < 1 || w < 1 || h >= sh.H || w >= sh.W {
			continue
		}
		y0, x0 := r.IntN(sh.H-h+1), r.IntN(sh.W-w+1)
		for y := y0; y < y0+h; y++ {
			clear(img[(y*sh.W+x0)*sh.C : (y*sh.W+x0+w)*sh.C])
		}
		return
	}
}

// sampleBilinear writes into out (C values) the bilinear interpolation of
// src at the real point (py, px), treating pixels outside as 0.
func sampleBilinear(out, src []float32, sh Shape, py, px float64) {
	y0, x0 := int(math.Floor(py)), int(math.Floor(px))
	fy, fx := float32(py-float64(y0)), float32(px-float64(x0))
	for k := range 4 {
		yy, xx := y0+k/2, x0+k%2
		if yy < 0 || yy >= sh.H || xx < 0 || xx >= sh.W {
			continue
		}
		wy, wx := 1-fy, 1-fx
		if k/2 == 1 {
			wy = fy
		}
		if k%2 == 1 {
			wx = fx
		}
		wgt := wy * wx
		if wgt == 0 {
			continue
		}
		p := src[(yy*sh.W+xx)*sh.C:]
		for ch := range out {
			out[ch] += wgt * p[ch]
		}
	}
}

// Resize scales an HWC image of shape from to shape to (same channels)
// with bilinear interpolation in the form of TensorFlow 2's
// tf.image.resize(method="bilinear", antialias=False): half-pixel
// centres, source coordinate s = (d + ½)·in/out − ½ clamped at the
// borders.
func Resize(dst, src []float32, from, to Shape) {
	c := from.C
	sy := float64(from.H) / float64(to.H)
	sx := float64(from.W) / float64(to.W)
	type tap struct {
		i0, i1 int
		f      float32
	}
	taps := func(out, in int, scale float64) []tap {
		t := make([]tap, out)
		for d := range t {
			s := (float64(d)+0.5)*scale - 0.5
			s = max(s, 0)
			i0 := min(int(s), in-1)
			i1 := min(i0+1, in-1)
			t[d] = tap{i0, i1, float32(s - float64(i0))}
		}
		return t
	}
	ty, tx := taps(to.H, from.H, sy), taps(to.W, from.W, sx)
	for y, a := range ty {
		for x, b := range tx {
			o := dst[(y*to.W+x)*c : (y*to.W+x+1)*c]
			p00 := src[(a.i0*from.W+b.i0)*c:]
			p01 := src[(a.i0*from.W+b.i1)*c:]
			p10 := src[(a.i1*from.W+b.i0)*c:]
			p11 := src[(a.i1*from.W+b.i1)*c:]
			for ch := range o {
				top := p00[ch] + (p01[ch]-p00[ch])*b.f
				bot := p10[ch] + (p11[ch]-p10[ch])*b.f
				o[ch] = top + (bot-top)*a.f
			}
		}
	}
}
