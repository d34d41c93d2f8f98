package summary

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Shorthands for building FileDescriptorProtos by hand.
type fieldProto = descriptorpb.FieldDescriptorProto

const (
	tDouble = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
	tFloat  = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
	tInt32  = descriptorpb.FieldDescriptorProto_TYPE_INT32
	tInt64  = descriptorpb.FieldDescriptorProto_TYPE_INT64
	tBool   = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	tString = descriptorpb.FieldDescriptorProto_TYPE_STRING
	tBytes  = descriptorpb.FieldDescriptorProto_TYPE_BYTES
	tMsg    = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	tEnum   = descriptorpb.FieldDescriptorProto_TYPE_ENUM
)

func pfield(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, repeated bool, typeName string) *fieldProto {
	label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	if repeated {
		label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	}
	f := &fieldProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum(), JsonName: proto.String(name)}
	if typeName != "" {
		f.TypeName = proto.String(typeName)
	}
	return f
}

// inOneof puts f in the oneof with index i of its message.
func inOneof(f *fieldProto, i int32) *fieldProto { f.OneofIndex = proto.Int32(i); return f }

func pmsg(name string, fields ...*fieldProto) *descriptorpb.DescriptorProto {
	return &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fields}
}

// mapEntry is the nested entry message protoc generates for map<K, V>.
func mapEntry(name string, key, value *fieldProto) *descriptorpb.DescriptorProto {
	m := pmsg(name, key, value)
	m.Options = &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}
	return m
}

func penum(name string, values ...string) *descriptorpb.EnumDescriptorProto {
	e := &descriptorpb.EnumDescriptorProto{Name: proto.String(name)}
	for i, v := range values {
		e.Value = append(e.Value, &descriptorpb.EnumValueDescriptorProto{Name: proto.String(v), Number: proto.Int32(int32(i))})
	}
	return e
}

