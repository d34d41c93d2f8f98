package train

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
)

// classFolder writes n PNGs per class for classes "dark" and "light"
// (gray 10×12 images of values around 40 and 200), plus a bad file
// when bad is set.
func classFolder(t *testing.T, n int, bad bool) string {
	t.Helper()
	dir := t.TempDir()
	for ci, class := range []string{"light", "dark"} {
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for i := range n {
			img := image.NewRGBA(image.Rect(0, 0, 12, 10))
			for p := 0; p < len(img.Pix); p += 4 {
				v := uint8(200 - 160*ci + (p/4+i)%20)
				img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = v, v, v/2, 255
			}
			f, err := os.Create(filepath.Join(dir, class, strings.Repeat("x", i+1)+".png"))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
	if bad {
		os.WriteFile(filepath.Join(dir, "dark", "readme.txt"), []byte("not an image"), 0o644)
	}
	return dir
}

func TestLoadDatasetFolder(t *testing.T) {
	dir := classFolder(t, 10, false)
	d, err := LoadDataset(DataOptions{Dataset: dir, H: 8, W: 8, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 18 || d.Validation.Len() != 2 || d.Test != nil || d.Train.Shape() != (data.Shape{H: 8, W: 8, C: 3}) {
		t.Fatalf("train %d, validation %d, test %v, shape %v", d.Train.Len(), d.Validation.Len(), d.Test, d.Train.Shape())
	}
	if got := strings.Join(d.Train.Classes(), ","); got != "dark,light" {
		t.Fatalf("classes %s", got)
	}
	if d.Normalize == nil || len(d.Normalize.Mean) != 3 || !(d.Normalize.Mean[0] > 0.2 && d.Normalize.Mean[0] < 0.8) {
		t.Fatalf("normalisation %v, want 3 channels computed from the data", d.Normalize)
	}
	// Training on it writes the normalisation, shape and classes into the
	// checkpoint, and LoadModel rebuilds the model from them.
	ck := filepath.Join(t.TempDir(), "ck")
	res, err := Run(context.Background(), Config{Epochs: 1, BatchSize: 6, Seed: 1, CheckpointDir: ck, Workers: 2, Augment: data.Augment{FlipH: true}}, d)
	if err != nil {
		t.Fatal(err)
	}
	m, _, meta, err := LoadModel(res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	info, err := CheckpointData(meta)
	if err != nil || info.Shape != d.Train.Shape() || strings.Join(info.Classes, ",") != "dark,light" || info.Normalize.String() != d.Normalize.String() {
		t.Fatalf("checkpoint data %+v, %v", info, err)
	}
	a, _ := EvaluateWith(res.Model, d.Validation, 4, d.Normalize)
	b, _ := EvaluateWith(m, d.Validation, 4, info.Normalize)
	if a.Loss != b.Loss {
		t.Fatalf("reloaded model scores %v, trained one %v", b.Loss, a.Loss)
	}
	// A non-image file stops the run with its name, or is skipped.
	dir = classFolder(t, 10, true)
	d, err = LoadDataset(DataOptions{Dataset: dir, H: 8, W: 8, Channels: 1, Normalize: "off"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Config{Epochs: 1, BatchSize: 4, Seed: 1}, d)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "dark", "readme.txt")) {
		t.Fatalf("err = %v, want it to name dark/readme.txt", err)
	}
	res, err = Run(context.Background(), Config{Epochs: 1, BatchSize: 4, Seed: 1, SkipBadImages: true}, d)
	if err != nil {
		t.Fatal(err)
	}
	// readme.txt sorts first: example 0 of the folder.
	inTrain := 0
	for _, i := range d.Train.(*data.Subset).Index {
		if i == 0 {
			inTrain = 1
		}
	}
	if got := res.Epochs[0].Skipped; got != inTrain {
		t.Fatalf("skipped %d, want %d", got, inTrain)
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		o    DataOptions
		want string
	}{
		{DataOptions{Dataset: "imagenet"}, "want mnist, fashion-mnist"},
		{DataOptions{Dataset: file}, "want mnist, fashion-mnist"},
		{DataOptions{Dataset: "cifar:" + t.TempDir()}, "data_batch_1.bin"},
		{DataOptions{Dataset: t.TempDir()}, "0 class folders"},
		{DataOptions{Dataset: "mnist", TrainSubset: -1}, "negative"},
		{DataOptions{Dataset: "mnist", ValidationFraction: 1.5}, "validation fraction"},
	}
	for _, c := range cases {
		_, err := LoadDataset(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.o, err, c.want)
		}
	}
}

func TestCheckpointDataRejects(t *testing.T) {
	for _, meta := range []map[string]string{
		{MetaInput: "28,28"},
		{MetaInput: "0,28,1"},
		{MetaInput: "99999,28,1"},
		{MetaClasses: "[]"},
		{MetaClasses: "{"},
		{MetaNormalize: "0.1;0"},
		{MetaNormalize: "0.1,0.2;1,1"},
	} {
		if _, err := CheckpointData(meta); err == nil {
			t.Errorf("CheckpointData(%v) accepted it", meta)
		}
	}
	info, err := CheckpointData(nil)
	if err != nil || info.Shape != (data.Shape{H: 28, W: 28, C: 1}) || len(info.Classes) != 10 || info.Normalize != nil {
		t.Fatalf("defaults %+v, %v", info, err)
	}
}
