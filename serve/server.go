// Package serve serves a model over HTTP with the Open Inference Protocol
// (the KServe v2 REST protocol, also spoken by Triton and Seldon), and a
// web page to draw a digit and watch the convolutions.
//
// Endpoints (JSON bodies; errors are {"error": "…"}):
//
//	GET  /v2/health/live, /v2/health/ready      200, or 503 when not ready
//	GET  /v2                                    server metadata
//	GET  /v2/models/{name}[/versions/{v}]       model metadata: inputs, outputs
//	GET  /v2/models/{name}[/versions/{v}]/ready 200, or 503 when not ready
//	POST /v2/models/{name}[/versions/{v}]/infer inference on FP32 tensors
//	POST /v1/models/{name}/predict-image        PNG/JPEG/GIF digit → top-k classes
//	POST /v1/models/{name}/features             digit image → top-3 and feature-map images
//	GET  /v1/models/{name}/training             the training run's metrics.jsonl
//	POST /v1/filter                             image + kernels → filtered images
//	GET  /v1/kernels                            the built-in kernels
//	GET  /metrics                               Prometheus text format
//	GET  /                                      the web page
//
// Infer requests are batched dynamically (Options.MaxBatch, MaxDelay);
// at most Options.Workers batches run at once, at most MaxQueue requests
// wait for one, and at most MaxQueue + Workers·MaxBatch infer requests are
// read, queued or run at a time (503 beyond either). Bodies over
// MaxBodyBytes, or infer bodies over 32 bytes per value of MaxBatch
// examples plus 64 KiB, get 413; images whose header claims more than
// MaxPixels pixels get 400 before decoding; an unknown model or version
// 404; every other bad request 400 with a message naming what was
// received and what was expected. Each request is logged in one
// structured line. Serve drains in-flight requests when its context ends.
//
// The package does not do TLS, authentication, gRPC or binary tensor
// extensions; put a proxy (or KServe) in front for those.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Options configure a Server. Zero values take the defaults named.
type Options struct {
	// Name is the model's name in URLs (default "convnet").
	Name string
	// Version is the model's version (default "1").
	Version string
	// Platform is reported in the model metadata (default "convnet").
	Platform string
	// MaxBatch is the most examples one model call takes (default 32);
	// an infer request with a larger batch is refused.
	MaxBatch int
	// MaxDelay is how long a batch waits for more requests after its
	// first (default 1 ms; a negative value means no wait).
	MaxDelay time.Duration
	// Workers is the number of batches run at once (default 1: on two
	// cores one batch at a time, each using every core, made fuller
	// batches and took less CPU per request than two; see README).
	Workers int
	// MaxQueue is the number of requests that may wait for a batch
	// (default 1024); more get 503.
	MaxQueue int
	// MaxBodyBytes bounds request bodies (default 8 MiB); larger get 413.
	MaxBodyBytes int64
	// MaxPixels bounds the pixels an uploaded image's header may claim
	// (default 16,000,000).
	MaxPixels int64
	// MaxImageWork bounds the image requests (predict-image, features,
	// filter) handled at once (default 2·Workers); more get 503.
	MaxImageWork int
	// RunDir is the training run's directory holding metrics.jsonl, or
	// "" when the model did not come from a run.
	RunDir string
	// Logger receives one line per request (default slog.Default()).
	Logger *slog.Logger
	// ReadTimeout, WriteTimeout and IdleTimeout are the http.Server's
	// (defaults 30 s, 30 s, 120 s); ReadHeaderTimeout is 10 s.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// DrainTimeout bounds how long Serve waits for in-flight requests
	// after its context ends (default 30 s).
	DrainTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Name == "" {
		o.Name = "convnet"
	}
	if o.Version == "" {
		o.Version = "1"
	}
	if o.Platform == "" {
		o.Platform = "convnet"
	}
	set(&o.MaxBatch, 32)
	set(&o.Workers, 1)
	set(&o.MaxQueue, 1024)
	set(&o.MaxImageWork, 2*o.Workers)
	if o.MaxDelay == 0 {
		o.MaxDelay = time.Millisecond
	}
	if o.MaxDelay < 0 {
		o.MaxDelay = 0
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = 16_000_000
	}
	for _, d := range []*time.Duration{&o.ReadTimeout, &o.WriteTimeout, &o.DrainTimeout} {
		if *d == 0 {
			*d = 30 * time.Second
		}
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 120 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for _, c := range o.Name + o.Version {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return o, fmt.Errorf("serve: model name %q and version %q: use letters, digits, '-', '_' and '.' only", o.Name, o.Version)
		}
	}
	switch {
	case o.MaxBatch < 1, o.Workers < 1, o.MaxQueue < 1, o.MaxImageWork < 1:
		return o, fmt.Errorf("serve: MaxBatch %d, Workers %d, MaxQueue %d, MaxImageWork %d: want each ≥ 1", o.MaxBatch, o.Workers, o.MaxQueue, o.MaxImageWork)
	case o.MaxBodyBytes < 1, o.MaxPixels < 1:
		return o, fmt.Errorf("serve: MaxBodyBytes %d, MaxPixels %d: want each ≥ 1", o.MaxBodyBytes, o.MaxPixels)
	}
	return o, nil
}

