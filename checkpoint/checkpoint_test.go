package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func sample() (map[string]*tensor.Tensor, map[string]string) {
	return map[string]*tensor.Tensor{
			"conv1/kernel": tensor.Must(tensor.New([]int{2, 2, 1, 3}, []float32{
				1, -2, 3.5, float32(math.Inf(1)), float32(math.Copysign(0, -1)), 1e-38, 7, 8, 9, 10, 11, float32(math.NaN())})),
			"conv1/bias": tensor.Must(tensor.New([]int{3}, []float32{0.1, 0.2, 0.3})),
			"step":       tensor.Must(tensor.New([]int{}, []float32{42})),
			"empty":      tensor.Zeros(0, 4),
		}, map[string]string{
			"step":  "42",
			"model": "lecture <ConvNet> & co",
		}
}

// sameBits compares tensors bit for bit (so NaN and −0 count).
func sameBits(t *testing.T, got, want map[string]*tensor.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if !tensor.SameShape(g.Shape(), w.Shape()) || len(g.Shape()) != len(w.Shape()) {
			t.Fatalf("%q: shape %v, want %v", name, g.Shape(), w.Shape())
		}
		for i := range w.Data() {
			if math.Float32bits(g.Data()[i]) != math.Float32bits(w.Data()[i]) {
				t.Fatalf("%q[%d] = %v, want %v", name, i, g.Data()[i], w.Data()[i])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	tensors, meta := sample()
	var b bytes.Buffer
	if err := Write(&b, tensors, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, got, tensors)
	if len(gotMeta) != len(meta) {
		t.Fatalf("metadata %v, want %v", gotMeta, meta)
	}
	for k, v := range meta {
		if gotMeta[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, gotMeta[k], v)
		}
	}

	var again bytes.Buffer
	if err := Write(&again, got, gotMeta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Error("writing the same tensors twice gave different bytes")
	}
}

// TestWriteLayout checks the bytes of a tiny file worked out by hand.
func TestWriteLayout(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, map[string]*tensor.Tensor{
		"b": tensor.Must(tensor.New([]int{1}, []float32{0.5})),
		"a": tensor.Must(tensor.New([]int{2}, []float32{1, -2})),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	header := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	var want []byte
	want = binary.LittleEndian.AppendUint64(want, uint64(len(header)))
	want = append(want, header...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f) // 1
	want = append(want, 0x00, 0x00, 0x00, 0xc0) // -2
	want = append(want, 0x00, 0x00, 0x00, 0x3f) // 0.5
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("got\n%q\nwant\n%q", b.Bytes(), want)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		tensors map[string]*tensor.Tensor
		meta    map[string]string
		want    string
	}{
		{"nil tensor", map[string]*tensor.Tensor{"w": nil}, nil, `tensor "w" is nil`},
		{"empty name", map[string]*tensor.Tensor{"": tensor.Zeros(1)}, nil, "empty tensor name"},
		{"reserved name", map[string]*tensor.Tensor{"__metadata__": tensor.Zeros(1)}, nil, "reserved"},
		{"bad utf-8 name", map[string]*tensor.Tensor{"w\xff": tensor.Zeros(1)}, nil, "not valid UTF-8"},
		{"bad utf-8 meta", nil, map[string]string{"k": "\xfe"}, "not valid UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, c.tensors, c.meta)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

type failingWriter struct{ left int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errDiskFull
	}
	w.left -= len(p)
	return len(p), nil
}

func TestWriteReportsWriterError(t *testing.T) {
	tensors, meta := sample()
	for _, after := range []int{0, 4, 100, 200} {
		if err := Write(&failingWriter{left: after}, tensors, meta); !errors.Is(err, errDiskFull) {
			t.Errorf("failing after %d bytes: error %v, want disk full", after, err)
		}
	}
}

// file assembles a safetensors file from a header string (padded to a
// multiple of 8 unless it already is) and data bytes.
func file(header string, data []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestReadErrors(t *testing.T) {
	f32 := func(s string) string { return `{"dtype":"F32",` + s + `}` }
	data8 := make([]byte, 8)
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "file is 0 bytes, too short"},
		{"short size", []byte{1, 2, 3}, "file is 3 bytes, too short"},
		{"header past end", file(`{}      `, nil)[:12], "header size 8 but only 4 bytes follow"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<62), "exceeds the"},
		{"not an object", file(`[1,2,3] `, nil), "header does not start with '{'"},
		{"bad json", file(`{"a":  `, nil), "checkpoint: header"},
		{"garbage after", file(`{}x     `, nil), `unexpected "x     " after the JSON object`},
		{"dtype", file(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, data8), `tensor "a": dtype "F16", want "F32"`},
		{"no shape", file(`{"a":`+f32(`"data_offsets":[0,8]`)+`}`, data8), `tensor "a": no shape`},
		{"shape vs bytes", file(`{"a":`+f32(`"shape":[3],"data_offsets":[0,8]`)+`}`, data8),
			`tensor "a": shape [3] needs 12 bytes, data_offsets [0 8] give 8`},
		{"negative dim", file(`{"a":`+f32(`"shape":[-2],"data_offsets":[0,8]`)+`}`, data8), "dimension -2 out of range"},
		{"huge shape", file(`{"a":`+f32(`"shape":[1000000000000,1000000000000],"data_offsets":[0,8]`)+`}`, data8), "too large"},
		{"offsets arity", file(`{"a":`+f32(`"shape":[2],"data_offsets":[8]`)+`}`, data8), "want [begin, end]"},
		{"offsets reversed", file(`{"a":`+f32(`"shape":[0],"data_offsets":[8,0]`)+`}`, data8), "want 0 ≤ begin ≤ end"},
		{"gap", file(`{"a":`+f32(`"shape":[1],"data_offsets":[4,8]`)+`}`, data8),
			`tensor "a" starts at data byte 4, want 0`},
		{"overlap", file(`{"a":`+f32(`"shape":[2],"data_offsets":[0,8]`)+`,"b":`+f32(`"shape":[1],"data_offsets":[4,8]`)+`}`, data8),
			`tensor "b" starts at data byte 4, want 8`},
		{"data short", file(`{"a":`+f32(`"shape":[3],"data_offsets":[0,12]`)+`}`, data8), "header describes 12 data bytes, file holds 8"},
		{"data long", file(`{"a":`+f32(`"shape":[1],"data_offsets":[0,4]`)+`}`, data8), "data continues past the 4 bytes"},
		{"duplicate name", file(`{"a":`+f32(`"shape":[1],"data_offsets":[0,4]`)+`,"a":`+f32(`"shape":[1],"data_offsets":[4,8]`)+`}`, data8),
			`duplicate name "a"`},
		{"duplicate metadata key", file(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate metadata key "k"`},
		{"metadata not string", file(`{"__metadata__":{"k":3}}`, nil), `metadata "k": value 3 is not a string`},
		{"metadata not object", file(`{"__metadata__":"x"}`, nil), "want a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Read error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func saveSteps(t *testing.T, dir string, keep int, steps ...int64) {
	t.Helper()
	for _, s := range steps {
		tensors := map[string]*tensor.Tensor{"w": tensor.Full(float32(s), 2)}
		path, err := Save(dir, s, tensors, map[string]string{"step": "x"}, keep)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, FileName(s)); path != want {
			t.Fatalf("Save returned %q, want %q", path, want)
		}
	}
}

func ckptFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestSaveKeepsLastN(t *testing.T) {
	for _, c := range []struct {
		name  string
		keep  int
		steps []int64
		files []string // directory listing afterwards, sorted
		index string
	}{
		{"keep 3", 3, []int64{100, 200, 300, 400, 500},
			[]string{"checkpoint", "ckpt-300.safetensors", "ckpt-400.safetensors", "ckpt-500.safetensors"},
			"model_checkpoint_path: \"ckpt-500.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-300.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-400.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-500.safetensors\"\n"},
		{"keep all", 0, []int64{1, 2, 3},
			[]string{"checkpoint", "ckpt-1.safetensors", "ckpt-2.safetensors", "ckpt-3.safetensors"},
			"model_checkpoint_path: \"ckpt-3.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-1.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-2.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-3.safetensors\"\n"},
		{"resave a step", 2, []int64{1, 2, 1},
			[]string{"checkpoint", "ckpt-1.safetensors", "ckpt-2.safetensors"},
			"model_checkpoint_path: \"ckpt-1.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-2.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-1.safetensors\"\n"},
		{"keep 1", 1, []int64{5, 6},
			[]string{"checkpoint", "ckpt-6.safetensors"},
			"model_checkpoint_path: \"ckpt-6.safetensors\"\n" +
				"all_model_checkpoint_paths: \"ckpt-6.safetensors\"\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			saveSteps(t, dir, c.keep, c.steps...)
			if got := ckptFiles(t, dir); strings.Join(got, " ") != strings.Join(c.files, " ") {
				t.Errorf("files %v, want %v", got, c.files)
			}
			idx, err := os.ReadFile(filepath.Join(dir, IndexFile))
			if err != nil {
				t.Fatal(err)
			}
			if string(idx) != c.index {
				t.Errorf("index\n%s\nwant\n%s", idx, c.index)
			}
			for _, f := range c.files {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				} else if st.Mode().Perm() != 0o644 {
					t.Errorf("%s mode %v, want 0644", f, st.Mode())
				}
			}
			latest, err := Latest(dir)
			if err != nil {
				t.Fatal(err)
			}
			last := c.steps[len(c.steps)-1]
			if latest != filepath.Join(dir, FileName(last)) {
				t.Errorf("Latest = %q, want step %d", latest, last)
			}
			got, meta, err := Load(latest)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, got, map[string]*tensor.Tensor{"w": tensor.Full(float32(last), 2)})
			if meta["step"] != "x" {
				t.Errorf("metadata %v", meta)
			}
		})
	}
}

func TestLatestErrors(t *testing.T) {
	t.Run("no index", func(t *testing.T) {
		_, err := Latest(t.TempDir())
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Latest error = %v, want one wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := Latest(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Latest error = %v, want one wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("file gone", func(t *testing.T) {
		dir := t.TempDir()
		saveSteps(t, dir, 0, 7)
		os.Remove(filepath.Join(dir, FileName(7)))
		_, err := Latest(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "ckpt-7.safetensors") {
			t.Fatalf("Latest error = %v, want one naming ckpt-7.safetensors and not fs.ErrNotExist", err)
		}
	})
	for _, c := range []struct{ name, index, want string }{
		{"garbage", "hello\n", `line 1: "hello"`},
		{"unknown key", "model_checkpoint_path: \"a\"\nfoo: \"b\"\n", `unknown key "foo"`},
		{"no latest", "all_model_checkpoint_paths: \"a\"\n", "names no model_checkpoint_path"},
		{"unquoted", "model_checkpoint_path: a\n", "line 1"},
		{"absolute path", "model_checkpoint_path: \"/etc/passwd\"\n", `names "/etc/passwd"; want a plain file name`},
		{"parent path", "model_checkpoint_path: \"../x/ckpt-1.safetensors\"\n", `names "../x/ckpt-1.safetensors"; want a plain file name`},
		{"sub directory", "model_checkpoint_path: \"a/ckpt-1.safetensors\"\n", `want a plain file name`},
		{"dot dot", "model_checkpoint_path: \"..\"\n", `names ".."; want a plain file name`},
		{"retained outside", "model_checkpoint_path: \"a\"\nall_model_checkpoint_paths: \"../a\"\n", `line 2 names "../a"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, IndexFile), []byte(c.index), 0o644)
			_, err := Latest(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Latest error = %v, want one containing %q", err, c.want)
			}
			if _, err := Save(dir, 1, nil, nil, 0); err == nil {
				t.Error("Save over a corrupt index succeeded")
			}
			if _, err := os.Stat(filepath.Join(dir, FileName(1))); err == nil {
				t.Error("Save over a corrupt index wrote a checkpoint file")
			}
		})
	}
}

