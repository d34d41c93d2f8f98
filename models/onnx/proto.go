package onnx

// The ONNX protobuf messages this package reads and writes, encoded by
// hand with protowire. onnx.proto is not compiled into Go types: a
// generated package registers its messages in the global protobuf
// registry, and a program linking two such packages (ours and any other
// ONNX package) panics at start on the duplicate names. Only the fields
// below are decoded; other fields are skipped, and any field whose wire
// type differs from onnx.proto's is an error.
//
// Field numbers are onnx.proto's (IR version 7–9).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Element types (TensorProto.DataType).
const (
	dtFloat   = 1
	dtUint8   = 2
	dtInt8    = 3
	dtUint16  = 4
	dtInt16   = 5
	dtInt32   = 6
	dtInt64   = 7
	dtString  = 8
	dtBool    = 9
	dtFloat16 = 10
	dtDouble  = 11
	dtUint32  = 12
	dtUint64  = 13
)

var dtNames = map[int32]string{dtFloat: "FLOAT", dtUint8: "UINT8", dtInt8: "INT8", dtUint16: "UINT16",
	dtInt16: "INT16", dtInt32: "INT32", dtInt64: "INT64", dtString: "STRING", dtBool: "BOOL",
	dtFloat16: "FLOAT16", dtDouble: "DOUBLE", dtUint32: "UINT32", dtUint64: "UINT64"}

func dtName(t int32) string {
	if n, ok := dtNames[t]; ok {
		return n
	}
	return fmt.Sprintf("data type %d", t)
}

// Attribute types (AttributeProto.AttributeType).
const (
	atFloat   = 1
	atInt     = 2
	atString  = 3
	atTensor  = 4
	atGraph   = 5
	atFloats  = 6
	atInts    = 7
	atStrings = 8
)

// maxDepth bounds graph nesting (graph attributes of If, Loop, Scan).
const maxDepth = 8

type modelProto struct {
	irVersion       int64
	producerName    string
	producerVersion string
	domain          string
	modelVersion    int64
	docString       string
	graph           *graphProto
	opsets          []opsetProto
	metadata        []kvProto
}

type opsetProto struct {
	domain  string
	version int64
}

type kvProto struct{ key, value string }

type graphProto struct {
	name         string
	nodes        []*nodeProto
	initializers []*tensorProto
	inputs       []*valueInfoProto
	outputs      []*valueInfoProto
	valueInfo    []*valueInfoProto
	docString    string
}

type nodeProto struct {
	inputs, outputs []string
	name, opType    string
	domain          string
	attrs           []*attrProto
	docString       string
}

type attrProto struct {
	name    string
	typ     int32
	f       float32
	i       int64
	s       []byte
	t       *tensorProto
	g       *graphProto
	floats  []float32
	ints    []int64
	strings [][]byte
	refName string // a function attribute reference; refused on import
}

// tensorProto is a TensorProto. Numbers are kept in one of two decoded
// forms: floats for FLOAT, DOUBLE and FLOAT16, ints for the integer and
// BOOL types. raw holds raw_data until decodeData converts it.
type tensorProto struct {
	name     string
	dims     []int64
	dataType int32
	floats   []float32
	ints     []int64
	raw      []byte
	hasRaw   bool
	external bool // data_location EXTERNAL or external_data given
	strings  int  // count of string_data entries (refused on import)
}

type valueInfoProto struct {
	name  string
	elem  int32      // tensor element type, 0 when not a tensor type
	dims  []dimProto // nil when the shape is unknown
	shape bool       // a shape was given (possibly rank 0)
	other bool       // a sequence, map or optional type
}

// dimProto is one TensorShapeProto.Dimension: a value or a name.
type dimProto struct {
	value int64
	param string
}

