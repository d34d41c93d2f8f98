package imagefilter

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
	for _, want := range append(Lecture(), "identity", "box", "gaussian", "edge8", "bottom_sobel", "left_sobel", "right_sobel") {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, missing %q", names, want)
		}
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			k, err := Builtin(n)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Validate(); err != nil {
				t.Fatal(err)
			}
			if k.Name != n {
				t.Errorf("Builtin(%q).Name = %q", n, k.Name)
			}
		})
	}
}

func TestBuiltinSpellings(t *testing.T) {
	want, _ := Builtin("top_sobel")
	for _, s := range []string{"TOP_SOBEL", "top-sobel", " Top_Sobel "} {
		k, err := Builtin(s)
		if err != nil {
			t.Fatalf("Builtin(%q): %v", s, err)
		}
		if !slices.Equal(k.Values, want.Values) {
			t.Errorf("Builtin(%q) = %v; want %v", s, k.Values, want.Values)
		}
	}
}

func TestBuiltinErrors(t *testing.T) {
	for _, name := range []string{"blurr", "", "box:x", "box:0", "box:3:1", "gaussian:5:0", "gaussian:5:-1", "gaussian:a", "gaussian:5:1:2", "sharpen:3"} {
		t.Run(name, func(t *testing.T) {
			_, err := Builtin(name)
			if err == nil {
				t.Fatalf("Builtin(%q) succeeded", name)
			}
		})
	}
	// The message quotes the parameter as given ("-" once became "_").
	if _, err := Builtin("gaussian:5:-1"); err == nil || !strings.Contains(err.Error(), "gaussian sigma -1; want a finite number > 0") {
		t.Errorf("gaussian:5:-1: %v", err)
	}
	if _, err := Builtin("box:-2"); err == nil || !strings.Contains(err.Error(), "-2") {
		t.Errorf("box:-2: %v", err)
	}
	_, err := Builtin("blurr")
	if !errors.Is(err, ErrUnknownKernel) || !strings.Contains(err.Error(), "emboss") || !strings.Contains(err.Error(), `"blurr"`) {
		t.Errorf("unknown-name error %q should wrap ErrUnknownKernel, quote the name and list the known ones", err)
	}
}

func TestLectureKernelsByHand(t *testing.T) {
	// The matrices of the lecture's kernels.py, which builds each as
	// a[i, j, :, :] = value over a [3,3,·,·] array.
	want := map[string]string{
		"blur":      "1/16,1/8,1/16; 1/8,1/4,1/8; 1/16,1/8,1/16",
		"sharpen":   "0,-1,0; -1,5,-1; 0,-1,0",
		"edge":      "0,-1,0; -1,4,-1; 0,-1,0",
		"top_sobel": "1,2,1; 0,0,0; -1,-2,-1",
		"emboss":    "-2,-1,0; -1,1,1; 0,1,2",
	}
	for _, n := range Lecture() {
		t.Run(n, func(t *testing.T) {
			k, _ := Builtin(n)
			w, err := ParseKernel(want[n])
			if err != nil {
				t.Fatal(err)
			}
			if k.Size != w.Size || !slices.Equal(k.Values, w.Values) {
				t.Errorf("%s = %v %v; want %v %v", n, k.Size, k.Values, w.Size, w.Values)
			}
		})
	}
}

func TestGaussianAndBox(t *testing.T) {
	for _, tc := range []struct {
		n     int
		sigma float64
	}{{1, 1}, {3, 0.5}, {4, 0.8}, {5, 1}, {7, 2}} {
		k, err := Gaussian(tc.n, tc.sigma)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for i := 0; i < tc.n; i++ {
			for j := 0; j < tc.n; j++ {
				v := k.Values[i*tc.n+j]
				sum += float64(v)
				// Symmetric under flips and transposition.
				for _, o := range []float32{k.Values[j*tc.n+i], k.Values[(tc.n-1-i)*tc.n+j], k.Values[i*tc.n+tc.n-1-j]} {
					if o != v {
						t.Errorf("gaussian %d σ=%v not symmetric at (%d,%d): %v vs %v", tc.n, tc.sigma, i, j, v, o)
					}
				}
			}
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("gaussian %d σ=%v sums to %v", tc.n, tc.sigma, sum)
		}
	}
	// Ratio of neighbouring weights in the 5x5 σ=1 kernel: exp(−1/2) along
	// an axis from the centre.
	g, _ := Builtin("gaussian")
	if r := float64(g.Values[2*5+3] / g.Values[2*5+2]); math.Abs(r-math.Exp(-0.5)) > 1e-6 {
		t.Errorf("gaussian neighbour ratio %v; want e^-0.5", r)
	}
	b, err := Builtin("box:4")
	if err != nil || b.Size != [2]int{4, 4} || b.Values[5] != 1.0/16 || b.Name != "box4" {
		t.Errorf("box:4 = %+v, %v", b, err)
	}
	g2, _ := Builtin("gaussian:7:1.5")
	if g2.Name != "gaussian7_s1.5" || g2.Size != [2]int{7, 7} {
		t.Errorf("gaussian:7:1.5 = %q %v", g2.Name, g2.Size)
	}
}

