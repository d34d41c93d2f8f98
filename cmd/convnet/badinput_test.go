package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/internal/imagetest"
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
	b := bytes.NewBuffer(imagetest.PNGHeader(w, h))
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
		{"bad top", []string{"--checkpoint", ckpt, "--top", "11", good}, "--top must be between 1 and 10 (the model's classes), got 11", ""},
		{"bad max pixels", []string{"--checkpoint", ckpt, "--max-pixels", "0", good}, "--max-pixels must be at least 1, got 0", ""},
		{"unknown flag", []string{"--checkpoint", ckpt, "--topp", "1", good}, "flag provided but not defined: -topp", ""},
		{"missing checkpoint", []string{"--checkpoint", filepath.Join(in, "nope"), good}, "nope", ""},
		{"not an image", []string{"--checkpoint", ckpt, text}, "notes.png is not an image of a known format (want PNG, JPEG, GIF, BMP, TIFF or WebP)", ""},
		{"empty image", []string{"--checkpoint", ckpt, empty}, "empty.png is empty, not an image", ""},
		{"directory", []string{"--checkpoint", ckpt, in}, "is a directory, not an image", ""},
		{"header bomb", []string{"--checkpoint", ckpt, bomb}, "bomb.png: png header claims 100000x100000 = 10000000000 pixels, more than the limit of 100000000", ""},
		{"over max pixels", []string{"--checkpoint", ckpt, "--max-pixels", "1000", good}, "header claims 30x40 = 1200 pixels, more than the limit of 1000", ""},
		{"truncated image", []string{"--checkpoint", ckpt, truncated}, "truncated.png: decoding the 30x40 png image", ""},
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

func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // in stdout
		stderr string // in stderr ("" means stderr must be empty)
	}{
		{"help", []string{"help"}, 0, "convnet help COMMAND", ""},
		{"-h", []string{"-h"}, 0, "commands:", ""},
		{"--help", []string{"--help"}, 0, "version", ""},
		{"no command", nil, 2, "", "usage: convnet COMMAND"},
		{"help train", []string{"help", "train"}, 0, "-lr", ""},
		{"train -h", []string{"train", "-h"}, 0, "Trains the lecture's MNIST convnet", ""},
		{"eval --help", []string{"eval", "--help"}, 0, "Evaluates a checkpoint", ""},
		{"help bench", []string{"help", "bench"}, 0, "Times the lecture model", ""},
		{"help predict", []string{"help", "predict"}, 0, "-max-pixels", ""},
		{"help filter", []string{"help", "filter"}, 0, "-overwrite", ""},
		{"help two", []string{"help", "train", "eval"}, 2, "", "want one command name"},
		{"help unknown", []string{"help", "fly"}, 2, "", `unknown command "fly"`},
		{"version", []string{"version"}, 0, "convnet github.com/convnet-go/convnet", ""},
		{"version extra", []string{"version", "x"}, 2, "", "version takes none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || tc.stderr == "" && stderr != "" || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
			if strings.Contains(stdout+stderr, "Usage of") {
				t.Errorf("Go's bare usage line: %q", stdout+stderr)
			}
		})
	}
}

// badMNIST returns a copy of fakeMNIST's files with edit applied to the
// directory.
func badMNIST(t *testing.T, edit func(dir string)) string {
	dir := fakeMNIST(t, 20, 10)
	edit(dir)
	return dir
}

