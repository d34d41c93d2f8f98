package summary

import (
	"testing"
)

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
