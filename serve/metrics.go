package serve

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds, in seconds, of the request
// latency histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// histogram is a Prometheus histogram: counts[i] counts observations
// ≤ bounds[i] that are above bounds[i−1]; the last count is for +Inf.
type histogram struct {
	bounds []float64
	counts []uint64
	sum    float64
	n      uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

// write prints the histogram's _bucket (cumulative), _sum and _count
// lines; labels is "" or `key="value",` pairs ending in a comma.
func (h *histogram) write(w io.Writer, name, labels string) {
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%sle=%q} %d\n", name, labels, formatFloat(b), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%sle=\"+Inf\"} %d\n", name, labels, cum)
	trimmed := labels
	if trimmed != "" {
		trimmed = "{" + trimmed[:len(trimmed)-1] + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %s\n%s_count%s %d\n", name, trimmed, formatFloat(h.sum), name, trimmed, h.n)
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// metrics holds the server's counters and histograms, exposed by
// writeTo in the Prometheus text exposition format (version 0.0.4).
type metrics struct {
	mu         sync.Mutex
	requests   map[[2]string]uint64 // {handler, code} → count
	latency    map[string]*histogram
	batchSizes *histogram
	batches    uint64
	examples   uint64
	rejected   uint64 // requests refused because the queue was full
}

func newMetrics(maxBatch int) *metrics {
	var bounds []float64
	for b := 1; b < maxBatch; b *= 2 {
		bounds = append(bounds, float64(b))
	}
	bounds = append(bounds, float64(maxBatch))
	return &metrics{
		requests:   map[[2]string]uint64{},
		latency:    map[string]*histogram{},
		batchSizes: newHistogram(bounds),
	}
}

// request records one finished HTTP request.
func (m *metrics) request(handler string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{handler, strconv.Itoa(code)}]++
	h := m.latency[handler]
	if h == nil {
		h = newHistogram(latencyBuckets)
		m.latency[handler] = h
	}
	h.observe(d.Seconds())
}

// batch records one model call on n examples.
func (m *metrics) batch(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batchSizes.observe(float64(n))
	m.batches++
	m.examples += uint64(n)
}

func (m *metrics) reject() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejected++
}

// writeTo writes every metric; queued and inflight are the current queue
// length and the number of requests being handled.
func (m *metrics) writeTo(w io.Writer, queued, inflight int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP convnet_http_requests_total HTTP requests answered, by handler and status code.")
	fmt.Fprintln(w, "# TYPE convnet_http_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if a[0] != b[0] {
			return strings.Compare(a[0], b[0])
		}
		return strings.Compare(a[1], b[1])
	})
	for _, k := range keys {
		fmt.Fprintf(w, "convnet_http_requests_total{handler=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP convnet_http_request_duration_seconds Time from reading a request to its last byte written, by handler.")
	fmt.Fprintln(w, "# TYPE convnet_http_request_duration_seconds histogram")
	handlers := make([]string, 0, len(m.latency))
	for h := range m.latency {
		handlers = append(handlers, h)
	}
	slices.Sort(handlers)
	for _, h := range handlers {
		m.latency[h].write(w, "convnet_http_request_duration_seconds", fmt.Sprintf("handler=%q,", h))
	}
	fmt.Fprintln(w, "# HELP convnet_batch_size Examples per model call made by the dynamic batcher.")
	fmt.Fprintln(w, "# TYPE convnet_batch_size histogram")
	m.batchSizes.write(w, "convnet_batch_size", "")
	fmt.Fprintln(w, "# HELP convnet_batches_total Model calls made by the dynamic batcher.")
	fmt.Fprintln(w, "# TYPE convnet_batches_total counter")
	fmt.Fprintf(w, "convnet_batches_total %d\n", m.batches)
	fmt.Fprintln(w, "# HELP convnet_queue_rejected_total Requests refused with 503 because the queue was full.")
	fmt.Fprintln(w, "# TYPE convnet_queue_rejected_total counter")
	fmt.Fprintf(w, "convnet_queue_rejected_total %d\n", m.rejected)
	fmt.Fprintln(w, "# HELP convnet_queue_length Requests waiting for a batch.")
	fmt.Fprintln(w, "# TYPE convnet_queue_length gauge")
	fmt.Fprintf(w, "convnet_queue_length %d\n", queued)
	fmt.Fprintln(w, "# HELP convnet_requests_in_flight HTTP requests being handled.")
	fmt.Fprintln(w, "# TYPE convnet_requests_in_flight gauge")
	fmt.Fprintf(w, "convnet_requests_in_flight %d\n", inflight)
}
