package summary

import (
	"testing"
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
			if len(again.Values) != len(e.Values) || again.Step != e.Step {
				t.Fatalf("re-encoding changed %+v into %+v", e, again)
			}
		}
	})
}