// Server answers the endpoints listed in the package doc for one model.
// Make it with New; it is an http.Handler.
type Server struct {
	model     Model
	opt       Options
	batcher   *batcher
	metrics   *metrics
	mux       *http.ServeMux
	imageWork chan struct{} // semaphore for image requests
	inflight  atomic.Int64
	inferring atomic.Int64 // infer requests between reading and answering
	inferBody int64        // body limit of infer requests
	draining  atomic.Bool
}

// New returns a server for m and starts its batch workers; Close (or
// Serve's end) stops them.
func New(m Model, o Options) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(m.Inputs()) == 0 || len(m.Outputs()) == 0 {
		return nil, errors.New("serve: the model declares no inputs or no outputs")
	}
	for _, s := range append(append([]TensorSpec(nil), m.Inputs()...), m.Outputs()...) {
		if s.Datatype != FP32 || len(s.Shape) < 1 || s.Shape[0] != -1 {
			return nil, fmt.Errorf("serve: tensor %q is %s %v; want FP32 with a leading batch dimension -1", s.Name, s.Datatype, s.Shape)
		}
	}
	s := &Server{model: m, opt: o, metrics: newMetrics(o.MaxBatch), mux: http.NewServeMux(), imageWork: make(chan struct{}, o.MaxImageWork)}
	// An infer body needs at most MaxBatch examples of JSON numbers; 32
	// bytes a value leaves room for long decimals and pretty-printing.
	var values int64
	for _, in := range m.Inputs() {
		values += int64(in.elems())
	}
	s.inferBody = min(o.MaxBodyBytes, int64(o.MaxBatch)*values*32+64<<10)
	s.batcher = newBatcher(m, o.Workers, o.MaxBatch, o.MaxQueue, o.MaxDelay, s.metrics)
	s.routes()
	return s, nil
}

