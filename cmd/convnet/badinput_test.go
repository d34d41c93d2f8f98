package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// modelCheckpoint saves a freshly initialised lecture ConvNet to a new
// checkpoint directory, after edit (if not nil) has changed its tensors
// and metadata, and returns the directory.
func modelCheckpoint(t *testing.T, edit func(ts map[string]*tensor.Tensor, meta map[string]string)) string {
	t.Helper()
	m, err := models.NewConvNet(models.ConvNetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ts := m.Weights()
	meta := map[string]string{"model": models.ConvNetName, "global_step": "3", "epoch": "1"}
	if edit != nil {
		edit(ts, meta)
	}
	dir := t.TempDir()
	if _, err := checkpoint.Save(dir, 3, ts, meta, 1); err != nil {
		t.Fatal(err)
	}
	return dir
}

// digitPNG writes a dark vertical stroke on white, a "1", and returns its path.
func digitPNG(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 30, 40))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 5; y < 35; y++ {
		for x := 13; x < 17; x++ {
			img.SetGray(x, y, color.Gray{})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "one.png")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// bombPNG is a PNG whose IHDR claims w×h RGBA pixels, followed by a
// tiny IDAT chunk: decoders that trust the header allocate w·h·4 bytes.
func bombPNG(w, h uint32) []byte {
	b := bytes.NewBuffer(hugePNG(w, h))
	idat := []byte("IDAT\x78\x9c\x03\x00\x00\x00\x00\x01")
	binary.Write(b, binary.BigEndian, uint32(len(idat)-4))
	b.Write(idat)
	binary.Write(b, binary.BigEndian, crc32.ChecksumIEEE(idat))
	return b.Bytes()
}

func TestPredictBadInput(t *testing.T) {
	in := t.TempDir()
	good := digitPNG(t, in)
	ckpt := modelCheckpoint(t, nil)
	text := filepath.Join(in, "notes.png")
	os.WriteFile(text, []byte("this is not an image\n"), 0o644)
	empty := filepath.Join(in, "empty.png")
	os.WriteFile(empty, nil, 0o644)
	bomb := filepath.Join(in, "bomb.png")
	os.WriteFile(bomb, bombPNG(100000, 100000), 0o644)
	full, _ := os.ReadFile(good)
	truncated := filepath.Join(in, "truncated.png")
	os.WriteFile(truncated, full[:len(full)/2], 0o644)

	for _, tc := range []struct {
		name   string
		args   []string
		want   string // in stderr
		stdout string // printed for the readable images
	}{
		{"no checkpoint flag", []string{good}, "--checkpoint is required", ""},
		{"no images", []string{"--checkpoint", ckpt}, "no images given", ""},
		{"bad invert", []string{"--checkpoint", ckpt, "--invert", "maybe", good}, "--invert must be auto, always or never", ""},
		{"bad top", []string{"--checkpoint", ckpt, "--top", "11", good}, "--top must be between 1 and 10, got 11", ""},
		{"bad max pixels", []string{"--checkpoint", ckpt, "--max-pixels", "0", good}, "--max-pixels must be at least 1, got 0", ""},
		{"unknown flag", []string{"--checkpoint", ckpt, "--topp", "1", good}, "flag provided but not defined: -topp", ""},
		{"missing checkpoint", []string{"--checkpoint", filepath.Join(in, "nope"), good}, "nope", ""},
		{"not an image", []string{"--checkpoint", ckpt, text}, "notes.png is not an image of a known format (want PNG, JPEG, GIF, BMP, TIFF or WebP)", ""},
		{"empty image", []string{"--checkpoint", ckpt, empty}, "empty.png is empty, not an image", ""},
		{"directory", []string{"--checkpoint", ckpt, in}, "is a directory, not an image", ""},
		{"header bomb", []string{"--checkpoint", ckpt, bomb}, "bomb.png: png header claims 100000x100000 = 10000000000 pixels, more than the limit of 100000000", ""},
		{"over max pixels", []string{"--checkpoint", ckpt, "--max-pixels", "1000", good}, "header claims 30x40 = 1200 pixels, more than the limit of 1000", ""},
		{"truncated image", []string{"--checkpoint", ckpt, truncated}, "truncated.png: decoding the png image", ""},
		{"one good one missing", []string{"--checkpoint", ckpt, good, filepath.Join(in, "missing.png")}, "missing.png", good + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"predict"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if tc.stdout == "" && stdout != "" || !strings.HasPrefix(stdout, tc.stdout) {
				t.Errorf("stdout %q, want %q", stdout, tc.stdout)
			}
		})
	}
}

// TestImageErrorsAgree checks that predict and filter word a bad image
// the same way: they share one reader.
func TestImageErrorsAgree(t *testing.T) {
	in := t.TempDir()
	text := filepath.Join(in, "notes.png")
	os.WriteFile(text, []byte("this is not an image\n"), 0o644)
	ckpt := modelCheckpoint(t, nil)
	_, _, e1 := runCLI("predict", "--checkpoint", ckpt, text)
	_, _, e2 := runCLI("filter", "-o", filepath.Join(t.TempDir(), "out"), text)
	m1 := strings.TrimPrefix(strings.SplitN(e1, "\n", 2)[0], "convnet predict: ")
	m2 := strings.TrimPrefix(strings.SplitN(e2, "\n", 2)[0], "convnet filter: ")
	if m1 != m2 || m1 == "" {
		t.Errorf("predict says %q, filter says %q", m1, m2)
	}
}