// tfFiles describes, field for field, the parts of TensorFlow's
// graph.proto, node_def.proto, attr_value.proto, tensor_shape.proto,
// versions.proto, tensor.proto, summary.proto and event.proto, and of
// TensorBoard's hparams api.proto and plugin_data.proto, that this
// package writes: an independent description for the protobuf runtime
// to decode our bytes with.
func tfFiles(t *testing.T) *protoregistry.Files {
	t.Helper()
	dataType := &descriptorpb.EnumDescriptorProto{Name: proto.String("DataType")}
	for _, v := range []struct {
		name string
		num  int32
	}{{"DT_INVALID", 0}, {"DT_FLOAT", 1}, {"DT_INT32", 3}, {"DT_STRING", 7}, {"DT_INT64", 9}, {"DT_BOOL", 10}} {
		dataType.Value = append(dataType.Value, &descriptorpb.EnumValueDescriptorProto{Name: proto.String(v.name), Number: proto.Int32(v.num)})
	}
	dim := pmsg("Dim", pfield("size", 1, tInt64, false, ""), pfield("name", 2, tString, false, ""))
	shape := pmsg("TensorShapeProto", pfield("dim", 2, tMsg, true, ".tensorflow.TensorShapeProto.Dim"), pfield("unknown_rank", 3, tBool, false, ""))
	shape.NestedType = []*descriptorpb.DescriptorProto{dim}
	list := pmsg("ListValue",
		pfield("s", 2, tBytes, true, ""), pfield("i", 3, tInt64, true, ""), pfield("f", 4, tFloat, true, ""),
		pfield("b", 5, tBool, true, ""), pfield("type", 6, tEnum, true, ".tensorflow.DataType"),
		pfield("shape", 7, tMsg, true, ".tensorflow.TensorShapeProto"))
	attr := pmsg("AttrValue",
		inOneof(pfield("list", 1, tMsg, false, ".tensorflow.AttrValue.ListValue"), 0),
		inOneof(pfield("s", 2, tBytes, false, ""), 0), inOneof(pfield("i", 3, tInt64, false, ""), 0),
		inOneof(pfield("f", 4, tFloat, false, ""), 0), inOneof(pfield("b", 5, tBool, false, ""), 0),
		inOneof(pfield("type", 6, tEnum, false, ".tensorflow.DataType"), 0),
		inOneof(pfield("shape", 7, tMsg, false, ".tensorflow.TensorShapeProto"), 0),
		inOneof(pfield("placeholder", 9, tString, false, ""), 0))
	attr.NestedType = []*descriptorpb.DescriptorProto{list}
	attr.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("value")}}
	node := pmsg("NodeDef", pfield("name", 1, tString, false, ""), pfield("op", 2, tString, false, ""),
		pfield("input", 3, tString, true, ""), pfield("device", 4, tString, false, ""),
		pfield("attr", 5, tMsg, true, ".tensorflow.NodeDef.AttrEntry"))
	node.NestedType = []*descriptorpb.DescriptorProto{mapEntry("AttrEntry",
		pfield("key", 1, tString, false, ""), pfield("value", 2, tMsg, false, ".tensorflow.AttrValue"))}
	tensorProto := pmsg("TensorProto", pfield("dtype", 1, tEnum, false, ".tensorflow.DataType"),
		pfield("tensor_shape", 2, tMsg, false, ".tensorflow.TensorShapeProto"), pfield("version_number", 3, tInt32, false, ""),
		pfield("tensor_content", 4, tBytes, false, ""), pfield("float_val", 5, tFloat, true, ""),
		pfield("string_val", 8, tBytes, true, ""))
	pluginData := pmsg("PluginData", pfield("plugin_name", 1, tString, false, ""), pfield("content", 2, tBytes, false, ""))
	meta := pmsg("SummaryMetadata", pfield("plugin_data", 1, tMsg, false, ".tensorflow.SummaryMetadata.PluginData"),
		pfield("display_name", 2, tString, false, ""), pfield("summary_description", 3, tString, false, ""),
		pfield("data_class", 4, tEnum, false, ".tensorflow.DataClass"))
	meta.NestedType = []*descriptorpb.DescriptorProto{pluginData}
	value := pmsg("Value", pfield("node_name", 7, tString, false, ""), pfield("tag", 1, tString, false, ""),
		pfield("metadata", 9, tMsg, false, ".tensorflow.SummaryMetadata"),
		inOneof(pfield("simple_value", 2, tFloat, false, ""), 0),
		inOneof(pfield("tensor", 8, tMsg, false, ".tensorflow.TensorProto"), 0))
	value.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("value")}}
	summ := pmsg("Summary", pfield("value", 1, tMsg, true, ".tensorflow.Summary.Value"))
	summ.NestedType = []*descriptorpb.DescriptorProto{value}
	event := pmsg("Event", pfield("wall_time", 1, tDouble, false, ""), pfield("step", 2, tInt64, false, ""),
		inOneof(pfield("file_version", 3, tString, false, ""), 0), inOneof(pfield("graph_def", 4, tBytes, false, ""), 0),
		inOneof(pfield("summary", 5, tMsg, false, ".tensorflow.Summary"), 0))
	event.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("what")}}
	tf := &descriptorpb.FileDescriptorProto{
		Name: proto.String("tensorflow_subset.proto"), Package: proto.String("tensorflow"), Syntax: proto.String("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{dataType,
			penum("DataClass", "DATA_CLASS_UNKNOWN", "DATA_CLASS_SCALAR", "DATA_CLASS_TENSOR", "DATA_CLASS_BLOB_SEQUENCE")},
		MessageType: []*descriptorpb.DescriptorProto{shape, attr, node,
			pmsg("VersionDef", pfield("producer", 1, tInt32, false, ""), pfield("min_consumer", 2, tInt32, false, "")),
			pmsg("GraphDef", pfield("node", 1, tMsg, true, ".tensorflow.NodeDef"), pfield("versions", 4, tMsg, false, ".tensorflow.VersionDef")),
			tensorProto, meta, summ, event},
	}

	metricName := pmsg("MetricName", pfield("group", 1, tString, false, ""), pfield("tag", 2, tString, false, ""))
	hpInfo := pmsg("HParamInfo", pfield("name", 1, tString, false, ""), pfield("display_name", 2, tString, false, ""),
		pfield("description", 3, tString, false, ""), pfield("type", 4, tEnum, false, ".tensorboard.hparams.DataType"))
	metricInfo := pmsg("MetricInfo", pfield("name", 1, tMsg, false, ".tensorboard.hparams.MetricName"),
		pfield("display_name", 3, tString, false, ""), pfield("description", 4, tString, false, ""))
	experiment := pmsg("Experiment", pfield("name", 6, tString, false, ""), pfield("description", 1, tString, false, ""),
		pfield("user", 2, tString, false, ""), pfield("time_created_secs", 3, tDouble, false, ""),
		pfield("hparam_infos", 4, tMsg, true, ".tensorboard.hparams.HParamInfo"),
		pfield("metric_infos", 5, tMsg, true, ".tensorboard.hparams.MetricInfo"))
	start := pmsg("SessionStartInfo", pfield("hparams", 1, tMsg, true, ".tensorboard.hparams.SessionStartInfo.HparamsEntry"),
		pfield("model_uri", 2, tString, false, ""), pfield("monitor_url", 3, tString, false, ""),
		pfield("group_name", 4, tString, false, ""), pfield("start_time_secs", 5, tDouble, false, ""))
	start.NestedType = []*descriptorpb.DescriptorProto{mapEntry("HparamsEntry",
		pfield("key", 1, tString, false, ""), pfield("value", 2, tMsg, false, ".google.protobuf.Value"))}
	end := pmsg("SessionEndInfo", pfield("status", 1, tEnum, false, ".tensorboard.hparams.Status"),
		pfield("end_time_secs", 2, tDouble, false, ""))
	pd := pmsg("HParamsPluginData", pfield("version", 1, tInt32, false, ""),
		inOneof(pfield("experiment", 2, tMsg, false, ".tensorboard.hparams.Experiment"), 0),
		inOneof(pfield("session_start_info", 3, tMsg, false, ".tensorboard.hparams.SessionStartInfo"), 0),
		inOneof(pfield("session_end_info", 4, tMsg, false, ".tensorboard.hparams.SessionEndInfo"), 0))
	pd.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("data")}}
	hp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("hparams_subset.proto"), Package: proto.String("tensorboard.hparams"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/protobuf/struct.proto"},
		EnumType: []*descriptorpb.EnumDescriptorProto{
			penum("DataType", "DATA_TYPE_UNSET", "DATA_TYPE_STRING", "DATA_TYPE_BOOL", "DATA_TYPE_FLOAT64"),
			penum("Status", "STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING")},
		MessageType: []*descriptorpb.DescriptorProto{metricName, hpInfo, metricInfo, experiment, start, end, pd},
	}

	files := new(protoregistry.Files)
	if err := files.RegisterFile(structpb.File_google_protobuf_struct_proto); err != nil {
		t.Fatal(err)
	}
	for _, fd := range []*descriptorpb.FileDescriptorProto{tf, hp} {
		f, err := protodesc.NewFile(fd, files)
		if err != nil {
			t.Fatalf("%s: %v", fd.GetName(), err)
		}
		if err := files.RegisterFile(f); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// decode parses b as the message named name with the runtime, rejecting
// unknown fields so that a wrong field number cannot go unnoticed.
func decode(t *testing.T, files *protoregistry.Files, name string, b []byte) protoreflect.Message {
	t.Helper()
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var unknown func(m protoreflect.Message, path string)
	unknown = func(m protoreflect.Message, path string) {
		if len(m.GetUnknown()) > 0 {
			t.Errorf("%s%s has unknown fields %x", name, path, m.GetUnknown())
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					unknown(mv.Message(), path+"."+string(fd.Name())+"["+k.String()+"]")
					return true
				})
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					unknown(v.List().Get(i).Message(), path+"."+string(fd.Name()))
				}
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				unknown(v.Message(), path+"."+string(fd.Name()))
			}
			return true
		})
	}
	unknown(m, "")
	return m
}

