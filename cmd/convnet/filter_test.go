package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/imagefilter"
	"github.com/convnet-go/convnet/internal/imagetest"
)

// filterCLI runs convnet with args and returns the exit code and output.
func filterCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// testPicture is a small opaque image with edges in both directions.
func testPicture(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 60, 255}
			if (x/6+y/6)%2 == 0 {
				c.B = 220
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return img
}

func TestFilterDefaultKernels(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	src := testPicture(40, 30)
	p := imagetest.Write(t, in, "pic.png", src)
	code, stdout, stderr := filterCLI("filter", "-o", out, p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want []string
	for _, k := range imagefilter.Lecture() {
		want = append(want, "pic_"+k+".png")
	}
	want = append(want, "pic_grid.png")
	slices.Sort(want)
	if got := listDir(t, out); !slices.Equal(got, want) {
		t.Fatalf("wrote %v; want %v", got, want)
	}
	if n := strings.Count(stdout, "wrote "); n != len(want) {
		t.Errorf("stdout reports %d files:\n%s", n, stdout)
	}
	// Each result is the library's Apply, pixel for pixel.
	for _, name := range imagefilter.Lecture() {
		k, _ := imagefilter.Builtin(name)
		exp, err := imagefilter.Apply(src, k, imagefilter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := readPNG(t, filepath.Join(out, "pic_"+name+".png"))
		if got.Bounds() != exp.Bounds() {
			t.Fatalf("%s: bounds %v; want %v", name, got.Bounds(), exp.Bounds())
		}
		for y := 0; y < 30; y++ {
			for x := 0; x < 40; x++ {
				if a, b := color.NRGBAModel.Convert(got.At(x, y)), exp.At(x, y); a != b {
					t.Fatalf("%s at (%d,%d) = %v; Apply gives %v", name, x, y, a, b)
				}
			}
		}
	}
	// The grid: original + 5 results in one row of 40x30 tiles.
	g := readPNG(t, filepath.Join(out, "pic_grid.png"))
	if w, h := 6*40+7*imagefilter.GridMargin, 30+imagefilter.GridLabelHeight+2*imagefilter.GridMargin; g.Bounds().Dx() != w || g.Bounds().Dy() != h {
		t.Errorf("grid %v; want %dx%d", g.Bounds(), w, h)
	}
}

func TestFilterOptionsAndFormats(t *testing.T) {
	in := t.TempDir()
	src := testPicture(41, 29)
	kfile := filepath.Join(in, "ridge.txt")
	os.WriteFile(kfile, []byte("-1 2 -1\n"), 0o644)
	for _, tc := range []struct {
		name   string
		file   string
		args   []string
		files  []string
		size   image.Point
		isGray bool
	}{
		{"stride 2 valid", "a.png", []string{"--kernel", "blur", "--stride", "2", "--padding", "VALID"}, []string{"a_blur.png"}, image.Pt(20, 14), false},
		{"lecture stride 3", "b.png", []string{"--kernel", "emboss", "--stride", "3"}, []string{"b_emboss.png"}, image.Pt(14, 10), false},
		{"gray", "c.png", []string{"--gray", "--kernel", "top_sobel,edge8", "--abs"}, []string{"c_top_sobel.png", "c_edge8.png"}, image.Pt(41, 29), true},
		{"mixed", "d.png", []string{"--mix-channels", "--kernel", "sharpen"}, []string{"d_sharpen.png"}, image.Pt(41, 29), false},
		{"custom and file", "e.png", []string{"--kernel", "1,2;3,4", "--kernel", "@" + kfile}, []string{"e_custom.png", "e_ridge.png"}, image.Pt(41, 29), false},
		{"jpeg", "f.jpg", []string{"--kernel", "gaussian:3:0.7"}, []string{"f_gaussian3_s0.7.png"}, image.Pt(41, 29), false},
		{"gif", "g.gif", []string{"--kernel", "box:2"}, []string{"g_box2.png"}, image.Pt(41, 29), false},
		{"bmp", "h.bmp", []string{"--kernel", "identity"}, []string{"h_identity.png"}, image.Pt(41, 29), false},
		{"tiff", "i.tiff", []string{"--kernel", "right_sobel"}, []string{"i_right_sobel.png"}, image.Pt(41, 29), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			p := imagetest.Write(t, in, tc.file, src)
			code, _, stderr := filterCLI(append(append([]string{"filter", "-o", out}, tc.args...), p)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			base := strings.TrimSuffix(tc.file, filepath.Ext(tc.file))
			want := append(slices.Clone(tc.files), base+"_grid.png")
			slices.Sort(want)
			if got := listDir(t, out); !slices.Equal(got, want) {
				t.Fatalf("wrote %v; want %v", got, want)
			}
			for _, f := range tc.files {
				img := readPNG(t, filepath.Join(out, f))
				if img.Bounds().Size() != tc.size {
					t.Errorf("%s is %v; want %v", f, img.Bounds().Size(), tc.size)
				}
				if _, ok := img.(*image.Gray); ok != tc.isGray {
					t.Errorf("%s decodes as %T", f, img)
				}
			}
		})
	}
}

func TestFilterBadInput(t *testing.T) {
	in := t.TempDir()
	good := imagetest.Write(t, in, "good.png", testPicture(20, 20))
	text := filepath.Join(in, "notes.png")
	os.WriteFile(text, []byte("this is not an image\n"), 0o644)
	empty := filepath.Join(in, "empty.jpg")
	os.WriteFile(empty, nil, 0o644)
	huge := filepath.Join(in, "huge.png")
	os.WriteFile(huge, imagetest.PNGHeader(200000, 100000), 0o644)
	// A valid header followed by a cut-off body: it passes the header
	// check, so the run fails after it has written the first image's files.
	full, _ := os.ReadFile(good)
	truncated := filepath.Join(in, "truncated.png")
	os.WriteFile(truncated, full[:len(full)/2], 0o644)
	blocker := filepath.Join(in, "afile")
	os.WriteFile(blocker, []byte("x"), 0o644)
	dup := filepath.Join(t.TempDir(), "good.png")
	os.WriteFile(dup, full, 0o644)
	inputs := listDir(t, in)

	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
		out  string // "-o" value; "" means a fresh temp dir
	}{
		{"not an image", []string{text}, "not an image", ""},
		{"empty file", []string{empty}, "is empty", ""},
		{"huge header", []string{huge}, "200000x100000", ""},
		{"over max pixels", []string{"--max-pixels", "399", good}, "more than the limit of 399", ""},
		{"missing file", []string{filepath.Join(in, "nope.png")}, "no such file", ""},
		{"directory", []string{in}, "is a directory", ""},
		{"unknown kernel", []string{"--kernel", "blur,sharpest", good}, "known kernels: blur, bottom_sobel", ""},
		{"ragged kernel", []string{"--kernel", "1,2;3", good}, "row 2 has 1 values but row 1 has 2", ""},
		{"non-number kernel", []string{"--kernel", "1,a;3,4", good}, `"a" is not a number`, ""},
		{"missing kernel file", []string{"--kernel", "@" + filepath.Join(in, "none.txt"), good}, "none.txt", ""},
		{"kernel larger than image under VALID", []string{"--kernel", "box:30", "--padding", "VALID", good}, "VALID", ""},
		{"truncated second image", []string{good, truncated}, "truncated.png", ""},
		{"same base name", []string{good, dup}, "would both write good_*.png", ""},
		{"unwritable output", []string{good}, "output directory", filepath.Join(blocker, "sub")},
		{"no images", nil, "no images", ""},
		{"bad stride", []string{"--stride", "0", good}, "--stride 0", ""},
		{"bad padding", []string{"--padding", "FULL", good}, `--padding "FULL"`, ""},
		{"gray and mix", []string{"--gray", "--mix-channels", good}, "exclude each other", ""},
		{"unknown flag", []string{"--sharpness", good}, "sharpness", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			parent := t.TempDir()
			if out == "" {
				// A directory the run has to create: a failed run must not
				// leave it (or anything in it) behind.
				out = filepath.Join(parent, "out")
			}
			args := append([]string{"filter", "-o", out}, tc.args...)
			code, stdout, stderr := filterCLI(args...)
			if code != 2 {
				t.Fatalf("exit %d; want 2\nstderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q after a failed run", stdout)
			}
			if left := listDir(t, parent); len(left) != 0 {
				t.Errorf("left behind %v", left)
			}
			if now := listDir(t, in); !slices.Equal(now, inputs) {
				t.Errorf("the input directory now holds %v; before %v", now, inputs)
			}
		})
	}
	// An existing output directory is kept, and left empty.
	out := t.TempDir()
	if code, _, stderr := filterCLI("filter", "-o", out, good, truncated); code != 2 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if left := listDir(t, out); len(left) != 0 {
		t.Errorf("left behind %v in an existing directory", left)
	}
}
