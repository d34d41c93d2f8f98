package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"unicode/utf8"

	"github.com/convnet-go/convnet/tensor"
)

// File layout (safetensors):
//
//	[0, 8)        n, the header length, u64 little-endian
//	[8, 8+n)      JSON header, padded with spaces to a multiple of 8:
//	              {"__metadata__": {"k": "v", …},
//	               "name": {"dtype": "F32", "shape": [d0, …], "data_offsets": [b, e]}, …}
//	[8+n, end)    the data buffer; tensor "name" occupies bytes [b, e) of it
//	              as little-endian float32, row-major, e − b = 4·∏shape.
//
// Write sorts the names, so equal inputs give identical bytes, and lays the
// tensors out back to back in that order.

const (
	metadataKey = "__metadata__"
	// maxHeader bounds the header length a reader accepts (the same 100 MB
	// limit as the reference safetensors implementation).
	maxHeader = 100 << 20
)

type entry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Write encodes tensors and meta (may be nil) as a safetensors file to w.
// Names must be non-empty and not "__metadata__"; tensors must be non-nil.
func Write(w io.Writer, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	if err := check(tensors, meta); err != nil {
		return err
	}
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)

	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		m, err := json.Marshal(meta) // map keys come out sorted
		if err != nil {
			return fmt.Errorf("checkpoint: metadata: %v", err)
		}
		h.WriteString(`"` + metadataKey + `":`)
		h.Write(m)
	}
	var off int64
	for i, name := range names {
		t := tensors[name]
		shape := make([]int64, len(t.Shape()))
		for j, d := range t.Shape() {
			shape[j] = int64(d)
		}
		n := int64(4 * len(t.Data()))
		e, err := json.Marshal(entry{Dtype: "F32", Shape: shape, DataOffsets: []int64{off, off + n}})
		if err != nil {
			return err
		}
		k, _ := json.Marshal(name)
		if i > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		h.Write(k)
		h.WriteByte(':')
		h.Write(e)
		off += n
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}

	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(h.Len()))
	if _, err := w.Write(size[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, name := range names {
		for _, v := range tensors[name].Data() {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// Read decodes a safetensors stream written by Write or by another
// safetensors writer holding F32 tensors only. It checks the header size,
// the JSON (no duplicate names), dtype F32, shape·4 == byte length,
// that the tensors tile the data buffer exactly (contiguous, in range, no
// gaps or overlap) and that nothing follows the data. Rank-0 tensors have
// shape []. It never panics on corrupt input.
func Read(r io.Reader) (tensors map[string]*tensor.Tensor, meta map[string]string, err error) {
	var size [8]byte
	if n, err := io.ReadFull(r, size[:]); err != nil {
		return nil, nil, fmt.Errorf("checkpoint: file is %d bytes, too short for the 8-byte header size", n)
	}
	hlen := binary.LittleEndian.Uint64(size[:])
	if hlen > maxHeader {
		return nil, nil, fmt.Errorf("checkpoint: header size %d exceeds the %d-byte limit", hlen, maxHeader)
	}
	header, err := io.ReadAll(io.LimitReader(r, int64(hlen)))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: reading header: %v", err)
	}
	if uint64(len(header)) != hlen {
		return nil, nil, fmt.Errorf("checkpoint: header size %d but only %d bytes follow", hlen, len(header))
	}
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	dataLen, err := checkLayout(entries)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, dataLen+1))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: reading data: %v", err)
	}
	switch {
	case int64(len(data)) < dataLen:
		return nil, nil, fmt.Errorf("checkpoint: header describes %d data bytes, file holds %d", dataLen, len(data))
	case int64(len(data)) > dataLen:
		return nil, nil, fmt.Errorf("checkpoint: data continues past the %d bytes the header describes", dataLen)
	}
	tensors = make(map[string]*tensor.Tensor, len(entries))
	for _, e := range entries {
		raw := data[e.begin:e.end]
		vals := make([]float32, len(raw)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		t, err := tensor.New(e.shape, vals)
		if err != nil {
			return nil, nil, fmt.Errorf("checkpoint: tensor %q: %v", e.name, err)
		}
		tensors[e.name] = t
	}
	return tensors, meta, nil
}

type parsed struct {
	name       string
	shape      []int
	begin, end int64
}

// parseHeader decodes the JSON header object key by key, so that a
// repeated key is an error rather than silently overwriting.
func parseHeader(h []byte) ([]parsed, map[string]string, error) {
	if len(h) == 0 || h[0] != '{' {
		return nil, nil, fmt.Errorf("checkpoint: header does not start with '{': %q", clip(h))
	}
	var entries []parsed
	var meta map[string]string
	seen := map[string]bool{}
	err := eachKey(h, func(key string, val json.RawMessage) error {
		if seen[key] {
			return fmt.Errorf("duplicate name %q", key)
		}
		seen[key] = true
		if key == metadataKey {
			meta = map[string]string{}
			return eachKey(val, func(k string, v json.RawMessage) error {
				if _, dup := meta[k]; dup {
					return fmt.Errorf("duplicate metadata key %q", k)
				}
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return fmt.Errorf("metadata %q: value %s is not a string", k, clip(v))
				}
				meta[k] = s
				return nil
			})
		}
		var e entry
		if err := json.Unmarshal(val, &e); err != nil {
			return fmt.Errorf("tensor %q: %v", key, err)
		}
		p, err := checkEntry(key, e)
		if err != nil {
			return err
		}
		entries = append(entries, p)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: header: %v", err)
	}
	return entries, meta, nil
}

// maxDim bounds each dimension so that products cannot overflow int64
// before the byte-length check.
const maxDim = 1 << 40

func checkEntry(name string, e entry) (parsed, error) {
	p := parsed{name: name}
	if e.Dtype != "F32" {
		return p, fmt.Errorf("tensor %q: dtype %q, want \"F32\"", name, e.Dtype)
	}
	if e.Shape == nil {
		return p, fmt.Errorf("tensor %q: no shape", name)
	}
	if len(e.DataOffsets) != 2 {
		return p, fmt.Errorf("tensor %q: data_offsets %v, want [begin, end]", name, e.DataOffsets)
	}
	p.begin, p.end = e.DataOffsets[0], e.DataOffsets[1]
	if p.begin < 0 || p.end < p.begin {
		return p, fmt.Errorf("tensor %q: data_offsets %v, want 0 ≤ begin ≤ end", name, e.DataOffsets)
	}
	count := int64(1)
	p.shape = make([]int, len(e.Shape))
	for i, d := range e.Shape {
		if d < 0 || d > maxDim {
			return p, fmt.Errorf("tensor %q: shape %v has dimension %d out of range", name, e.Shape, d)
		}
		p.shape[i] = int(d)
		if count != 0 && d > (math.MaxInt64/4)/count {
			return p, fmt.Errorf("tensor %q: shape %v is too large", name, e.Shape)
		}
		count *= d
	}
	if 4*count != p.end-p.begin {
		return p, fmt.Errorf("tensor %q: shape %v needs %d bytes, data_offsets %v give %d",
			name, e.Shape, 4*count, e.DataOffsets, p.end-p.begin)
	}
	return p, nil
}

// checkLayout sorts entries by offset and checks that they tile
// [0, total) with no gap or overlap; it returns total.
func checkLayout(entries []parsed) (int64, error) {
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var at int64
	for _, e := range entries {
		if e.begin != at {
			return 0, fmt.Errorf("checkpoint: tensor %q starts at data byte %d, want %d (tensors must be contiguous)",
				e.name, e.begin, at)
		}
		at = e.end
	}
	return at, nil
}

// eachKey calls fn for every key of the JSON object in b, in order, and
// checks that only spaces follow the object.
func eachKey(b []byte, fn func(key string, val json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object, got %q", clip(b))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("want an object key, got %v", tok)
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return fmt.Errorf("value of %q: %v", key, err)
		}
		if err := fn(key, val); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return err
	}
	rest := b[dec.InputOffset():]
	if len(bytes.Trim(rest, " ")) != 0 {
		return fmt.Errorf("unexpected %q after the JSON object", clip(rest))
	}
	return nil
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "…"...)
	}
	return b
}

// check validates what Write is given. Strings must be valid UTF-8, since
// JSON encoding would otherwise alter them.
func check(tensors map[string]*tensor.Tensor, meta map[string]string) error {
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("checkpoint: metadata %q: %q is not valid UTF-8", k, v)
		}
	}
	for name, t := range tensors {
		switch {
		case !utf8.ValidString(name):
			return fmt.Errorf("checkpoint: tensor name %q is not valid UTF-8", name)
		case name == "":
			return errors.New("checkpoint: empty tensor name")
		case name == metadataKey:
			return fmt.Errorf("checkpoint: tensor name %q is reserved", name)
		case t == nil:
			return fmt.Errorf("checkpoint: tensor %q is nil", name)
		case len(t.Data()) != tensor.Size(t.Shape()):
			return fmt.Errorf("checkpoint: tensor %q has shape %v but %d values", name, t.Shape(), len(t.Data()))
		}
	}
	return nil
}