// ---- encoding ----

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func (m *modelProto) marshal() []byte {
	var b []byte
	b = appendVarint(b, 1, m.irVersion)
	b = appendString(b, 2, m.producerName)
	b = appendString(b, 3, m.producerVersion)
	b = appendString(b, 4, m.domain)
	if m.modelVersion != 0 {
		b = appendVarint(b, 5, m.modelVersion)
	}
	b = appendString(b, 6, m.docString)
	if m.graph != nil {
		b = appendMessage(b, 7, m.graph.marshal())
	}
	for _, o := range m.opsets {
		var ob []byte
		ob = appendString(ob, 1, o.domain)
		ob = appendVarint(ob, 2, o.version)
		b = appendMessage(b, 8, ob)
	}
	for _, kv := range m.metadata {
		var kb []byte
		kb = appendString(kb, 1, kv.key)
		kb = appendString(kb, 2, kv.value)
		b = appendMessage(b, 14, kb)
	}
	return b
}

func (g *graphProto) marshal() []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendString(b, 2, g.name)
	for _, t := range g.initializers {
		b = appendMessage(b, 5, t.marshal())
	}
	b = appendString(b, 10, g.docString)
	for _, v := range g.inputs {
		b = appendMessage(b, 11, v.marshal())
	}
	for _, v := range g.outputs {
		b = appendMessage(b, 12, v.marshal())
	}
	for _, v := range g.valueInfo {
		b = appendMessage(b, 13, v.marshal())
	}
	return b
}

func (n *nodeProto) marshal() []byte {
	var b []byte
	for _, s := range n.inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.opType)
	for _, a := range n.attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	b = appendString(b, 6, n.docString)
	b = appendString(b, 7, n.domain)
	return b
}

func (a *attrProto) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.name)
	switch a.typ {
	case atFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case atInt:
		b = appendVarint(b, 3, a.i)
	case atString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, a.s)
	case atTensor:
		b = appendMessage(b, 5, a.t.marshal())
	case atGraph:
		b = appendMessage(b, 6, a.g.marshal())
	case atFloats:
		var p []byte
		for _, f := range a.floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMessage(b, 7, p)
	case atInts:
		var p []byte
		for _, v := range a.ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, 8, p)
	case atStrings:
		for _, s := range a.strings {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			b = protowire.AppendBytes(b, s)
		}
	}
	b = appendVarint(b, 20, int64(a.typ))
	return b
}

// marshal writes FLOAT tensors as raw_data (little-endian) and integer
// tensors as int64_data.
func (t *tensorProto) marshal() []byte {
	var b []byte
	if len(t.dims) > 0 {
		var p []byte
		for _, d := range t.dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMessage(b, 1, p)
	}
	b = appendVarint(b, 2, int64(t.dataType))
	b = appendString(b, 8, t.name)
	switch t.dataType {
	case dtFloat:
		raw := make([]byte, 4*len(t.floats))
		for i, f := range t.floats {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendBytes(b, raw)
	case dtInt64:
		var p []byte
		for _, v := range t.ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, 7, p)
	}
	return b
}

func (v *valueInfoProto) marshal() []byte {
	var shape []byte
	for _, d := range v.dims {
		var db []byte
		if d.param != "" {
			db = appendString(db, 2, d.param)
		} else {
			db = appendVarint(db, 1, d.value)
		}
		shape = appendMessage(shape, 1, db)
	}
	var tt []byte
	tt = appendVarint(tt, 1, int64(v.elem))
	if v.shape {
		tt = appendMessage(tt, 2, shape)
	}
	var typ []byte
	typ = appendMessage(typ, 1, tt)
	var b []byte
	b = appendString(b, 1, v.name)
	b = appendMessage(b, 2, typ)
	return b
}

// ---- decoding ----

// errTruncated is the error of a field that runs past its message.
var errTruncated = errors.New("truncated or malformed protobuf")

// field is one decoded wire field: num, typ, and the varint/fixed value
// or the bytes of a length-delimited field.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64
	b   []byte
}

// eachField calls fn for every field of the message b.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// want checks a field's wire type.
func (f field) want(msg string, typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("%s field %d has wire type %d, want %d", msg, f.num, f.typ, typ)
	}
	return nil
}

// str returns a length-delimited field as a string.
func (f field) str(msg string) (string, error) {
	if err := f.want(msg, protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.b), nil
}

// int returns a varint field as an int64.
func (f field) int(msg string) (int64, error) {
	if err := f.want(msg, protowire.VarintType); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

// varints appends a repeated int64 field, packed or not.
func (f field) varints(msg string, dst []int64) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.u)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("%s field %d: %w", msg, f.num, errTruncated)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s field %d has wire type %d, want a varint or packed varints", msg, f.num, f.typ)
}

