package summary

import (
	"fmt"
	"math"
	"sort"
)

// Histogram buckets are TensorFlow's default ones (tensorflow/core/lib/histogram):
// positive limits 1e-12·1.1^k for every k with 1e-12·1.1^k < 1e20 (computed by
// repeated multiplication, as TF does), then math.MaxFloat64; the negated
// limits in reverse order; 0 in between. Bucket i counts the values v with
// limit[i−1] ≤ v < limit[i] (bucket 0 starts at −MaxFloat64). As in TF's
// encoder, each run of empty buckets is written as one empty bucket whose
// limit is the run's last limit.
var defaultLimits = func() []float64 {
	var pos []float64
	for v := 1e-12; v < 1e20; v *= 1.1 {
		pos = append(pos, v)
	}
	pos = append(pos, math.MaxFloat64)
	limits := make([]float64, 0, 2*len(pos)+1)
	for i := len(pos) - 1; i >= 0; i-- {
		limits = append(limits, -pos[i])
	}
	limits = append(limits, 0)
	return append(limits, pos...)
}()

// Histogram is a HistogramProto: Num values with the given Min, Max, Sum
// and SumSquares (Σv²), and Bucket[i] of them between BucketLimit[i−1]
// (−MaxFloat64 for i = 0) and BucketLimit[i].
type Histogram struct {
	Min, Max, Num, Sum, SumSquares float64
	BucketLimit, Bucket            []float64
}

// newHistogram summarises values with the default TF buckets. Like TF's
// histogram summary it refuses NaN and ±Inf. For no values it gives TF's
// empty histogram: Min = MaxFloat64, Max = −MaxFloat64, one empty bucket.
func newHistogram(values []float32) (*Histogram, error) {
	counts := make([]float64, len(defaultLimits))
	h := &Histogram{Min: defaultLimits[len(defaultLimits)-1], Max: -math.MaxFloat64}
	for i, f := range values {
		v := float64(f)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("value %d is %v, want a finite number", i, f)
		}
		// The first limit greater than v (std::upper_bound in TF).
		b := sort.Search(len(defaultLimits), func(j int) bool { return defaultLimits[j] > v })
		counts[b]++
		h.Min, h.Max = min(h.Min, v), max(h.Max, v)
		h.Num++
		h.Sum += v
		h.SumSquares += v * v
	}
	for i := 0; i < len(counts); {
		end, c := defaultLimits[i], counts[i]
		i++
		if c <= 0 {
			for i < len(counts) && counts[i] <= 0 {
				end = defaultLimits[i]
				i++
			}
		}
		h.BucketLimit = append(h.BucketLimit, end)
		h.Bucket = append(h.Bucket, c)
	}
	return h, nil
}
