package summary

import (
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from tensorflow/core/framework/graph.proto, node_def.proto,
// attr_value.proto, tensor_shape.proto and versions.proto, and the Event
// field that holds a serialized GraphDef.
const (
	eventGraphDef = 4 // bytes: a serialized GraphDef

	graphNode     = 1 // repeated NodeDef
	graphVersions = 4 // VersionDef

	versionsProducer = 1 // int32

	nodeName  = 1 // string
	nodeOp    = 2 // string
	nodeInput = 3 // repeated string
	nodeAttr  = 5 // map<string, AttrValue>: entries key 1, value 2

	attrList  = 1 // ListValue
	attrS     = 2 // bytes
	attrI     = 3 // int64
	attrF     = 4 // float
	attrB     = 5 // bool
	attrType  = 6 // DataType
	attrShape = 7 // TensorShapeProto

	listI     = 3 // repeated int64, packed
	listShape = 7 // repeated TensorShapeProto

	shapeDim  = 2 // repeated Dim
	dimSize   = 1 // int64, −1 unknown
	mapKey    = 1
	mapValue  = 2
	maxShapes = 1 << 16 // shapes in one list, a bound for hostile input
)

// DataType is TensorFlow's types.proto DataType.
type DataType int32

// The data types convnet's graphs use.
const (
	DTFloat  DataType = 1
	DTInt32  DataType = 3
	DTString DataType = 7
	DTInt64  DataType = 9
	DTBool   DataType = 10
)

// String returns the type's TensorFlow name ("DT_FLOAT", …).
func (t DataType) String() string {
	switch t {
	case DTFloat:
		return "DT_FLOAT"
	case DTInt32:
		return "DT_INT32"
	case DTString:
		return "DT_STRING"
	case DTInt64:
		return "DT_INT64"
	case DTBool:
		return "DT_BOOL"
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// GraphProducer is the GraphDef version (VersionDef.producer) written
// with every graph: TensorFlow 1.15's, whose op set the graphs use.
const GraphProducer = 134

// GraphDef is a TensorFlow GraphDef: the nodes of a model's graph, one
// per op, variable or constant, as TensorBoard's Graphs tab draws them.
// A node name "conv1/Conv2D" puts the node in the box "conv1".
type GraphDef struct {
	Nodes    []NodeDef
	Producer int32 // VersionDef.producer
}

// NodeDef is one node: its unique name, its op type ("Conv2D",
// "VariableV2", …), the names of the nodes whose outputs it reads
// ("conv1/kernel", or "name:1" for a second output, "^name" for a
// control dependency) and its attributes ("T", "_output_shapes", …).
type NodeDef struct {
	Name   string
	Op     string
	Inputs []string
	Attr   map[string]AttrValue
}

// AttrKind says which field of an AttrValue is set.
type AttrKind int

// The AttrValue kinds this package writes and decodes.
const (
	AttrUnknown AttrKind = iota // a kind this package does not decode
	AttrString                  // S
	AttrInt                     // I
	AttrFloat                   // F
	AttrBool                    // B
	AttrType                    // Type
	AttrShape                   // Shape
	AttrInts                    // Ints (ListValue.i)
	AttrShapes                  // Shapes (ListValue.shape), as "_output_shapes"
)

// AttrValue is one attribute of a node. Shapes list dimension sizes,
// −1 for an unknown size (a batch dimension).
type AttrValue struct {
	Kind   AttrKind
	S      string
	I      int64
	F      float32
	B      bool
	Type   DataType
	Shape  []int64
	Ints   []int64
	Shapes [][]int64
}

// String formats the value the way the checker prints it: "DT_FLOAT",
// "[-1,28,28,32]", "SAME", "[1,2,2,1]".
func (a AttrValue) String() string {
	switch a.Kind {
	case AttrString:
		return fmt.Sprintf("%q", a.S)
	case AttrInt:
		return fmt.Sprint(a.I)
	case AttrFloat:
		return fmt.Sprint(a.F)
	case AttrBool:
		return fmt.Sprint(a.B)
	case AttrType:
		return a.Type.String()
	case AttrShape:
		return formatShape(a.Shape)
	case AttrInts:
		return formatShape(a.Ints)
	case AttrShapes:
		s := ""
		for i, sh := range a.Shapes {
			if i > 0 {
				s += " "
			}
			s += formatShape(sh)
		}
		return s
	}
	return "?"
}

func formatShape(dims []int64) string {
	s := "["
	for i, d := range dims {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(d)
	}
	return s + "]"
}

// Graph writes g as the graph of this run (Event.graph_def), as
// tf.summary.FileWriter(logdir, graph) does; TensorBoard's Graphs tab
// draws the last graph of a run.
func (w *Writer) Graph(g *GraphDef) error {
	if g == nil || len(g.Nodes) == 0 {
		return fmt.Errorf("summary: empty graph")
	}
	return w.write(&Event{WallTime: wallTime(now()), Graph: g})
}

func marshalGraphDef(g *GraphDef) []byte {
	var b []byte
	for i := range g.Nodes {
		b = protowire.AppendTag(b, graphNode, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalNode(&g.Nodes[i]))
	}
	if g.Producer != 0 {
		var v []byte
		v = appendVarintField(v, versionsProducer, int64(g.Producer))
		b = protowire.AppendTag(b, graphVersions, protowire.BytesType)
		b = protowire.AppendBytes(b, v)
	}
	return b
}

func marshalNode(n *NodeDef) []byte {
	var b []byte
	b = appendStringField(b, nodeName, n.Name)
	b = appendStringField(b, nodeOp, n.Op)
	for _, in := range n.Inputs {
		b = appendStringField(b, nodeInput, in)
	}
	// Map entries in key order, so the same graph always encodes the same.
	keys := make([]string, 0, len(n.Attr))
	for k := range n.Attr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := n.Attr[k]
		var e []byte
		e = appendStringField(e, mapKey, k)
		e = protowire.AppendTag(e, mapValue, protowire.BytesType)
		e = protowire.AppendBytes(e, marshalAttr(&a))
		b = protowire.AppendTag(b, nodeAttr, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	return b
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func marshalAttr(a *AttrValue) []byte {
	var b []byte
	switch a.Kind {
	case AttrString:
		b = appendStringField(b, attrS, a.S)
	case AttrInt:
		b = appendVarintField(b, attrI, a.I)
	case AttrFloat:
		b = protowire.AppendTag(b, attrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrBool:
		v := int64(0)
		if a.B {
			v = 1
		}
		b = appendVarintField(b, attrB, v)
	case AttrType:
		b = appendVarintField(b, attrType, int64(a.Type))
	case AttrShape:
		b = protowire.AppendTag(b, attrShape, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalShape(a.Shape))
	case AttrInts:
		var l []byte
		if len(a.Ints) > 0 {
			var p []byte
			for _, v := range a.Ints {
				p = protowire.AppendVarint(p, uint64(v))
			}
			l = protowire.AppendTag(l, listI, protowire.BytesType)
			l = protowire.AppendBytes(l, p)
		}
		b = protowire.AppendTag(b, attrList, protowire.BytesType)
		b = protowire.AppendBytes(b, l)
	case AttrShapes:
		var l []byte
		for _, s := range a.Shapes {
			l = protowire.AppendTag(l, listShape, protowire.BytesType)
			l = protowire.AppendBytes(l, marshalShape(s))
		}
		b = protowire.AppendTag(b, attrList, protowire.BytesType)
		b = protowire.AppendBytes(b, l)
	}
	return b
}

// marshalShape encodes a TensorShapeProto; a scalar is a shape with no dims.
func marshalShape(dims []int64) []byte {
	var b []byte
	for _, d := range dims {
		var m []byte
		m = appendVarintField(m, dimSize, d)
		b = protowire.AppendTag(b, shapeDim, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

func unmarshalGraphDef(b []byte) (*GraphDef, error) {
	g := &GraphDef{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case graphNode:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			n, err := unmarshalNode(m)
			if err != nil {
				return fmt.Errorf("node %d: %v", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case graphVersions:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			return eachField(m, func(num protowire.Number, typ protowire.Type, val []byte) error {
				if num != versionsProducer {
					return nil
				}
				v, err := varintField(num, typ, val)
				g.Producer = int32(v)
				return err
			})
		}
		return nil
	})
	return g, err
}

// bytesField checks the wire type of a length-delimited field and
// returns its contents.
func bytesField(num protowire.Number, typ protowire.Type, val []byte) ([]byte, error) {
	if err := wantType(num, typ, protowire.BytesType); err != nil {
		return nil, err
	}
	m, _ := protowire.ConsumeBytes(val)
	return m, nil
}

// varintField checks the wire type of a varint field and returns it.
func varintField(num protowire.Number, typ protowire.Type, val []byte) (int64, error) {
	if err := wantType(num, typ, protowire.VarintType); err != nil {
		return 0, err
	}
	v, _ := protowire.ConsumeVarint(val)
	return int64(v), nil
}

func unmarshalNode(b []byte) (NodeDef, error) {
	var n NodeDef
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case nodeName, nodeOp, nodeInput:
			s, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			switch num {
			case nodeName:
				n.Name = string(s)
			case nodeOp:
				n.Op = string(s)
			default:
				n.Inputs = append(n.Inputs, string(s))
			}
		case nodeAttr:
			e, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			var a AttrValue
			key, err := decodeMapEntry(e, func(m []byte) (err error) {
				a, err = unmarshalAttr(m)
				return err
			})
			if err != nil {
				return fmt.Errorf("attr %q: %v", key, err)
			}
			if n.Attr == nil {
				n.Attr = map[string]AttrValue{}
			}
			n.Attr[key] = a
		}
		return nil
	})
	return n, err
}

// decodeMapEntry reads one entry of a protobuf map<string, …>: it returns the
// key (field 1) and hands the bytes of each value field (field 2) to
// value, in the order they come.
func decodeMapEntry(e []byte, value func([]byte) error) (key string, err error) {
	err = eachField(e, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case mapKey:
			s, err := bytesField(num, typ, val)
			key = string(s)
			return err
		case mapValue:
			v, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			return value(v)
		}
		return nil
	})
	return key, err
}

func unmarshalAttr(b []byte) (AttrValue, error) {
	var a AttrValue
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		var err error
		switch num {
		case attrS:
			var s []byte
			s, err = bytesField(num, typ, val)
			a.Kind, a.S = AttrString, string(s)
		case attrI:
			a.Kind = AttrInt
			a.I, err = varintField(num, typ, val)
		case attrF:
			if err := wantType(num, typ, protowire.Fixed32Type); err != nil {
				return err
			}
			v, _ := protowire.ConsumeFixed32(val)
			a.Kind, a.F = AttrFloat, math.Float32frombits(v)
		case attrB:
			var v int64
			v, err = varintField(num, typ, val)
			a.Kind, a.B = AttrBool, v != 0
		case attrType:
			var v int64
			v, err = varintField(num, typ, val)
			a.Kind, a.Type = AttrType, DataType(v)
		case attrShape:
			var m []byte
			if m, err = bytesField(num, typ, val); err == nil {
				a.Kind = AttrShape
				a.Shape, err = unmarshalShape(m)
			}
		case attrList:
			var m []byte
			if m, err = bytesField(num, typ, val); err == nil {
				err = unmarshalList(m, &a)
			}
		}
		return err
	})
	return a, err
}

// unmarshalList decodes the int and shape lists of a ListValue; a list
// with neither is an empty AttrInts.
func unmarshalList(b []byte, a *AttrValue) error {
	a.Kind = AttrInts
	return eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case listI:
			switch typ {
			case protowire.VarintType:
				v, _ := protowire.ConsumeVarint(val)
				a.Ints = append(a.Ints, int64(v))
			case protowire.BytesType:
				p, _ := protowire.ConsumeBytes(val)
				for len(p) > 0 {
					v, n := protowire.ConsumeVarint(p)
					if n < 0 {
						return fmt.Errorf("list.i: %v", protowire.ParseError(n))
					}
					a.Ints = append(a.Ints, int64(v))
					p = p[n:]
				}
			default:
				return fmt.Errorf("list.i has wire type %d", typ)
			}
		case listShape:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			if len(a.Shapes) >= maxShapes {
				return fmt.Errorf("more than %d shapes in one list", maxShapes)
			}
			s, err := unmarshalShape(m)
			if err != nil {
				return err
			}
			a.Kind = AttrShapes
			a.Shapes = append(a.Shapes, s)
		}
		return nil
	})
}

func unmarshalShape(b []byte) ([]int64, error) {
	dims := []int64{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		if num != shapeDim {
			return nil
		}
		m, err := bytesField(num, typ, val)
		if err != nil {
			return err
		}
		var size int64
		err = eachField(m, func(num protowire.Number, typ protowire.Type, val []byte) error {
			if num != dimSize {
				return nil
			}
			size, err = varintField(num, typ, val)
			return err
		})
		dims = append(dims, size)
		return err
	})
	return dims, err
}
