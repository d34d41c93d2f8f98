package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// parseFP32 (the reference for readInferRequest's data) reads a tensor's "data" member: a JSON array of numbers,
// flat or nested in row-major order (the Open Inference Protocol allows
// both), into dst, which it returns with the values appended. raw must be
// valid JSON (encoding/json has checked it). Strings, booleans, nulls and
// objects are refused, and so is a number that is not a finite float32
// (1e39 overflows it), with the index of the offending value.
func parseFP32(raw json.RawMessage, dst []float32) ([]float32, error) {
	depth := 0
	start := len(dst)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '[':
			depth++
			i++
		case c == ']':
			depth--
			i++
		case c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(raw) && (raw[j] >= '0' && raw[j] <= '9' || raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E' || raw[j] == '+' || raw[j] == '-') {
				j++
			}
			if depth == 0 {
				return dst, errors.New("is a number; want an array of numbers")
			}
			v, err := strconv.ParseFloat(string(raw[i:j]), 32)
			if err != nil {
				return dst, fmt.Errorf("value %d (%s) is not a finite FP32 number", len(dst)-start, raw[i:j])
			}
			dst = append(dst, float32(v))
			i = j
		default:
			what := map[byte]string{'"': "a string", 't': "a boolean", 'f': "a boolean", 'n': "null", '{': "an object"}[c]
			if what == "" {
				what = fmt.Sprintf("%q", c)
			}
			return dst, fmt.Errorf("value %d is %s; want numbers", len(dst)-start, what)
		}
	}
	if len(raw) == 0 || raw[0] != '[' {
		return dst, errors.New("is missing; want an array of numbers")
	}
	return dst, nil
}

// nonFiniteHint explains a JSON syntax error at a bare NaN or Infinity,
// which some encoders (Python's json) write for non-finite floats.
func nonFiniteHint(body []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return ""
	}
	at := int(se.Offset) - 1
	if at < 0 || at >= len(body) {
		return ""
	}
	rest := string(body[at:min(at+9, len(body))])
	for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
		if len(rest) >= len(tok) && rest[:len(tok)] == tok {
			return fmt.Sprintf("non-finite value %s at byte %d: tensor data must be finite numbers", tok, at)
		}
	}
	return ""
}

// refReadInferRequest is the reference readInferRequest is tested
// against: encoding/json for the structure, then parseFP32 for each
// input's data.
func refReadInferRequest(body []byte) (InferRequest, error) {
	var req InferRequest
	if err := json.Unmarshal(body, &req); err != nil {
		if hint := nonFiniteHint(body, err); hint != "" {
			return req, errors.New(hint)
		}
		return req, err
	}
	for i := range req.Inputs {
		x := &req.Inputs[i]
		if x.Data == nil {
			continue
		}
		vals, err := parseFP32(x.Data, nil)
		x.values = vals
		if err != nil {
			x.dataErr = err.Error()
		}
	}
	return req, nil
}