// TestGraphMatchesProtobufRuntime writes a graph with every attribute
// kind to an event file, reads it back through the file's CRCs, and
// decodes the Event and its GraphDef with the runtime.
func TestGraphMatchesProtobufRuntime(t *testing.T) {
	files := tfFiles(t)
	g := &GraphDef{Producer: GraphProducer, Nodes: []NodeDef{
		{Name: "conv1/kernel", Op: "VariableV2", Attr: map[string]AttrValue{
			"dtype": {Kind: AttrType, Type: DTFloat}, "shape": {Kind: AttrShape, Shape: []int64{5, 5, 1, 32}}}},
		{Name: "conv1/Conv2D", Op: "Conv2D", Inputs: []string{"data/images", "conv1/kernel"}, Attr: map[string]AttrValue{
			"T":                {Kind: AttrType, Type: DTFloat},
			"_output_shapes":   {Kind: AttrShapes, Shapes: [][]int64{{-1, 28, 28, 32}}},
			"strides":          {Kind: AttrInts, Ints: []int64{1, 1, 1, 1}},
			"padding":          {Kind: AttrString, S: "SAME"},
			"use_cudnn_on_gpu": {Kind: AttrBool, B: true},
			"alpha":            {Kind: AttrFloat, F: 0.25},
			"N":                {Kind: AttrInt, I: -3},
			"scalar":           {Kind: AttrShapes, Shapes: [][]int64{{}}},
		}},
	}}
	dir := t.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Graph(g); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, events := readRaw(t, w.Path())
	if len(events) != 2 || events[1].Graph == nil {
		t.Fatalf("read back %d events, want the file version and a graph: %+v", len(events), events)
	}
	ev := decode(t, files, "tensorflow.Event", raw[1])
	gm := decode(t, files, "tensorflow.GraphDef", get(ev, "graph_def").Bytes())
	if p := get(get(gm, "versions").Message(), "producer").Int(); p != GraphProducer {
		t.Errorf("producer %d, want %d", p, GraphProducer)
	}
	nodes := get(gm, "node").List()
	if nodes.Len() != 2 {
		t.Fatalf("%d nodes, want 2", nodes.Len())
	}
	conv := nodes.Get(1).Message()
	if get(conv, "name").String() != "conv1/Conv2D" || get(conv, "op").String() != "Conv2D" {
		t.Errorf("node 1 is %q (%q)", get(conv, "name").String(), get(conv, "op").String())
	}
	in := get(conv, "input").List()
	if in.Len() != 2 || in.Get(0).String() != "data/images" || in.Get(1).String() != "conv1/kernel" {
		t.Errorf("inputs %v", in)
	}
	attrs := get(conv, "attr").Map()
	attr := func(k string) protoreflect.Message {
		v := attrs.Get(protoreflect.ValueOfString(k).MapKey())
		if !v.IsValid() {
			t.Fatalf("attr %q missing", k)
		}
		return v.Message()
	}
	if e := get(attr("T"), "type").Enum(); e != 1 {
		t.Errorf("T = %d, want DT_FLOAT (1)", e)
	}
	shapes := get(get(attr("_output_shapes"), "list").Message(), "shape").List()
	if shapes.Len() != 1 {
		t.Fatalf("_output_shapes has %d shapes", shapes.Len())
	}
	dims := get(shapes.Get(0).Message(), "dim").List()
	var gotDims []int64
	for i := range dims.Len() {
		gotDims = append(gotDims, get(dims.Get(i).Message(), "size").Int())
	}
	if formatShape(gotDims) != "[-1,28,28,32]" {
		t.Errorf("_output_shapes %v", gotDims)
	}
	strides := get(get(attr("strides"), "list").Message(), "i").List()
	if strides.Len() != 4 || strides.Get(1).Int() != 1 {
		t.Errorf("strides %v", strides)
	}
	if string(get(attr("padding"), "s").Bytes()) != "SAME" || !get(attr("use_cudnn_on_gpu"), "b").Bool() ||
		get(attr("alpha"), "f").Float() != 0.25 || get(attr("N"), "i").Int() != -3 {
		t.Errorf("scalar attrs decoded wrongly: %v", attrs)
	}
	if n := get(get(attr("scalar"), "list").Message(), "shape").List(); n.Len() != 1 || get(n.Get(0).Message(), "dim").List().Len() != 0 {
		t.Errorf("a scalar's shape should be one shape without dims, got %v", n)
	}
	kernel := nodes.Get(0).Message()
	kAttrs := get(kernel, "attr").Map()
	if kAttrs.Len() != 2 {
		t.Errorf("kernel has %d attrs, want 2", kAttrs.Len())
	}

	// Our decoder gives back what was written, attribute for attribute.
	back := events[1].Graph
	if back.Producer != g.Producer || len(back.Nodes) != len(g.Nodes) {
		t.Fatalf("decoded graph %+v", back)
	}
	for i, n := range g.Nodes {
		b := back.Nodes[i]
		if b.Name != n.Name || b.Op != n.Op || len(b.Inputs) != len(n.Inputs) || len(b.Attr) != len(n.Attr) {
			t.Errorf("node %d decoded as %+v, want %+v", i, b, n)
		}
		for k, a := range n.Attr {
			if b.Attr[k].String() != a.String() || b.Attr[k].Kind != a.Kind {
				t.Errorf("node %s attr %s decoded as %v, want %v", n.Name, k, b.Attr[k], a)
			}
		}
	}

	// The runtime's own encoding of the graph decodes the same with ours.
	wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(gm.Interface())
	if err != nil {
		t.Fatal(err)
	}
	again, err := unmarshalGraphDef(wire)
	if err != nil {
		t.Fatal(err)
	}
	if again.Nodes[1].Attr["_output_shapes"].String() != "[-1,28,28,32]" || again.Nodes[1].Attr["strides"].String() != "[1,1,1,1]" {
		t.Errorf("runtime's encoding decoded as %+v", again.Nodes[1])
	}
}