// TestSaveFailureKeepsPrevious makes Save fail in two ways — invalid
// input, and a rename that the file system refuses (the target name is a
// directory) — and checks that the previous checkpoint and index are
// intact and no temporary file is left.
func TestSaveFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	saveSteps(t, dir, 0, 1)
	indexBefore, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if err := os.Mkdir(filepath.Join(dir, FileName(2)), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		step    int64
		tensors map[string]*tensor.Tensor
	}{
		{"rename refused", 2, map[string]*tensor.Tensor{"w": tensor.Zeros(3)}},
		{"nil tensor", 3, map[string]*tensor.Tensor{"w": nil}},
		{"negative step", -1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Save(dir, c.step, c.tensors, nil, 1); err == nil {
				t.Fatal("Save succeeded")
			}
			indexAfter, _ := os.ReadFile(filepath.Join(dir, IndexFile))
			if !bytes.Equal(indexBefore, indexAfter) {
				t.Errorf("index changed:\n%s", indexAfter)
			}
			latest, err := Latest(dir)
			if err != nil || latest != filepath.Join(dir, FileName(1)) {
				t.Fatalf("Latest = %q, %v", latest, err)
			}
			if _, _, err := Load(latest); err != nil {
				t.Fatal(err)
			}
			if got := ckptFiles(t, dir); strings.Join(got, " ") != "checkpoint ckpt-1.safetensors ckpt-2.safetensors" {
				t.Errorf("files %v", got)
			}
		})
	}
}