func TestTrainEvalBenchBadInput(t *testing.T) {
	data := fakeMNIST(t, 20, 10)
	ckpt := modelCheckpoint(t, nil)
	nan := modelCheckpoint(t, func(ts map[string]*tensor.Tensor, _ map[string]string) {
		ts["conv2/kernel"].Data()[5] = float32(math.NaN())
	})
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, checkpoint.IndexFile), []byte("model_checkpoint_path: \"../elsewhere.safetensors\"\n"), 0o644)
	dirIndex := t.TempDir()
	os.Mkdir(filepath.Join(dirIndex, "ckpt-1.safetensors"), 0o755)
	os.WriteFile(filepath.Join(dirIndex, checkpoint.IndexFile), []byte("model_checkpoint_path: \"ckpt-1.safetensors\"\n"), 0o644)
	truncated := modelCheckpoint(t, nil)
	p := filepath.Join(truncated, checkpoint.FileName(3))
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-100], 0o644)
	bomb := badMNIST(t, func(dir string) {
		var hdr bytes.Buffer
		binary.Write(&hdr, binary.BigEndian, []uint32{0x803, 1_000_000, 28, 28})
		os.WriteFile(filepath.Join(dir, mnist.TestImagesFile), hdr.Bytes(), 0o644)
	})
	dirInPlace := badMNIST(t, func(dir string) {
		os.Remove(filepath.Join(dir, mnist.TrainLabelsFile))
		os.Mkdir(filepath.Join(dir, mnist.TrainLabelsFile), 0o755)
	})
	badLabel := badMNIST(t, func(dir string) {
		p := filepath.Join(dir, mnist.TestLabelsFile)
		b, _ := os.ReadFile(p)
		b[len(b)-1] = 12
		os.WriteFile(p, b, 0o644)
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"train bench flag", []string{"train", "--runs", "3"}, "flag provided but not defined: -runs"},
		{"train negative steps", []string{"train", "--steps", "-1"}, "--steps must not be negative, got -1"},
		{"train negative train subset", []string{"train", "--train-subset", "-2"}, "--train-subset must not be negative, got -2"},
		{"train negative test subset", []string{"train", "--test-subset", "-3"}, "--test-subset must not be negative, got -3"},
		{"train bad progress", []string{"train", "--progress", "yes"}, `--progress must be auto, always or never, got "yes"`},
		{"train log every", []string{"train", "--log-every", "0"}, "--log-every must be at least 1, got 0"},
		{"train gzip bomb", []string{"train", "--data", bomb, "--steps", "1"}, "header claims 1000000 images, more than the 100000"},
		{"train directory for a file", []string{"train", "--data", dirInPlace, "--steps", "1"}, "train-labels-idx1-ubyte is a directory, want an IDX file"},
		{"eval bad label", []string{"eval", "--data", badLabel, "--checkpoint", ckpt}, "label 9 is 12, want 0…9"},
		{"eval stray argument", []string{"eval", "--checkpoint", ckpt, "x"}, `unexpected arguments ["x"]`},
		{"eval negative subset", []string{"eval", "--checkpoint", ckpt, "--test-subset", "-1"}, "--test-subset must not be negative, got -1"},
		{"eval batch size", []string{"eval", "--checkpoint", ckpt, "--batch-size", "0"}, "--batch-size must be at least 1, got 0"},
		{"eval NaN weights", []string{"eval", "--data", data, "--checkpoint", nan}, `tensor "conv2/kernel" holds NaN at index 5`},
		{"eval index outside", []string{"eval", "--data", data, "--checkpoint", outside}, `names "../elsewhere.safetensors"; want a plain file name`},
		{"eval index names a directory", []string{"eval", "--data", data, "--checkpoint", dirIndex}, "ckpt-1.safetensors, which is a directory, not a checkpoint file"},
		{"eval truncated", []string{"eval", "--data", data, "--checkpoint", truncated}, "ckpt-3.safetensors: checkpoint: header describes"},
		{"predict NaN weights", []string{"predict", "--checkpoint", nan, "x.png"}, `tensor "conv2/kernel" holds NaN`},
		{"bench runs", []string{"bench", "--runs", "0"}, "--runs must be at least 1, got 0"},
		{"bench warmup", []string{"bench", "--warmup", "-1"}, "--warmup must not be negative, got -1"},
		{"bench batch", []string{"bench", "--batch", "0"}, "--batch must be at least 1, got 0"},
		{"bench argument", []string{"bench", "fast"}, `unexpected arguments ["fast"]`},
		{"bench plan json", []string{"bench", "--plan", "--json"}, "--plan prints text lines: use it without --json"},
		{"bench model", []string{"bench", "--model", "vgg"}, `--model must be one of lecture, resnet, got "vgg"`},
		{"bench check dir", []string{"bench", "--model", "resnet", "--write-check", "/nonexistent/dir"}, "want an existing directory"},
		{"bench check lecture", []string{"bench", "--write-check", "."}, `give it with --model resnet, not "lecture"`},
		{"unknown command", []string{"trian"}, `unknown command "trian"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cwd := t.TempDir() // train's default --logdir is relative: keep it here
			t.Chdir(cwd)
			code, stdout, stderr := runCLI(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if left := listDir(t, cwd); len(left) != 0 {
				t.Errorf("left behind %v", left)
			}
		})
	}
}

func TestEvalWithoutMetadata(t *testing.T) {
	data := fakeMNIST(t, 20, 10)
	ckpt := modelCheckpoint(t, func(_ map[string]*tensor.Tensor, meta map[string]string) {
		clear(meta)
	})
	code, stdout, stderr := runCLI("eval", "--data", data, "--checkpoint", ckpt)
	if code != 0 || !strings.Contains(stdout, "(no step or epoch recorded)") || strings.Contains(stdout, "(step ,") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestFilterOutputSafety(t *testing.T) {
	in := t.TempDir()
	good := imagetest.Write(t, in, "good.png", testPicture(20, 20))
	out := t.TempDir()
	if code, _, stderr := filterCLI("filter", "-o", out, "--kernel", "blur", good); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	blur := filepath.Join(out, "good_blur.png")
	os.WriteFile(blur, []byte("mine"), 0o644)
	code, stdout, stderr := filterCLI("filter", "-o", out, "--kernel", "blur", good)
	if code != 2 || !strings.Contains(stderr, "good_") || !strings.Contains(stderr, "already exists: pass --overwrite") || stdout != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(blur); string(b) != "mine" {
		t.Error("an existing file was replaced without --overwrite")
	}
	if code, _, stderr := filterCLI("filter", "-o", out, "--overwrite", "--kernel", "blur", good); code != 0 {
		t.Errorf("--overwrite: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(blur); string(b) == "mine" {
		t.Error("--overwrite did not replace the file")
	}

	target := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	code, _, stderr = filterCLI("filter", "-o", link, good)
	if code != 2 || !strings.Contains(stderr, "is a symbolic link to "+target) {
		t.Errorf("symlinked -o: exit %d, %q", code, stderr)
	}
	if left := listDir(t, target); len(left) != 0 {
		t.Errorf("wrote %v through the link", left)
	}
	code, _, stderr = filterCLI("filter", "-o", t.TempDir(), "--grid-tile", "-5", good)
	if code != 2 || !strings.Contains(stderr, "--grid-tile -5: want 0 (full size) or more") {
		t.Errorf("--grid-tile -5: exit %d, %q", code, stderr)
	}
}