// readRaw returns the data of every record of the event file and our
// decoding of them.
func readRaw(t *testing.T, path string) ([][]byte, []Event) {
	t.Helper()
	events, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := splitRecords(b)
	if err != nil {
		t.Fatal(err)
	}
	return recs, events
}

// TestTextAndHParamsMatchProtobufRuntime decodes the text summary and the
// three hparams records with the runtime, down to the plugin content.
func TestTextAndHParamsMatchProtobufRuntime(t *testing.T) {
	files := tfFiles(t)
	w, err := NewWriter(filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	hps := []HParam{{"lr", 0.001}, {"batch_size", 128}, {"optimizer", "adam"}, {"augment", false}}
	metrics := []HParamMetric{{Group: "eval", Tag: "accuracy", DisplayName: "test accuracy"}}
	start := time.Unix(1700000000, 0)
	for _, err := range []error{
		w.Text("hparams", 3, "| lr | 0.001 |"),
		w.HParamsExperiment(hps, metrics, start),
		w.HParamsSessionStart(hps, start),
		w.HParamsSessionEnd(StatusSuccess, start.Add(time.Minute)),
		w.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	raw, events := readRaw(t, w.Path())
	if len(raw) != 5 {
		t.Fatalf("%d records, want 5", len(raw))
	}
	value := func(i int) protoreflect.Message {
		ev := decode(t, files, "tensorflow.Event", raw[i])
		vs := get(get(ev, "summary").Message(), "value").List()
		if vs.Len() != 1 {
			t.Fatalf("event %d has %d values", i, vs.Len())
		}
		return vs.Get(0).Message()
	}

	text := value(1)
	meta := get(text, "metadata").Message()
	tensor := get(text, "tensor").Message()
	if get(text, "tag").String() != "hparams" || get(get(meta, "plugin_data").Message(), "plugin_name").String() != "text" ||
		get(meta, "data_class").Enum() != DataClassTensor || get(tensor, "dtype").Enum() != 7 ||
		get(get(tensor, "tensor_shape").Message(), "dim").List().Len() != 0 ||
		string(get(tensor, "string_val").List().Get(0).Bytes()) != "| lr | 0.001 |" {
		t.Errorf("text value decoded as %v", text)
	}
	if events[1].Step != 3 || string(events[1].Values[0].Tensor.Strings[0]) != "| lr | 0.001 |" {
		t.Errorf("our decoder read the text event as %+v", events[1])
	}

	plugin := func(i int, tag string) protoreflect.Message {
		v := value(i)
		if got := get(v, "tag").String(); got != tag {
			t.Errorf("event %d has tag %q, want %q", i, got, tag)
		}
		pd := get(get(v, "metadata").Message(), "plugin_data").Message()
		if got := get(pd, "plugin_name").String(); got != "hparams" {
			t.Errorf("event %d: plugin %q", i, got)
		}
		if tn := get(v, "tensor").Message(); get(tn, "dtype").Enum() != 1 || get(tn, "float_val").List().Len() != 1 {
			t.Errorf("event %d: tensor %v, want hparams' null tensor (a float 0)", i, tn)
		}
		return decode(t, files, "tensorboard.hparams.HParamsPluginData", get(pd, "content").Bytes())
	}

	exp := get(plugin(2, HParamsExperimentTag), "experiment").Message()
	infos := get(exp, "hparam_infos").List()
	wantTypes := map[string]protoreflect.EnumNumber{"lr": 3, "batch_size": 3, "optimizer": 1, "augment": 2}
	if infos.Len() != len(hps) {
		t.Fatalf("%d hparam infos, want %d", infos.Len(), len(hps))
	}
	for i := range infos.Len() {
		info := infos.Get(i).Message()
		if name := get(info, "name").String(); get(info, "type").Enum() != wantTypes[name] {
			t.Errorf("hparam %q has type %d, want %d", name, get(info, "type").Enum(), wantTypes[name])
		}
	}
	mi := get(exp, "metric_infos").List()
	if mi.Len() != 1 || get(get(mi.Get(0).Message(), "name").Message(), "group").String() != "eval" ||
		get(get(mi.Get(0).Message(), "name").Message(), "tag").String() != "accuracy" ||
		get(mi.Get(0).Message(), "display_name").String() != "test accuracy" {
		t.Errorf("metric infos %v", mi)
	}
	if get(exp, "time_created_secs").Float() != 1700000000 {
		t.Errorf("time_created_secs %v", get(exp, "time_created_secs").Float())
	}

	startInfo := get(plugin(3, HParamsSessionStartTag), "session_start_info").Message()
	hpMap := get(startInfo, "hparams").Map()
	// The map's values are google.protobuf.Value messages; compare through
	// structpb's own type.
	asValue := func(k string) *structpb.Value {
		v := hpMap.Get(protoreflect.ValueOfString(k).MapKey())
		if !v.IsValid() {
			t.Fatalf("hparam %q missing", k)
		}
		b, err := proto.Marshal(v.Message().Interface())
		if err != nil {
			t.Fatal(err)
		}
		var sv structpb.Value
		if err := proto.Unmarshal(b, &sv); err != nil {
			t.Fatal(err)
		}
		return &sv
	}
	if asValue("lr").GetNumberValue() != 0.001 || asValue("batch_size").GetNumberValue() != 128 ||
		asValue("optimizer").GetStringValue() != "adam" || asValue("augment").GetKind() == nil || asValue("augment").GetBoolValue() {
		t.Errorf("session start hparams %v", hpMap)
	}
	if get(startInfo, "start_time_secs").Float() != 1700000000 {
		t.Errorf("start_time_secs %v", get(startInfo, "start_time_secs").Float())
	}

	endInfo := get(plugin(4, HParamsSessionEndTag), "session_end_info").Message()
	if get(endInfo, "status").Enum() != 1 || get(endInfo, "end_time_secs").Float() != 1700000060 {
		t.Errorf("session end %v", endInfo)
	}

	// DecodeHParams reads the same records back.
	for i, want := range []string{"experiment", "session_start_info", "session_end_info"} {
		d, err := DecodeHParams(events[2+i].Values[0].Metadata.Content)
		if err != nil || d.Kind != want {
			t.Fatalf("record %d decoded as %+v, %v; want %s", 2+i, d, err, want)
		}
		switch want {
		case "experiment":
			if len(d.Metrics) != 1 || d.Metrics[0] != metrics[0] {
				t.Errorf("metrics %+v", d.Metrics)
			}
		case "session_start_info":
			if d.HParams["lr"] != 0.001 || d.HParams["batch_size"] != 128.0 || d.HParams["optimizer"] != "adam" || d.HParams["augment"] != false {
				t.Errorf("hparams %v", d.HParams)
			}
		case "session_end_info":
			if d.Status != StatusSuccess {
				t.Errorf("status %d", d.Status)
			}
		}
	}
}

// TestHParamsRejectsBadValues checks the errors for values the plugin
// cannot hold.
func TestHParamsRejectsBadValues(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tests := []struct {
		name string
		h    HParam
		want string
	}{
		{"slice", HParam{"layers", []int{1}}, "[]int"},
		{"nil", HParam{"x", nil}, "<nil>"},
		{"no name", HParam{"", 1.0}, "empty name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := w.HParamsSessionStart([]HParam{tc.h}, time.Now())
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
	if err := w.Graph(&GraphDef{}); err == nil {
		t.Error("an empty graph was accepted")
	}
}
