package cifar

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// record returns a CIFAR-10 record with the given label whose red plane
// is all r, green g and blue b, except pixel 0 of red which is 7.
func record(label, r, g, b byte) []byte {
	rec := make([]byte, RecordSize)
	rec[0] = label
	for i := range Side * Side {
		rec[1+i], rec[1+1024+i], rec[1+2048+i] = r, g, b
	}
	rec[1] = 7
	return rec
}

func TestReadPlanarToHWC(t *testing.T) {
	in := append(record(3, 10, 20, 30), record(9, 40, 50, 60)...)
	px, lb, err := Read(bytes.NewReader(in), "x.bin", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lb) != 2 || lb[0] != 3 || lb[1] != 9 || len(px) != 2*ImageBytes {
		t.Fatalf("labels %v, %d pixel bytes", lb, len(px))
	}
	// HWC: pixel 0 is (7, 20, 30), pixel 1 (10, 20, 30); image 1 pixel 5 (40, 50, 60).
	if got := px[:6]; !bytes.Equal(got, []byte{7, 20, 30, 10, 20, 30}) {
		t.Fatalf("first two pixels %v", got)
	}
	if got := px[ImageBytes+15 : ImageBytes+18]; !bytes.Equal(got, []byte{40, 50, 60}) {
		t.Fatalf("image 1 pixel 5 = %v", got)
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated", record(1, 0, 0, 0)[:3000], "record 0 is truncated: 3000 of 3073"},
		{"second truncated", append(record(1, 0, 0, 0), 5), "record 1 is truncated: 1 of 3073"},
		{"label 10", record(10, 0, 0, 0), "label 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(c.in), "f.bin", nil, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "f.bin") {
				t.Fatalf("err = %v, want it to name f.bin and say %q", err, c.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "cifar-10-batches-bin")
	os.Mkdir(sub, 0o755)
	for i, n := range TrainFiles {
		os.WriteFile(filepath.Join(sub, n), append(record(byte(i), 1, 2, 3), record(byte(i+5), 4, 5, 6)...), 0o644)
	}
	os.WriteFile(filepath.Join(sub, TestFile), record(8, 9, 9, 9), 0o644)
	train, test, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 10 || test.Len() != 1 || train.Shape().C != 3 || train.Classes()[8] != "ship" {
		t.Fatalf("train %d, test %d, shape %v", train.Len(), test.Len(), train.Shape())
	}
	buf := make([]float32, ImageBytes)
	l, _ := train.Example(3, buf)
	if l != 6 || buf[3] != 4.0/255 {
		t.Fatalf("train example 3: label %d, pixel 1 red %v; want 6 and 4/255", l, buf[3])
	}
	os.Remove(filepath.Join(sub, "data_batch_4.bin"))
	_, _, err = Load(dir)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "data_batch_4.bin") {
		t.Fatalf("missing batch: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(record(1, 2, 3, 4))
	f.Add(record(12, 0, 0, 0))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		px, lb, err := Read(bytes.NewReader(in), "fuzz", nil, nil)
		if err != nil {
			return
		}
		if len(in)%RecordSize != 0 || len(px) != len(lb)*ImageBytes {
			t.Fatalf("%d input bytes gave %d labels and %d pixel bytes", len(in), len(lb), len(px))
		}
		for _, l := range lb {
			if l >= Classes {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}
