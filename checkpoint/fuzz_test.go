package checkpoint

import (
	"bytes"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic, and
// whatever it accepts must survive a Write/Read round trip unchanged.
func FuzzRead(f *testing.F) {
	tensors, meta := sample()
	var b bytes.Buffer
	if err := Write(&b, tensors, meta); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, []byte{0, 0, 128, 63}))
	f.Add(file(`{}      `, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, gotMeta, err := Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, got, gotMeta); err != nil {
			t.Fatalf("Read accepted what Write rejects: %v", err)
		}
		again, againMeta, err := Read(&out)
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		sameBits(t, again, got)
		if len(againMeta) != len(gotMeta) {
			t.Fatalf("metadata %v became %v", gotMeta, againMeta)
		}
		for k, v := range gotMeta {
			if againMeta[k] != v {
				t.Fatalf("metadata %q: %q became %q", k, v, againMeta[k])
			}
		}
	})
}
