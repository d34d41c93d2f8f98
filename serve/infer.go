package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// InferRequest is the Open Inference Protocol's inference request:
//
//	{"id": "…", "inputs": [{"name": "input", "shape": [N, 28, 28, 1],
//	  "datatype": "FP32", "data": [ … N·784 numbers, flat or nested … ]}],
//	 "outputs": [{"name": "probabilities"}]}
//
// outputs is optional: without it every output is returned.
type InferRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Inputs     []InferInput    `json:"inputs"`
	Outputs    []struct {
		Name string `json:"name"`
	} `json:"outputs,omitempty"`
}

// InferInput is one input tensor of an InferRequest; Data holds the
// values row-major, as one flat array or nested arrays.
type InferInput struct {
	Name     string          `json:"name"`
	Shape    []int64         `json:"shape"`
	Datatype string          `json:"datatype"`
	Data     json.RawMessage `json:"data"`

	values  []float32 // Data's numbers, as readInferRequest parsed them
	dataErr string    // why Data is not an array of finite FP32 numbers
}

// InferResponse is the protocol's inference response.
type InferResponse struct {
	ModelName    string        `json:"model_name"`
	ModelVersion string        `json:"model_version,omitempty"`
	ID           string        `json:"id,omitempty"`
	Outputs      []InferOutput `json:"outputs"`
}

// InferOutput is one output tensor: Data holds the values row-major.
type InferOutput struct {
	Name     string    `json:"name"`
	Shape    []int64   `json:"shape"`
	Datatype string    `json:"datatype"`
	Data     []float32 `json:"data"`
}

// readBody reads the whole (size-limited) request body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	return b, nil
}

// decodeInfer parses and checks an infer request against the model: the
// batch size n and one slice of values per model input (in the model's
// order), and the indices of the outputs to return.
func (s *Server) decodeInfer(body []byte) (req InferRequest, n int, in [][]float32, outs []int, err error) {
	req, err = readInferRequest(body)
	if err != nil {
		return req, 0, nil, nil, errorf(http.StatusBadRequest, "infer request: %v", err)
	}
	specs := s.model.Inputs()
	if len(req.Inputs) != len(specs) {
		return req, 0, nil, nil, errorf(http.StatusBadRequest, "%d inputs; model %q takes %d (%s)", len(req.Inputs), s.opt.Name, len(specs), specNames(specs))
	}
	in = make([][]float32, len(specs))
	n = -1
	for _, x := range req.Inputs {
		k := -1
		for i, sp := range specs {
			if sp.Name == x.Name {
				k = i
			}
		}
		if k < 0 {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "unknown input %q; model %q takes %s", x.Name, s.opt.Name, specNames(specs))
		}
		if in[k] != nil {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q given twice", x.Name)
		}
		sp := specs[k]
		if x.Datatype != sp.Datatype {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q has datatype %q; want %q", x.Name, x.Datatype, sp.Datatype)
		}
		if !shapeFits(x.Shape, sp.Shape) {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q has shape %v; want %v with a batch of at least 1 in place of -1", x.Name, x.Shape, sp.Shape)
		}
		b := int(x.Shape[0])
		if n >= 0 && b != n {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q has batch %d but another input has %d", x.Name, b, n)
		}
		n = b
		if n > s.opt.MaxBatch {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q has batch %d, more than the server's maximum batch %d; split the request", x.Name, n, s.opt.MaxBatch)
		}
		want := n * sp.elems()
		if x.Data == nil {
			x.dataErr = "is missing; want an array of numbers"
		}
		if x.dataErr != "" {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q data %s", x.Name, x.dataErr)
		}
		vals := x.values
		if len(vals) != want {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "input %q has %d data values; shape %v needs %d", x.Name, len(vals), x.Shape, want)
		}
		in[k] = vals
	}
	ospecs := s.model.Outputs()
	for _, o := range req.Outputs {
		k := -1
		for i, sp := range ospecs {
			if sp.Name == o.Name {
				k = i
			}
		}
		if k < 0 {
			return req, 0, nil, nil, errorf(http.StatusBadRequest, "unknown output %q; model %q has %s", o.Name, s.opt.Name, specNames(ospecs))
		}
		outs = append(outs, k)
	}
	if len(outs) == 0 {
		for i := range ospecs {
			outs = append(outs, i)
		}
	}
	return req, n, in, outs, nil
}

// shapeFits reports whether a request shape matches a spec whose first
// dimension is the batch (−1): same rank, batch ≥ 1, other sizes equal.
func shapeFits(got, spec []int64) bool {
	if len(got) != len(spec) || got[0] < 1 || got[0] > 1<<30 {
		return false
	}
	for i := 1; i < len(spec); i++ {
		if got[i] != spec[i] {
			return false
		}
	}
	return true
}

func specNames(specs []TensorSpec) string {
	var parts []string
	for _, s := range specs {
		parts = append(parts, fmt.Sprintf("%q %s %v", s.Name, s.Datatype, s.Shape))
	}
	return strings.Join(parts, ", ")
}

// infer answers POST /v2/models/{name}/infer.
func (s *Server) infer(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkModel(r); err != nil {
		return err
	}
	// Bound the requests being read and parsed as the queue bounds those
	// parsed, so that memory stays bounded however many clients connect.
	defer s.inferring.Add(-1)
	if limit := int64(s.opt.MaxQueue + s.opt.Workers*s.opt.MaxBatch); s.inferring.Add(1) > limit {
		return errorf(http.StatusServiceUnavailable, "server busy: %d infer requests are being handled", limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.inferBody)
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req, n, in, outs, err := s.decodeInfer(body)
	if err != nil {
		return err
	}
	res, err := s.batcher.submit(r.Context(), n, in)
	if err != nil {
		return err
	}
	resp := InferResponse{ModelName: s.opt.Name, ModelVersion: s.opt.Version, ID: req.ID}
	ospecs := s.model.Outputs()
	for _, k := range outs {
		shape := append([]int64{int64(n)}, ospecs[k].Shape[1:]...)
		resp.Outputs = append(resp.Outputs, InferOutput{Name: ospecs[k].Name, Shape: shape, Datatype: ospecs[k].Datatype, Data: res[k]})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
