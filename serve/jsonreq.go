package serve

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// readInferRequest parses an infer request in one pass over body, reading
// each input's "data" straight into float32s. It accepts what
// json.Unmarshal into InferRequest followed by parseFP32 accepts (the
// reference the tests compare it with, which scans the body three times):
// keys match case-insensitively, the last of repeated keys wins, unknown
// keys and "parameters" are skipped after checking they are valid JSON.
// A bare NaN or Infinity in data is reported as a non-finite value.
func readInferRequest(body []byte) (InferRequest, error) {
	p := &jsonReader{b: body}
	var req InferRequest
	err := p.object(func(key string) error {
		switch {
		case strings.EqualFold(key, "id"):
			return p.stringOrNull(&req.ID)
		case strings.EqualFold(key, "inputs"):
			req.Inputs = nil
			return p.array(func() error {
				var x InferInput
				if err := p.object(func(key string) error { return p.input(&x, key) }); err != nil {
					return err
				}
				req.Inputs = append(req.Inputs, x)
				return nil
			})
		case strings.EqualFold(key, "outputs"):
			req.Outputs = nil
			return p.array(func() error {
				var name string
				err := p.object(func(key string) error {
					if strings.EqualFold(key, "name") {
						return p.stringOrNull(&name)
					}
					return p.skip(0)
				})
				req.Outputs = append(req.Outputs, struct {
					Name string `json:"name"`
				}{name})
				return err
			})
		}
		return p.skip(0)
	})
	if err == nil {
		p.ws()
		if p.i < len(p.b) {
			err = p.errorf("text after the request object")
		}
	}
	return req, err
}

// input reads one member of an input tensor object.
func (p *jsonReader) input(x *InferInput, key string) error {
	switch {
	case strings.EqualFold(key, "name"):
		return p.stringOrNull(&x.Name)
	case strings.EqualFold(key, "datatype"):
		return p.stringOrNull(&x.Datatype)
	case strings.EqualFold(key, "shape"):
		x.Shape = nil
		return p.array(func() error {
			tok := p.number()
			v, err := strconv.ParseInt(string(tok), 10, 64)
			if err != nil {
				return p.errorf("shape value %q is not a whole number", tok)
			}
			x.Shape = append(x.Shape, v)
			return nil
		})
	case strings.EqualFold(key, "data"):
		x.values, x.dataErr = x.values[:0], ""
		start := p.i
		err := p.data(x, 0)
		x.Data = json.RawMessage(p.b[start:p.i])
		return err
	}
	return p.skip(0)
}

// data reads a (nested) array of numbers into x.values. Values that are
// not finite FP32 numbers or not numbers at all are recorded in x.dataErr
// (reported after the whole request proved to be valid JSON), except for
// bare NaN and Infinity, which are not JSON.
func (p *jsonReader) data(x *InferInput, depth int) error {
	p.ws()
	if p.i >= len(p.b) {
		return p.errorf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '[':
		if depth > maxDepth {
			return p.errorf("arrays nested deeper than %d", maxDepth)
		}
		return p.array(func() error { return p.data(x, depth+1) })
	case c == 'N' || c == 'I' || c == '-' && p.i+1 < len(p.b) && p.b[p.i+1] == 'I':
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if strings.HasPrefix(string(p.b[p.i:min(p.i+9, len(p.b))]), tok) {
				return &syntaxError{fmt.Sprintf("non-finite value %s at byte %d: tensor data must be finite numbers", tok, p.i)}
			}
		}
		return p.errorf("invalid character %q", c)
	case c == '-' || c >= '0' && c <= '9':
		tok := p.number()
		if tok == nil {
			return p.errorf("malformed number")
		}
		if depth == 0 {
			x.setDataErr("is a number; want an array of numbers")
			return nil
		}
		v, ok := parseFloat32(tok)
		if !ok {
			x.setDataErr(fmt.Sprintf("value %d (%s) is not a finite FP32 number", len(x.values), tok))
		}
		x.values = append(x.values, v)
		return nil
	default:
		what := map[byte]string{'"': "a string", 't': "a boolean", 'f': "a boolean", 'n': "null", '{': "an object"}[c]
		if what == "" {
			return p.errorf("invalid character %q", c)
		}
		if depth == 0 && c == 'n' {
			x.setDataErr("is missing; want an array of numbers")
		} else {
			x.setDataErr(fmt.Sprintf("value %d is %s; want numbers", len(x.values), what))
		}
		return p.skip(depth)
	}
}

