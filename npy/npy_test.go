package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// header builds a version 1.0 file from a header dict and raw values.
func header(dict string, vals ...float32) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	b.WriteString(dict)
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, math.Float32bits(v))
	}
	return b.Bytes()
}

func TestReadByHand(t *testing.T) {
	cases := []struct {
		name  string
		file  []byte
		shape []int
		data  []float32
	}{
		{"matrix", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 1, 2, 3, 4, 5, 6), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"vector trailing comma", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }   \n", -1.5, 7), []int{2}, []float32{-1.5, 7}},
		{"scalar", header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 3.25), []int{}, []float32{3.25}},
		{"keys reordered, double quotes", header(`{"shape": (1, 1), "fortran_order": False, "descr": "<f4"}`+"\n", 9), []int{1, 1}, []float32{9}},
		{"empty", header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }\n"), []int{0, 4}, []float32{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := Read(bytes.NewReader(c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(x.Shape(), c.shape) {
				t.Fatalf("shape %v, want %v", x.Shape(), c.shape)
			}
			for i, v := range c.data {
				if x.Data()[i] != v {
					t.Fatalf("data %v, want %v", x.Data(), c.data)
				}
			}
		})
	}
}

// TestReadNumPy reads files written by NumPy's np.save (testdata/*.npy,
// made with np.save(name, np.arange(n, dtype='<f4').reshape(shape) / 4)).
func TestReadNumPy(t *testing.T) {
	cases := []struct {
		file  string
		shape []int
	}{
		{"arange_2x3x4.npy", []int{2, 3, 4}},
		{"arange_5.npy", []int{5}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			x, err := ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(x.Shape(), c.shape) {
				t.Fatalf("shape %v, want %v", x.Shape(), c.shape)
			}
			for i, v := range x.Data() {
				if v != float32(i)/4 {
					t.Fatalf("value %d is %v, want %v", i, v, float32(i)/4)
				}
			}
			// Write gives NumPy's bytes back.
			raw, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Write(&b, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), raw) {
				t.Errorf("Write differs from np.save:\n got %q\nwant %q", b.Bytes()[:min(b.Len(), 128)], raw[:min(len(raw), 128)])
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {1}, {3}, {2, 5}, {2, 1, 28, 28}, {0, 3}} {
		x := tensor.Zeros(shape...)
		for i := range x.Data() {
			x.Data()[i] = float32(i)*0.5 - 3
		}
		var b bytes.Buffer
		if err := Write(&b, x); err != nil {
			t.Fatal(err)
		}
		if hl := binary.LittleEndian.Uint16(b.Bytes()[8:]); (10+int(hl))%64 != 0 {
			t.Errorf("shape %v: data starts at %d, not a multiple of 64", shape, 10+hl)
		}
		y, err := Read(&b)
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if !tensor.SameShape(x.Shape(), y.Shape()) {
			t.Fatalf("shape %v read back as %v", shape, y.Shape())
		}
		for i := range x.Data() {
			if x.Data()[i] != y.Data()[i] {
				t.Fatalf("shape %v: value %d %v read back as %v", shape, i, x.Data()[i], y.Data()[i])
			}
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.npy")
	x := tensor.Must(tensor.New([]int{2}, []float32{1, 2}))
	if err := WriteFile(path, x); err != nil {
		t.Fatal(err)
	}
	y, err := ReadFile(path)
	if err != nil || y.Data()[1] != 2 {
		t.Fatalf("read back %v, %v", y, err)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "out.npy"), x); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only out.npy (no temporary files left)", len(entries))
	}
}

func TestReadErrors(t *testing.T) {
	ok := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
	v2 := header(ok, 1, 2)
	v2[6] = 2
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte("\x93NUM"), "too short"},
		{"magic", append([]byte("PK\x03\x04abcdef"), header(ok, 1, 2)[10:]...), "not a .npy file"},
		{"version 2", v2, "version 2.0"},
		{"header cut", header(ok)[:20], "header length"},
		{"float64", header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", 1, 2, 3, 4), `"<f8"`},
		{"big endian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", 1, 2), `">f4"`},
		{"fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", 1, 2), "fortran_order True"},
		{"no shape", header("{'descr': '<f4', 'fortran_order': False}\n"), `no "shape"`},
		{"negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n"), "non-negative"},
		{"unknown key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", 1, 2), `unknown key "x"`},
		{"not a dict", header("descr <f4\n"), "not a dict"},
		{"short data", header(ok, 1), "needs 8 data bytes, file holds 4"},
		{"long data", header(ok, 1, 2, 3), "continues past"},
		{"huge shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }\n", 1), "more than"},
		{"forged size", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }\n", 1), "needs 4000000000 data bytes, file holds 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.file))
			if err == nil {
				t.Fatalf("no error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	f.Add(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 1, 2, 3, 4, 5, 6))
	f.Add(header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 1))
	f.Add(header("{'shape': (1,), 'descr': '<f4', 'fortran_order': False}\n", 1))
	f.Add([]byte("\x93NUMPY\x01\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		// What reads must write and read back the same.
		var w bytes.Buffer
		if err := Write(&w, x); err != nil {
			t.Fatal(err)
		}
		y, err := Read(&w)
		if err != nil {
			t.Fatalf("re-reading a written file: %v", err)
		}
		if !tensor.SameShape(x.Shape(), y.Shape()) || x.Len() != y.Len() {
			t.Fatalf("shape %v became %v", x.Shape(), y.Shape())
		}
		for i := range x.Data() {
			if math.Float32bits(x.Data()[i]) != math.Float32bits(y.Data()[i]) {
				t.Fatalf("value %d changed", i)
			}
		}
	})
}