// Close stops the batch workers after the queued requests are answered.
// Requests arriving afterwards get 503.
func (s *Server) Close() { s.batcher.close() }

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve answers HTTP requests on ln until ctx ends, then stops accepting
// connections, reports not ready, waits up to DrainTimeout for the
// requests in flight, and stops the batch workers. It returns nil after a
// clean drain.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadTimeout:       s.opt.ReadTimeout,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      s.opt.WriteTimeout,
		IdleTimeout:       s.opt.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.opt.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.opt.Logger.Info("draining", "in_flight", s.inflight.Load())
	sctx, cancel := context.WithTimeout(context.Background(), s.opt.DrainTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("serve: draining: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.opt.Logger.Info("stopped")
	return nil
}

// routes registers every endpoint, each wrapped with logging and metrics
// under a short handler name.
func (s *Server) routes() {
	h := func(pattern, name string, fn func(http.ResponseWriter, *http.Request) error) {
		s.mux.Handle(pattern, s.wrap(name, fn))
	}
	h("GET /v2/health/live", "live", s.live)
	h("GET /v2/health/ready", "ready", s.ready)
	h("GET /v2", "server_metadata", s.serverMetadata)
	for _, prefix := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		h("GET "+prefix, "model_metadata", s.modelMetadata)
		h("GET "+prefix+"/ready", "model_ready", s.modelReady)
		h("POST "+prefix+"/infer", "infer", s.infer)
	}
	h("POST /v1/models/{name}/predict-image", "predict_image", s.predictImage)
	h("POST /v1/models/{name}/features", "features", s.features)
	h("GET /v1/models/{name}/training", "training", s.training)
	h("POST /v1/filter", "filter", s.filter)
	h("GET /v1/kernels", "kernels", s.kernels)
	h("GET /metrics", "metrics", s.writeMetrics)
	h("GET /{$}", "page", s.page)
	h("/", "not_found", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no endpoint %s %s; see GET /v2 and the Open Inference Protocol's paths", r.Method, r.URL.Path)
	})
}

// httpError is an error with the status code to answer it with.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// statusWriter remembers the status code and size of a response.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// wrap turns fn into a handler that bounds the body, answers fn's error
// as JSON, logs one line and records the metrics.
func (s *Server) wrap(name string, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		w := &statusWriter{ResponseWriter: rw}
		r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
		var msg string
		if err := fn(w, r); err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			var mb *http.MaxBytesError
			switch {
			case errors.As(err, &he):
				code = he.code
			case errors.As(err, &mb):
				code = http.StatusRequestEntityTooLarge
				err = fmt.Errorf("request body is larger than the limit of %d bytes", mb.Limit)
			case errors.Is(err, errQueueFull), errors.Is(err, errClosed):
				code = http.StatusServiceUnavailable
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				code = http.StatusServiceUnavailable
				err = fmt.Errorf("request ended before the model answered: %w", err)
			}
			msg = err.Error()
			if code == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			writeJSON(w, code, map[string]string{"error": msg})
		}
		d := time.Since(start)
		s.metrics.request(name, w.code, d)
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("handler", name),
			slog.Int("status", w.code), slog.Int("bytes", w.bytes),
			slog.Float64("ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr),
		}
		if msg != "" {
			attrs = append(attrs, slog.String("error", msg))
		}
		s.opt.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func (s *Server) live(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	return nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return errorf(http.StatusServiceUnavailable, "server is shutting down")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	return nil
}

// serverMetadata answers the protocol's server metadata.
func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"name": "convnet", "version": s.opt.Version, "extensions": []string{}})
	return nil
}

// checkModel answers 404 unless the path names this server's model (and
// version, when given).
func (s *Server) checkModel(r *http.Request) error {
	if name := r.PathValue("name"); name != s.opt.Name {
		return errorf(http.StatusNotFound, "unknown model %q; this server serves %q", name, s.opt.Name)
	}
	if v := r.PathValue("version"); v != "" && v != s.opt.Version {
		return errorf(http.StatusNotFound, "model %q has no version %q; it has version %q", s.opt.Name, v, s.opt.Version)
	}
	return nil
}

// modelMetadata answers the protocol's model metadata.
func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkModel(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": s.opt.Name, "versions": []string{s.opt.Version}, "platform": s.opt.Platform,
		"inputs": s.model.Inputs(), "outputs": s.model.Outputs(),
	})
	return nil
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkModel(r); err != nil {
		return err
	}
	return s.ready(w, r)
}

func (s *Server) writeMetrics(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.writeTo(w, len(s.batcher.queue), int(s.inflight.Load()))
	return nil
}