func (x *InferInput) setDataErr(msg string) {
	if x.dataErr == "" {
		x.dataErr = msg
	}
}

// parseFloat32 converts a JSON number to the nearest float32, reporting
// false when it is out of float32's range. Numbers of at most 7
// significant digits and at most 10 decimals take Clinger's fast path:
// the integer mantissa and 10^k are exact in float32, so one float32
// division rounds correctly. Others go to strconv.
func parseFloat32(tok []byte) (float32, bool) {
	i, neg := 0, false
	if tok[0] == '-' {
		neg, i = true, 1
	}
	var mant uint32
	digits, frac, dot := 0, 0, false
	for ; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= '0' && c <= '9':
			if mant != 0 || c != '0' {
				digits++
			}
			mant = mant*10 + uint32(c-'0')
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			i = -1
		}
		if i < 0 || digits > 7 || frac > 10 {
			break
		}
	}
	if i == len(tok) {
		v := float32(mant) / pow10f32[frac]
		if neg {
			v = -v
		}
		return v, true
	}
	// The token's bytes are only read during the call; an error, which
	// would keep the string, is not kept.
	v, err := strconv.ParseFloat(unsafe.String(&tok[0], len(tok)), 32)
	return float32(v), err == nil
}

var pow10f32 = [11]float32{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// maxDepth bounds the nesting of arrays and objects.
const maxDepth = 64

// jsonReader is a cursor over JSON text.
type jsonReader struct {
	b []byte
	i int
}

// syntaxError is malformed JSON (or a bare NaN or Infinity).
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func (p *jsonReader) errorf(format string, args ...any) error {
	return &syntaxError{fmt.Sprintf("malformed JSON at byte %d: ", p.i) + fmt.Sprintf(format, args...)}
}

func (p *jsonReader) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads {"key": value, …}, calling member for each key with the
// cursor before its value; member must consume the value.
func (p *jsonReader) object(member func(key string) error) error {
	p.ws()
	if p.i >= len(p.b) {
		return p.errorf("unexpected end of the body")
	}
	if p.b[p.i] != '{' {
		return p.errorf("want an object")
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.errorf("want ':' after key %q", key)
		}
		p.i++
		if err := member(key); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.errorf("unexpected end in an object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("want ',' or '}' in an object")
		}
	}
}

// array reads [value, …], calling elem with the cursor before each
// value; elem must consume it. null is accepted as an empty array.
func (p *jsonReader) array(elem func() error) error {
	p.ws()
	if p.literal("null") {
		return nil
	}
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return p.errorf("want an array")
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.errorf("unexpected end in an array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errorf("want ',' or ']' in an array")
		}
	}
}

// literal consumes word (null, true, false) if it is next.
func (p *jsonReader) literal(word string) bool {
	if strings.HasPrefix(string(p.b[p.i:min(p.i+len(word), len(p.b))]), word) {
		p.i += len(word)
		return true
	}
	return false
}

// stringOrNull reads a string into dst; null leaves dst as it is.
func (p *jsonReader) stringOrNull(dst *string) error {
	p.ws()
	if p.literal("null") {
		return nil
	}
	s, err := p.str()
	if err == nil {
		*dst = s
	}
	return err
}

// str reads a JSON string, decoding escapes with encoding/json when
// there are any.
func (p *jsonReader) str() (string, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", p.errorf("want a string")
	}
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			raw := p.b[start:p.i]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", p.errorf("control character in a string")
		default:
			p.i++
		}
	}
	return "", p.errorf("unterminated string")
}

// number returns the next JSON number token, or nil when the text there
// is not one (JSON's grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?).
func (p *jsonReader) number() []byte {
	p.ws()
	b, i := p.b, p.i
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil
		}
	}
	tok := b[p.i:i]
	p.i = i
	return tok
}

// skip consumes one JSON value of any kind.
func (p *jsonReader) skip(depth int) error {
	if depth > maxDepth {
		return p.errorf("values nested deeper than %d", maxDepth)
	}
	p.ws()
	if p.i >= len(p.b) {
		return p.errorf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(func(string) error { return p.skip(depth + 1) })
	case c == '[':
		return p.array(func() error { return p.skip(depth + 1) })
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		if p.number() == nil {
			return p.errorf("malformed number")
		}
		return nil
	case p.literal("true"), p.literal("false"), p.literal("null"):
		return nil
	}
	return p.errorf("invalid character %q", p.b[p.i])
}