func TestParseKernel(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		size [2]int
		vals []float32
	}{
		{"sharpen", "0,-1,0;-1,5,-1;0,-1,0", [2]int{3, 3}, []float32{0, -1, 0, -1, 5, -1, 0, -1, 0}},
		{"even 2x2", "1,2;3,4", [2]int{2, 2}, []float32{1, 2, 3, 4}},
		{"one value", "2.5", [2]int{1, 1}, []float32{2.5}},
		{"row", "1, -2, 1", [2]int{1, 3}, []float32{1, -2, 1}},
		{"column", "1;2;3;4", [2]int{4, 1}, []float32{1, 2, 3, 4}},
		{"fractions and exponents", "1/4 -1/2\n1e-1 +2", [2]int{2, 2}, []float32{0.25, -0.5, 0.1, 2}},
		{"file layout", "# a comment\n  1  2\t3 \n\n4 5 6 # trailing\n;\n", [2]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"trailing semicolon", "1,0;0,1;", [2]int{2, 2}, []float32{1, 0, 0, 1}},
		{"crlf", "1,2\r\n3,4\r\n", [2]int{2, 2}, []float32{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKernel(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if k.Size != tc.size || !slices.Equal(k.Values, tc.vals) || k.Name != "custom" {
				t.Errorf("ParseKernel(%q) = %+v; want size %v values %v", tc.in, k, tc.size, tc.vals)
			}
			back, err := ParseKernel(k.String())
			if err != nil || back.Size != k.Size || !slices.Equal(back.Values, k.Values) {
				t.Errorf("String() %q does not parse back: %+v %v", k.String(), back, err)
			}
		})
	}
}

func TestParseKernelErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"blank", " ;\n ; ", "empty"},
		{"comment only", "# nothing", "empty"},
		{"ragged", "1,2,3;4,5", "row 2 has 2 values but row 1 has 3"},
		{"ragged lines", "1 2\n3 4 5", "row 2 has 3 values but row 1 has 2"},
		{"not a number", "1,x,3", `row 1, value 2: "x" is not a number`},
		{"empty value", "1,,3", "row 1, value 2 is empty"},
		{"nan", "1,NaN", "not a finite"},
		{"inf", "inf", "not a finite"},
		{"too big", "1e39", "not a finite"},
		{"zero denominator", "1/0", "denominator"},
		{"bad fraction", "1/2/3", "not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKernel(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseKernel(%q) error = %v; want one mentioning %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestLoadKernel(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ridge.txt")
	if err := os.WriteFile(p, []byte("-1 2 -1\n-1 2 -1\n-1 2 -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKernel(p)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "ridge" || k.Size != [2]int{3, 3} || k.Values[4] != 2 {
		t.Errorf("LoadKernel = %+v", k)
	}
	bad := filepath.Join(dir, "bad.kernel")
	os.WriteFile(bad, []byte("1 2\n3\n"), 0o644)
	if _, err := LoadKernel(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadKernel(ragged) error = %v; want one naming the file", err)
	}
	if _, err := LoadKernel(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadKernel(missing) error = %v; want ErrNotExist", err)
	}
}

func TestValidate(t *testing.T) {
	for _, k := range []Kernel{
		{Name: "zero", Size: [2]int{0, 3}},
		{Name: "short", Size: [2]int{2, 2}, Values: []float32{1, 2, 3}},
		{Name: "nan", Size: [2]int{1, 1}, Values: []float32{float32(math.NaN())}},
	} {
		if err := k.Validate(); err == nil || !strings.Contains(err.Error(), k.Name) {
			t.Errorf("Validate(%+v) = %v; want an error naming it", k, err)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "my ridge.k")
	os.WriteFile(p, []byte("1 -2 1"), 0o644)
	for _, tc := range []struct {
		name  string
		specs []string
		names []string
		sizes [][2]int
	}{
		{"names", []string{"blur,sharpen", "box:5"}, []string{"blur", "sharpen", "box5"}, [][2]int{{3, 3}, {3, 3}, {5, 5}}},
		{"custom", []string{"0,-1,0;-1,5,-1;0,-1,0", "1,-2,1", "-1", ".5;.5"}, []string{"custom", "custom_2", "custom_3", "custom_4"}, [][2]int{{3, 3}, {1, 3}, {1, 1}, {2, 1}}},
		{"file", []string{"@" + p, "edge"}, []string{"my_ridge", "edge"}, [][2]int{{1, 3}, {3, 3}}},
		{"repeats", []string{"blur", "blur,BLUR"}, []string{"blur", "blur_2", "blur_3"}, [][2]int{{3, 3}, {3, 3}, {3, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := Resolve(tc.specs...)
			if err != nil {
				t.Fatal(err)
			}
			if len(ks) != len(tc.names) {
				t.Fatalf("Resolve(%q) gave %d kernels; want %d", tc.specs, len(ks), len(tc.names))
			}
			for i, k := range ks {
				if k.Name != tc.names[i] || k.Size != tc.sizes[i] {
					t.Errorf("kernel %d = %q %v; want %q %v", i, k.Name, k.Size, tc.names[i], tc.sizes[i])
				}
			}
		})
	}
	for _, bad := range []string{"blur,nope", "1,2;3", "@" + filepath.Join(dir, "none"), "blur,,edge"} {
		if _, err := Resolve(bad); err == nil {
			t.Errorf("Resolve(%q) succeeded", bad)
		}
	}
}
