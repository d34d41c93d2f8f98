package summary

import (
	"io"
	"testing"
	"time"
)

// maxFuzzInput bounds FuzzDecode's inputs. The exec counter of this
// target used to freeze for 30–60 s at a time: not a slow decode (650
// bytes decode in ~90 µs) but the fuzzer minimizing a new "interesting"
// input, which it does before reporting the worker's executions. A long
// run of short fields (650 × ':' = field 7, 58 bytes, repeated) reaches a
// new loop-count coverage bucket in eachField; minimizing a 650-byte
// input tries ~10⁶ candidates (quadratic in the length), about 40 s here.
// Every framing and message path is reachable in far fewer bytes, so the
// target ignores longer inputs and they never become interesting.
const maxFuzzInput = 256

// FuzzDecode feeds arbitrary bytes to the record splitter and the event
// decoder: they must return errors, never panic, and an event that
// decodes must re-encode and decode to the same scalar values.
func FuzzDecode(f *testing.F) {
	h, _ := newHistogram([]float32{1, 2, -3})
	for _, e := range []*Event{
		{WallTime: 1, FileVersion: FileVersion},
		{WallTime: 2, Step: 5, Values: []Value{{Tag: "a", Kind: KindScalar, Simple: 1.5}}},
		{WallTime: 3, Step: 6, Values: []Value{{Tag: "h", Kind: KindHistogram, Histo: h}}},
		{WallTime: 4, Step: 7, Values: []Value{{Tag: "i", Kind: KindImage, Image: &Image{Height: 1, Width: 1, Colorspace: 1, Encoded: []byte{1}}}}},
		{WallTime: 5, Graph: &GraphDef{Producer: GraphProducer, Nodes: []NodeDef{
			{Name: "c/kernel", Op: "VariableV2", Attr: map[string]AttrValue{"dtype": {Kind: AttrType, Type: DTFloat}, "shape": {Kind: AttrShape, Shape: []int64{5, 5, 1, 2}}}},
			{Name: "c/Conv2D", Op: "Conv2D", Inputs: []string{"x", "c/kernel"}, Attr: map[string]AttrValue{
				"_output_shapes": {Kind: AttrShapes, Shapes: [][]int64{{-1, 28, 28, 2}}}, "strides": {Kind: AttrInts, Ints: []int64{1, 1, 1, 1}},
				"padding": {Kind: AttrString, S: "SAME"}, "use_cudnn_on_gpu": {Kind: AttrBool, B: true}, "alpha": {Kind: AttrFloat, F: 0.5}, "N": {Kind: AttrInt, I: 3}}},
		}}},
		{WallTime: 6, Values: []Value{{Tag: "t", Kind: KindTensor, Tensor: &Tensor{DType: DTString, Strings: [][]byte{[]byte("hi")}},
			Metadata: &Metadata{PluginName: PluginText, DataClass: DataClassTensor}}}},
		{WallTime: 7, Values: []Value{{Tag: HParamsSessionStartTag, Kind: KindTensor, Tensor: &Tensor{DType: DTFloat, Floats: []float32{0}},
			Metadata: &Metadata{PluginName: PluginHParams, Content: []byte{0x1a, 0x11, 0x0a, 0x0f, 0x0a, 0x02, 'l', 'r', 0x12, 0x09, 0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}}}}},
	} {
		f.Add(appendRecord(nil, marshalEvent(e)))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxFuzzInput {
			return
		}
		recs, err := splitRecords(in)
		if err != nil {
			recs = [][]byte{in} // still exercise the decoder
		}
		for _, r := range recs {
			e, err := unmarshalEvent(r)
			if err != nil {
				continue
			}
			again, err := unmarshalEvent(marshalEvent(&e))
			if err != nil {
				t.Fatalf("re-decoding: %v", err)
			}
			if len(again.Values) != len(e.Values) || again.Step != e.Step || (e.Graph == nil) != (again.Graph == nil) ||
				e.Graph != nil && len(e.Graph.Nodes) != len(again.Graph.Nodes) {
				t.Fatalf("re-encoding changed %+v into %+v", e, again)
			}
			// What tensorboard-check does with a decoded event must not
			// panic either, and the graph's picture stays bounded.
			Report(io.Discard, []RunFile{{Path: "fuzz", Run: ".", Events: []Event{e}}})
			if e.Graph != nil {
				if b := GraphImage(e.Graph).Bounds(); b.Dx() > 814 || b.Dy() > 4222 {
					t.Fatalf("graph picture of %d nodes is %v", len(e.Graph.Nodes), b)
				}
			}
		}
	})
}

// FuzzDecodeHParams feeds arbitrary bytes to the hparams plugin decoder:
// it must return an error or a record, never panic.
func FuzzDecodeHParams(f *testing.F) {
	dir := f.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		f.Fatal(err)
	}
	hs := []HParam{{"lr", 0.001}, {"optimizer", "adam"}, {"augment", true}}
	w.HParamsExperiment(hs, []HParamMetric{{Group: "eval", Tag: "accuracy"}}, time.Unix(1, 0))
	w.HParamsSessionStart(hs, time.Unix(1, 0))
	w.HParamsSessionEnd(StatusFailure, time.Unix(2, 0))
	w.Close()
	events, err := ReadFile(w.Path())
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range events[1:] {
		f.Add(e.Values[0].Metadata.Content)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := DecodeHParams(in)
		if err == nil && d.Kind == "" && len(d.HParams) > 0 {
			t.Fatalf("hparams without a record kind: %+v", d)
		}
	})
}