// TestPruneOnlyOwnFiles checks that a file outside the directory named by
// a forged index is never deleted: Save refuses the index.
func TestPruneOnlyOwnFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	os.Mkdir(dir, 0o755)
	victim := filepath.Join(root, "victim")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	os.WriteFile(filepath.Join(dir, IndexFile),
		[]byte("model_checkpoint_path: \"../victim\"\nall_model_checkpoint_paths: \"../victim\"\n"), 0o644)
	if _, err := Save(dir, 9, map[string]*tensor.Tensor{"w": tensor.Full(1, 2)}, nil, 1); err == nil || !strings.Contains(err.Error(), "want a plain file name") {
		t.Errorf("Save over a forged index: %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("pruning removed a foreign file: %v", err)
	}
}

func TestLoadErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(p, []byte{1, 2}, 0o644)
	if _, _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Load error = %v, want one naming %s", err, p)
	}
	if _, _, err := Load(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestIndexNamesDirectory checks that an index naming a directory says so
// (it used to report "file is 0 bytes"), from Latest and from Load.
func TestIndexNamesDirectory(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "ckpt-1.safetensors"), 0o755)
	os.WriteFile(filepath.Join(dir, IndexFile), []byte("model_checkpoint_path: \"ckpt-1.safetensors\"\n"), 0o644)
	if _, err := Latest(dir); err == nil || !strings.Contains(err.Error(), "ckpt-1.safetensors, which is a directory, not a checkpoint file") {
		t.Errorf("Latest error = %v", err)
	}
	if _, _, err := Load(filepath.Join(dir, "ckpt-1.safetensors")); err == nil || !strings.Contains(err.Error(), "is a directory, not a checkpoint file") {
		t.Errorf("Load error = %v", err)
	}
}