// fixed32s appends a repeated float field, packed or not.
func (f field) fixed32s(msg string, dst []float32) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.u))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, fmt.Errorf("%s field %d: packed floats of %d bytes, not a multiple of 4", msg, f.num, len(f.b))
		}
		for i := 0; i < len(f.b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(f.b[i:])))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s field %d has wire type %d, want fixed32 or packed", msg, f.num, f.typ)
}

// fixed64s appends a repeated double field, packed or not, as float32.
func (f field) fixed64s(msg string, dst []float32) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, float32(math.Float64frombits(f.u))), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return nil, fmt.Errorf("%s field %d: packed doubles of %d bytes, not a multiple of 8", msg, f.num, len(f.b))
		}
		for i := 0; i < len(f.b); i += 8 {
			dst = append(dst, float32(math.Float64frombits(binary.LittleEndian.Uint64(f.b[i:]))))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s field %d has wire type %d, want fixed64 or packed", msg, f.num, f.typ)
}

func decodeModel(b []byte) (*modelProto, error) {
	m := &modelProto{}
	const msg = "ModelProto"
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.irVersion, err = f.int(msg)
		case 2:
			m.producerName, err = f.str(msg)
		case 3:
			m.producerVersion, err = f.str(msg)
		case 4:
			m.domain, err = f.str(msg)
		case 5:
			m.modelVersion, err = f.int(msg)
		case 6:
			m.docString, err = f.str(msg)
		case 7:
			if err = f.want(msg, protowire.BytesType); err == nil {
				m.graph, err = decodeGraph(f.b, 0)
			}
		case 8:
			if err = f.want(msg, protowire.BytesType); err == nil {
				var o opsetProto
				err = eachField(f.b, func(f field) (err error) {
					switch f.num {
					case 1:
						o.domain, err = f.str("OperatorSetIdProto")
					case 2:
						o.version, err = f.int("OperatorSetIdProto")
					}
					return err
				})
				m.opsets = append(m.opsets, o)
			}
		case 14:
			if err = f.want(msg, protowire.BytesType); err == nil {
				var kv kvProto
				kv, err = decodeKV(f.b)
				m.metadata = append(m.metadata, kv)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeKV(b []byte) (kv kvProto, err error) {
	err = eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			kv.key, err = f.str("StringStringEntryProto")
		case 2:
			kv.value, err = f.str("StringStringEntryProto")
		}
		return err
	})
	return kv, err
}

