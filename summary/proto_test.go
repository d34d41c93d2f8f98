package summary

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// eventDescriptor describes the subset of TensorFlow's event.proto and
// summary.proto this package uses, with their field numbers and types, so
// that the protobuf runtime can act as an independent encoder and decoder.
func eventDescriptor(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	fd := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("event_subset.proto"),
		Package: proto.String("tensorflow"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("HistogramProto"), Field: []*fieldProto{
				pfield("min", 1, tDouble, false, ""), pfield("max", 2, tDouble, false, ""), pfield("num", 3, tDouble, false, ""),
				pfield("sum", 4, tDouble, false, ""), pfield("sum_squares", 5, tDouble, false, ""),
				pfield("bucket_limit", 6, tDouble, true, ""), pfield("bucket", 7, tDouble, true, ""),
			}},
			{Name: proto.String("Summary"), Field: []*fieldProto{pfield("value", 1, tMsg, true, ".tensorflow.Summary.Value")},
				NestedType: []*descriptorpb.DescriptorProto{
					{Name: proto.String("Image"), Field: []*fieldProto{
						pfield("height", 1, tInt32, false, ""), pfield("width", 2, tInt32, false, ""),
						pfield("colorspace", 3, tInt32, false, ""), pfield("encoded_image_string", 4, tBytes, false, ""),
					}},
					{Name: proto.String("Value"), Field: []*fieldProto{
						pfield("tag", 1, tString, false, ""), pfield("simple_value", 2, tFloat, false, ""),
						pfield("image", 4, tMsg, false, ".tensorflow.Summary.Image"),
						pfield("histo", 5, tMsg, false, ".tensorflow.HistogramProto"),
					}},
				}},
			{Name: proto.String("Event"), Field: []*fieldProto{
				pfield("wall_time", 1, tDouble, false, ""), pfield("step", 2, tInt64, false, ""),
				pfield("file_version", 3, tString, false, ""), pfield("summary", 5, tMsg, false, ".tensorflow.Summary"),
			}},
		},
	}
	file, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return file.Messages().ByName("Event")
}

func get(m protoreflect.Message, name string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

// TestEncodingMatchesProtobufRuntime decodes our events with the protobuf
// runtime, and decodes the runtime's encoding with our decoder.
func TestEncodingMatchesProtobufRuntime(t *testing.T) {
	md := eventDescriptor(t)
	h, err := newHistogram([]float32{-1, 0.5, 0.5, 3})
	if err != nil {
		t.Fatal(err)
	}
	ours := &Event{WallTime: 1700000000.25, Step: 1234567890123, Values: []Value{
		{Tag: "loss", Kind: KindScalar, Simple: 0.125},
		{Tag: "w", Kind: KindHistogram, Histo: h},
		{Tag: "img", Kind: KindImage, Image: &Image{Height: 28, Width: 27, Colorspace: 1, Encoded: []byte{0x89, 'P', 'N', 'G'}}},
	}}

	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(marshalEvent(ours), m); err != nil {
		t.Fatal(err)
	}
	if got := get(m, "wall_time").Float(); got != ours.WallTime {
		t.Errorf("wall_time %v", got)
	}
	if got := get(m, "step").Int(); got != ours.Step {
		t.Errorf("step %v", got)
	}
	values := get(get(m, "summary").Message(), "value").List()
	if values.Len() != 3 {
		t.Fatalf("%d values, want 3", values.Len())
	}
	v0, v1, v2 := values.Get(0).Message(), values.Get(1).Message(), values.Get(2).Message()
	if get(v0, "tag").String() != "loss" || get(v0, "simple_value").Float() != 0.125 {
		t.Errorf("scalar value decoded as tag %q, %v", get(v0, "tag").String(), get(v0, "simple_value").Float())
	}
	histo := get(v1, "histo").Message()
	limits, counts := get(histo, "bucket_limit").List(), get(histo, "bucket").List()
	if get(histo, "num").Float() != 4 || get(histo, "min").Float() != -1 || get(histo, "max").Float() != 3 ||
		get(histo, "sum").Float() != 3 || get(histo, "sum_squares").Float() != 10.5 ||
		limits.Len() != len(h.BucketLimit) || counts.Len() != len(h.Bucket) {
		t.Errorf("histogram decoded wrongly: %v", histo)
	}
	for i := range h.Bucket {
		if limits.Get(i).Float() != h.BucketLimit[i] || counts.Get(i).Float() != h.Bucket[i] {
			t.Fatalf("bucket %d: (%v, %v), want (%v, %v)", i, limits.Get(i).Float(), counts.Get(i).Float(), h.BucketLimit[i], h.Bucket[i])
		}
	}
	img := get(v2, "image").Message()
	if get(img, "height").Int() != 28 || get(img, "width").Int() != 27 || get(img, "colorspace").Int() != 1 ||
		string(get(img, "encoded_image_string").Bytes()) != "\x89PNG" {
		t.Errorf("image decoded wrongly: %v", img)
	}

	// The other direction: the runtime's encoding (zero fields omitted,
	// packed doubles) through our decoder.
	wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := unmarshalEvent(wire)
	if err != nil {
		t.Fatal(err)
	}
	if back.WallTime != ours.WallTime || back.Step != ours.Step || len(back.Values) != 3 ||
		back.Values[0].Simple != 0.125 || back.Values[1].Histo.Sum != 3 ||
		len(back.Values[1].Histo.Bucket) != len(h.Bucket) || back.Values[2].Image.Width != 27 {
		t.Errorf("round trip through the runtime gave %+v", back)
	}

	// A file-version event with step 0, which the runtime omits.
	fv := dynamicpb.NewMessage(md)
	fv.Set(md.Fields().ByName("file_version"), protoreflect.ValueOfString(FileVersion))
	fv.Set(md.Fields().ByName("wall_time"), protoreflect.ValueOfFloat64(math.Pi))
	wire, _ = proto.Marshal(fv)
	e, err := unmarshalEvent(wire)
	if err != nil || e.FileVersion != FileVersion || e.WallTime != math.Pi || e.Step != 0 {
		t.Errorf("file-version event decoded as %+v, %v", e, err)
	}
}