func TestRetained(t *testing.T) {
	dir := t.TempDir()
	saveSteps(t, dir, 2, 1, 2, 3)
	got, err := Retained(dir)
	want := []string{filepath.Join(dir, FileName(2)), filepath.Join(dir, FileName(3))}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Retained = %v, %v; want %v", got, err, want)
	}
}

func TestCheckFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	for _, c := range []struct {
		name    string
		tensors map[string]*tensor.Tensor
		want    string // "" for no error
	}{
		{"finite", map[string]*tensor.Tensor{"a": tensor.Full(1, 3), "b": tensor.Full(-2, 2)}, ""},
		{"empty", map[string]*tensor.Tensor{}, ""},
		{"nan", map[string]*tensor.Tensor{"a": tensor.Full(1, 3), "dense/kernel": tensor.Full(nan, 4)}, `tensor "dense/kernel" holds NaN at index 0 of 4`},
		{"inf later", map[string]*tensor.Tensor{"b": mustTensor([]float32{0, 1, inf})}, `tensor "b" holds -Inf at index 2 of 3`},
		{"first by name", map[string]*tensor.Tensor{"z": tensor.Full(nan, 1), "a": tensor.Full(nan, 1)}, `tensor "a"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckFinite(c.tensors)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("CheckFinite = %v, want %q", err, c.want)
			}
		})
	}
}

// TestRemoveTemp leaves what a killed Save leaves and checks that only
// the temporary files of Save's own naming go.
func TestRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	saveSteps(t, dir, 0, 1)
	stale := []string{".ckpt-2.safetensors.tmp-123", ".checkpoint.tmp-9"}
	keep := []string{".other.tmp-1", ".ckpt-x.safetensors.tmp-1", "ckpt-3.safetensors.tmp-1", "notes.txt"}
	for _, n := range append(append([]string(nil), stale...), keep...) {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	removed, err := RemoveTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	slices.Sort(stale)
	if !slices.Equal(removed, stale) {
		t.Errorf("removed %v, want %v", removed, stale)
	}
	want := append([]string{IndexFile, FileName(1)}, keep...)
	slices.Sort(want)
	if got := ckptFiles(t, dir); !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if r, err := RemoveTemp(filepath.Join(dir, "none")); err != nil || r != nil {
		t.Errorf("missing directory: %v, %v", r, err)
	}
}

func mustTensor(v []float32) *tensor.Tensor {
	t, err := tensor.New([]int{len(v)}, v)
	if err != nil {
		panic(err)
	}
	return t
}