func decodeGraph(b []byte, depth int) (*graphProto, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("graphs nested more than %d deep", maxDepth)
	}
	g := &graphProto{}
	const msg = "GraphProto"
	err := eachField(b, func(f field) (err error) {
		if f.num == 2 {
			g.name, err = f.str(msg)
			return err
		}
		if f.num == 10 {
			g.docString, err = f.str(msg)
			return err
		}
		switch f.num {
		case 1, 5, 11, 12, 13:
			if err := f.want(msg, protowire.BytesType); err != nil {
				return err
			}
		}
		switch f.num {
		case 1:
			var n *nodeProto
			n, err = decodeNode(f.b, depth)
			g.nodes = append(g.nodes, n)
		case 5:
			var t *tensorProto
			t, err = decodeTensor(f.b)
			g.initializers = append(g.initializers, t)
		case 11, 12, 13:
			var v *valueInfoProto
			v, err = decodeValueInfo(f.b)
			switch f.num {
			case 11:
				g.inputs = append(g.inputs, v)
			case 12:
				g.outputs = append(g.outputs, v)
			default:
				g.valueInfo = append(g.valueInfo, v)
			}
		case 15:
			err = fmt.Errorf("sparse initializers are not supported")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func decodeNode(b []byte, depth int) (*nodeProto, error) {
	n := &nodeProto{}
	const msg = "NodeProto"
	err := eachField(b, func(f field) (err error) {
		var s string
		switch f.num {
		case 1:
			s, err = f.str(msg)
			n.inputs = append(n.inputs, s)
		case 2:
			s, err = f.str(msg)
			n.outputs = append(n.outputs, s)
		case 3:
			n.name, err = f.str(msg)
		case 4:
			n.opType, err = f.str(msg)
		case 5:
			if err = f.want(msg, protowire.BytesType); err == nil {
				var a *attrProto
				a, err = decodeAttr(f.b, depth)
				n.attrs = append(n.attrs, a)
			}
		case 6:
			n.docString, err = f.str(msg)
		case 7:
			n.domain, err = f.str(msg)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func decodeAttr(b []byte, depth int) (*attrProto, error) {
	a := &attrProto{}
	const msg = "AttributeProto"
	err := eachField(b, func(f field) (err error) {
		var v int64
		switch f.num {
		case 1:
			a.name, err = f.str(msg)
		case 2:
			if err = f.want(msg, protowire.Fixed32Type); err == nil {
				a.f = math.Float32frombits(uint32(f.u))
			}
		case 3:
			a.i, err = f.int(msg)
		case 4:
			if err = f.want(msg, protowire.BytesType); err == nil {
				a.s = f.b
			}
		case 5:
			if err = f.want(msg, protowire.BytesType); err == nil {
				a.t, err = decodeTensor(f.b)
			}
		case 6:
			if err = f.want(msg, protowire.BytesType); err == nil {
				a.g, err = decodeGraph(f.b, depth+1)
			}
		case 7:
			a.floats, err = f.fixed32s(msg, a.floats)
		case 8:
			a.ints, err = f.varints(msg, a.ints)
		case 9:
			if err = f.want(msg, protowire.BytesType); err == nil {
				a.strings = append(a.strings, f.b)
			}
		case 20:
			v, err = f.int(msg)
			a.typ = int32(v)
		case 21:
			a.refName, err = f.str(msg)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// decodeTensor decodes a TensorProto and checks that its data agrees with
// its dims, so no later step trusts a declared size the file does not
// back with bytes.
func decodeTensor(b []byte) (*tensorProto, error) {
	t := &tensorProto{}
	const msg = "TensorProto"
	var doubles []float32
	err := eachField(b, func(f field) (err error) {
		var v int64
		switch f.num {
		case 1:
			t.dims, err = f.varints(msg, t.dims)
		case 2:
			v, err = f.int(msg)
			t.dataType = int32(v)
		case 4:
			t.floats, err = f.fixed32s(msg, t.floats)
		case 5, 7, 11: // int32_data, int64_data, uint64_data
			t.ints, err = f.varints(msg, t.ints)
		case 6:
			t.strings++
		case 8:
			t.name, err = f.str(msg)
		case 9:
			if err = f.want(msg, protowire.BytesType); err == nil {
				t.raw, t.hasRaw = f.b, true
			}
		case 10:
			doubles, err = f.fixed64s(msg, doubles)
		case 13:
			t.external = true
		case 14:
			v, err = f.int(msg)
			t.external = t.external || v == 1
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.dataType == dtDouble && !t.hasRaw {
		t.floats = doubles
	}
	return t, nil
}

func decodeValueInfo(b []byte) (*valueInfoProto, error) {
	v := &valueInfoProto{}
	const msg = "ValueInfoProto"
	err := eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			v.name, err = f.str(msg)
		case 2:
			if err = f.want(msg, protowire.BytesType); err != nil {
				return err
			}
			err = eachField(f.b, func(f field) error {
				switch f.num {
				case 1:
					if err := f.want("TypeProto", protowire.BytesType); err != nil {
						return err
					}
					return decodeTensorType(f.b, v)
				case 4, 5, 9:
					v.other = true
				}
				return nil
			})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func decodeTensorType(b []byte, v *valueInfoProto) error {
	return eachField(b, func(f field) (err error) {
		switch f.num {
		case 1:
			var e int64
			e, err = f.int("TypeProto.Tensor")
			v.elem = int32(e)
		case 2:
			if err = f.want("TypeProto.Tensor", protowire.BytesType); err != nil {
				return err
			}
			v.shape = true
			err = eachField(f.b, func(f field) error {
				if f.num != 1 {
					return nil
				}
				if err := f.want("TensorShapeProto", protowire.BytesType); err != nil {
					return err
				}
				var d dimProto
				err := eachField(f.b, func(f field) (err error) {
					switch f.num {
					case 1:
						d.value, err = f.int("Dimension")
					case 2:
						d.param, err = f.str("Dimension")
					}
					return err
				})
				v.dims = append(v.dims, d)
				return err
			})
		}
		return err
	})
}

// maxElems bounds the element count of any tensor (the tensor package's
// limit on float32 data).
const maxElems = math.MaxInt32

// elemSize is the raw_data width of each supported element type.
var elemSize = map[int32]int{dtFloat: 4, dtDouble: 8, dtFloat16: 2, dtUint8: 1, dtInt8: 1, dtBool: 1,
	dtUint16: 2, dtInt16: 2, dtInt32: 4, dtUint32: 4, dtInt64: 8, dtUint64: 8}

// isFloat reports whether values of type dt decode to floats (else ints).
func isFloat(dt int32) bool { return dt == dtFloat || dt == dtDouble || dt == dtFloat16 }

// count returns the element count of dims, checking each is ≥ 0 and the
// product stays within maxElems.
func count(dims []int64) (int, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in %v", dims)
		}
		if d != 0 && n > maxElems/d {
			return 0, fmt.Errorf("dims %v hold more than %d elements", dims, maxElems)
		}
		n *= d
	}
	return int(n), nil
}

// decodeData converts raw_data (or float16 bits held in int32_data) into
// t.floats or t.ints and checks the element count against dims.
func (t *tensorProto) decodeData() error {
	if t.external {
		return fmt.Errorf("tensor %q keeps its data in an external file, which is not supported", t.name)
	}
	size, ok := elemSize[t.dataType]
	if !ok {
		return fmt.Errorf("tensor %q has element type %s, want a number type", t.name, dtName(t.dataType))
	}
	n, err := count(t.dims)
	if err != nil {
		return fmt.Errorf("tensor %q: %v", t.name, err)
	}
	if t.hasRaw {
		if len(t.raw) != n*size {
			return fmt.Errorf("tensor %q: dims %v of %s need %d raw bytes, got %d", t.name, t.dims, dtName(t.dataType), n*size, len(t.raw))
		}
		raw := t.raw
		if isFloat(t.dataType) {
			t.floats = make([]float32, n)
		} else {
			t.ints = make([]int64, n)
		}
		for i := 0; i < n; i++ {
			p := raw[i*size:]
			switch t.dataType {
			case dtFloat:
				t.floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(p))
			case dtDouble:
				t.floats[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(p)))
			case dtFloat16:
				t.floats[i] = halfToFloat(binary.LittleEndian.Uint16(p))
			case dtUint8, dtBool:
				t.ints[i] = int64(p[0])
			case dtInt8:
				t.ints[i] = int64(int8(p[0]))
			case dtUint16:
				t.ints[i] = int64(binary.LittleEndian.Uint16(p))
			case dtInt16:
				t.ints[i] = int64(int16(binary.LittleEndian.Uint16(p)))
			case dtInt32:
				t.ints[i] = int64(int32(binary.LittleEndian.Uint32(p)))
			case dtUint32:
				t.ints[i] = int64(binary.LittleEndian.Uint32(p))
			default: // INT64, UINT64
				t.ints[i] = int64(binary.LittleEndian.Uint64(p))
			}
		}
		t.raw, t.hasRaw = nil, false
		return nil
	}
	if t.dataType == dtFloat16 && t.floats == nil && len(t.ints) > 0 {
		t.floats = make([]float32, len(t.ints))
		for i, v := range t.ints {
			t.floats[i] = halfToFloat(uint16(v))
		}
		t.ints = nil
	}
	got := len(t.ints)
	if isFloat(t.dataType) {
		got = len(t.floats)
	}
	if got != n {
		return fmt.Errorf("tensor %q: dims %v need %d values, got %d", t.name, t.dims, n, got)
	}
	if !isFloat(t.dataType) && t.ints == nil {
		t.ints = []int64{}
	}
	if isFloat(t.dataType) && t.floats == nil {
		t.floats = []float32{}
	}
	return nil
}

// halfToFloat converts IEEE 754 binary16 bits to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		f := float32(mant) / 1024 / 16384 // subnormal: mant·2^-24
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
