package imagefilter

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzResolve feeds arbitrary kernel specifications (built-in names with
// sizes, inline matrices) to Resolve: never a panic, and every kernel it
// returns passes Validate.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"blur,sharpen", "box:5", "gaussian:7:1.5", "gaussian:5:-1", "0,-1,0;-1,5,-1;0,-1,0",
		"1/16,2/16;3,4", "1e-3", "edge8", "box:100000", "1,2;3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if strings.HasPrefix(strings.TrimSpace(spec), "@") {
			return // file names: FuzzReadKernel covers the contents
		}
		ks, err := Resolve(spec)
		if err != nil {
			return
		}
		for _, k := range ks {
			if err := k.Validate(); err != nil {
				t.Fatalf("Resolve(%q) returned an invalid kernel: %v", spec, err)
			}
		}
	})
}

// FuzzReadKernel feeds arbitrary kernel file contents to ReadKernel.
func FuzzReadKernel(f *testing.F) {
	for _, s := range []string{"0 -1 0\n-1 5 -1\n0 -1 0\n", "1,2;3,4", "# comment\n1\n", "1/0", "nan", "1e39", "\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ReadKernel(bytes.NewReader(in))
		if err != nil {
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("ReadKernel accepted an invalid kernel: %v", err)
		}
	})
}
