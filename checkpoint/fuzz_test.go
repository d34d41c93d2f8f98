package checkpoint

import (
	"bytes"
	"os"
	"path/filepath"
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

// FuzzIndex feeds arbitrary index files to Latest and Retained: never a
// panic, and every path they return is a plain file inside the
// directory.
func FuzzIndex(f *testing.F) {
	f.Add([]byte("model_checkpoint_path: \"ckpt-2.safetensors\"\nall_model_checkpoint_paths: \"ckpt-1.safetensors\"\nall_model_checkpoint_paths: \"ckpt-2.safetensors\"\n"))
	f.Add([]byte("model_checkpoint_path: \"../ckpt-1.safetensors\"\n"))
	f.Add([]byte("model_checkpoint_path: \"/etc/passwd\"\n"))
	f.Add([]byte("model_checkpoint_path: \"sub\"\n"))
	f.Add([]byte("model_checkpoint_path: \"ckpt-1.safetensors\"\nfoo: \"x\"\n"))
	f.Add([]byte("model_checkpoint_path: \"\\x2e\\x2e\"\n"))
	dir := f.TempDir()
	for _, name := range []string{"ckpt-1.safetensors", "ckpt-2.safetensors"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := os.WriteFile(filepath.Join(dir, IndexFile), in, 0o644); err != nil {
			t.Fatal(err)
		}
		inside := func(p string) {
			if filepath.Dir(p) != dir || filepath.Base(p) == ".." || filepath.Base(p) == "." {
				t.Fatalf("index %q gave %q, outside %s", in, p, dir)
			}
		}
		if p, err := Latest(dir); err == nil {
			inside(p)
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				t.Fatalf("Latest returned %q, not a regular file", p)
			}
		}
		if all, err := Retained(dir); err == nil {
			for _, p := range all {
				inside(p)
			}
		}
	})
}
