package imagefilter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Kernel is a 2-D convolution kernel. Size is {rows, columns} = {KH, KW};
// Values holds the KH·KW weights row-major: the weight at row i, column j
// is Values[i·KW + j]. As in tf.nn.conv2d the kernel is not flipped: the
// output at a pixel is Σ Values[i·KW+j] · in[y+i−padTop][x+j−padLeft].
type Kernel struct {
	Name   string
	Size   [2]int
	Values []float32
}

// Validate reports whether k has positive sizes, exactly Size[0]·Size[1]
// values, and only finite values.
func (k Kernel) Validate() error {
	if k.Size[0] < 1 || k.Size[1] < 1 {
		return fmt.Errorf("imagefilter: kernel %q has size %dx%d; want at least 1x1", k.Name, k.Size[0], k.Size[1])
	}
	if len(k.Values) != k.Size[0]*k.Size[1] {
		return fmt.Errorf("imagefilter: kernel %q of size %dx%d has %d values; want %d", k.Name, k.Size[0], k.Size[1], len(k.Values), k.Size[0]*k.Size[1])
	}
	for i, v := range k.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("imagefilter: kernel %q: value %d is %v; want a finite number", k.Name, i, v)
		}
	}
	return nil
}

// String formats k in the syntax ParseKernel reads: rows separated by
// ";" and values by ",".
func (k Kernel) String() string {
	var b strings.Builder
	for i := 0; i < k.Size[0]; i++ {
		if i > 0 {
			b.WriteByte(';')
		}
		for j := 0; j < k.Size[1]; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(k.Values[i*k.Size[1]+j]), 'g', -1, 32))
		}
	}
	return b.String()
}

// square3 returns a 3x3 kernel from its rows.
func square3(name string, rows [3][3]float32) Kernel {
	v := make([]float32, 0, 9)
	for _, r := range rows {
		v = append(v, r[:]...)
	}
	return Kernel{Name: name, Size: [2]int{3, 3}, Values: v}
}

// builtins are the fixed kernels. Values follow the lecture's kernels.py
// (blur, sharpen, edge, top_sobel, emboss) and the usual names of the
// others; the sobel kernels are named after the side that turns bright.
var builtins = map[string]func() Kernel{
	"identity": func() Kernel {
		return square3("identity", [3][3]float32{{0, 0, 0}, {0, 1, 0}, {0, 0, 0}})
	},
	"blur": func() Kernel {
		return square3("blur", [3][3]float32{
			{0.0625, 0.125, 0.0625},
			{0.125, 0.25, 0.125},
			{0.0625, 0.125, 0.0625}})
	},
	"box": func() Kernel { k, _ := Box(3); return k },
	"gaussian": func() Kernel {
		k, _ := Gaussian(5, 1)
		return k
	},
	"sharpen": func() Kernel {
		return square3("sharpen", [3][3]float32{{0, -1, 0}, {-1, 5, -1}, {0, -1, 0}})
	},
	"edge": func() Kernel {
		return square3("edge", [3][3]float32{{0, -1, 0}, {-1, 4, -1}, {0, -1, 0}})
	},
	"edge8": func() Kernel {
		return square3("edge8", [3][3]float32{{-1, -1, -1}, {-1, 8, -1}, {-1, -1, -1}})
	},
	"top_sobel": func() Kernel {
		return square3("top_sobel", [3][3]float32{{1, 2, 1}, {0, 0, 0}, {-1, -2, -1}})
	},
	"bottom_sobel": func() Kernel {
		return square3("bottom_sobel", [3][3]float32{{-1, -2, -1}, {0, 0, 0}, {1, 2, 1}})
	},
	"left_sobel": func() Kernel {
		return square3("left_sobel", [3][3]float32{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}})
	},
	"right_sobel": func() Kernel {
		return square3("right_sobel", [3][3]float32{{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}})
	},
	"emboss": func() Kernel {
		return square3("emboss", [3][3]float32{{-2, -1, 0}, {-1, 1, 1}, {0, 1, 2}})
	},
}

// Names returns the names Builtin knows, sorted.
func Names() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lecture returns the names of the five kernels the lecture's
// 07_run_kernels.py applies, in its order: blur, sharpen, edge, top_sobel,
// emboss.
func Lecture() []string {
	return []string{"blur", "sharpen", "edge", "top_sobel", "emboss"}
}

// ErrUnknownKernel is wrapped by Builtin's error for a name it does not know.
var ErrUnknownKernel = errors.New("unknown kernel")

// Builtin returns the named kernel. Names are those of Names, matched
// without regard to case, with "-" accepted for "_". Two take sizes:
// "box:N" is the N×N mean (1/N² each; "box" is 3×3) and "gaussian:N:σ"
// the normalised N×N gaussian of standard deviation σ ("gaussian" is
// 5×5, σ = 1; "gaussian:N" has σ = 1).
func Builtin(name string) (Kernel, error) {
	// "-" stands for "_" in the name only: a parameter may be negative.
	base, params, hasParams := strings.Cut(strings.ToLower(strings.TrimSpace(name)), ":")
	base = strings.ReplaceAll(base, "-", "_")
	key := base
	if hasParams {
		parts := strings.Split(params, ":")
		switch base {
		case "box":
			if len(parts) != 1 {
				return Kernel{}, fmt.Errorf("imagefilter: kernel %q: want box:N", name)
			}
			n, err := strconv.Atoi(parts[0])
			if err != nil {
				return Kernel{}, fmt.Errorf("imagefilter: kernel %q: size %q is not a whole number", name, parts[0])
			}
			return Box(n)
		case "gaussian":
			if len(parts) > 2 {
				return Kernel{}, fmt.Errorf("imagefilter: kernel %q: want gaussian:N or gaussian:N:SIGMA", name)
			}
			n, err := strconv.Atoi(parts[0])
			if err != nil {
				return Kernel{}, fmt.Errorf("imagefilter: kernel %q: size %q is not a whole number", name, parts[0])
			}
			sigma := 1.0
			if len(parts) == 2 {
				sigma, err = strconv.ParseFloat(parts[1], 64)
				if err != nil {
					return Kernel{}, fmt.Errorf("imagefilter: kernel %q: sigma %q is not a number", name, parts[1])
				}
			}
			return Gaussian(n, sigma)
		}
	} else if f, ok := builtins[key]; ok {
		return f(), nil
	}
	return Kernel{}, fmt.Errorf("imagefilter: %w %q; known kernels: %s (box:N and gaussian:N:SIGMA take sizes)",
		ErrUnknownKernel, name, strings.Join(Names(), ", "))
}

// maxKernelSide bounds the kernels Box, Gaussian and ParseKernel build, so
// a typo cannot ask for a gigabyte of weights.
const maxKernelSide = 1024

// Box returns the n×n mean filter: every weight is 1/n². Its name is
// "box" for n = 3 and "boxN" otherwise.
func Box(n int) (Kernel, error) {
	if n < 1 || n > maxKernelSide {
		return Kernel{}, fmt.Errorf("imagefilter: box size %d; want 1 to %d", n, maxKernelSide)
	}
	v := make([]float32, n*n)
	for i := range v {
		v[i] = float32(1 / float64(n*n))
	}
	name := "box"
	if n != 3 {
		name = fmt.Sprintf("box%d", n)
	}
	return Kernel{Name: name, Size: [2]int{n, n}, Values: v}, nil
}

// Gaussian returns the n×n kernel exp(−(x² + y²)/(2σ²)) normalised to sum
// 1, with x and y measured from the centre (n−1)/2 (a half-pixel offset
// for even n). Its name is "gaussian" for n = 5, σ = 1 and
// "gaussianN_sσ" otherwise (e.g. "gaussian7_s1.5").
func Gaussian(n int, sigma float64) (Kernel, error) {
	if n < 1 || n > maxKernelSide {
		return Kernel{}, fmt.Errorf("imagefilter: gaussian size %d; want 1 to %d", n, maxKernelSide)
	}
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return Kernel{}, fmt.Errorf("imagefilter: gaussian sigma %v; want a finite number > 0", sigma)
	}
	c := float64(n-1) / 2
	w := make([]float64, n*n)
	var sum float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			dy, dx := float64(i)-c, float64(j)-c
			w[i*n+j] = math.Exp(-(dx*dx + dy*dy) / (2 * sigma * sigma))
			sum += w[i*n+j]
		}
	}
	v := make([]float32, n*n)
	for i := range w {
		v[i] = float32(w[i] / sum)
	}
	name := "gaussian"
	if n != 5 || sigma != 1 {
		name = fmt.Sprintf("gaussian%d_s%s", n, strconv.FormatFloat(sigma, 'g', -1, 64))
	}
	return Kernel{Name: name, Size: [2]int{n, n}, Values: v}, nil
}

// ParseKernel reads a kernel of any size, odd or even, written row by row:
// rows are separated by ";" or newlines, values within a row by "," or
// spaces, and a value is a decimal number or a fraction "a/b"; blank rows
// and text after "#" on a line are ignored. "0,-1,0;-1,5,-1;0,-1,0" is
// sharpen. The kernel is named "custom". It fails on an empty kernel,
// rows of different lengths and values that are not finite numbers,
// naming the row and column.
func ParseKernel(s string) (Kernel, error) {
	var rows [][]float32
	for line := range strings.SplitSeq(s, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for row := range strings.SplitSeq(line, ";") {
			if strings.TrimSpace(row) == "" {
				continue
			}
			vals, err := parseRow(row, len(rows)+1)
			if err != nil {
				return Kernel{}, err
			}
			if len(rows) > 0 && len(vals) != len(rows[0]) {
				return Kernel{}, fmt.Errorf("imagefilter: kernel row %d has %d values but row 1 has %d; rows must be the same length", len(rows)+1, len(vals), len(rows[0]))
			}
			rows = append(rows, vals)
			if len(rows) > maxKernelSide {
				return Kernel{}, fmt.Errorf("imagefilter: kernel has more than %d rows", maxKernelSide)
			}
		}
	}
	if len(rows) == 0 {
		return Kernel{}, errors.New("imagefilter: kernel is empty; want rows like \"0,-1,0;-1,5,-1;0,-1,0\"")
	}
	k := Kernel{Name: "custom", Size: [2]int{len(rows), len(rows[0])}}
	for _, r := range rows {
		k.Values = append(k.Values, r...)
	}
	return k, nil
}

// parseRow reads the values of one kernel row (numbered from 1 for errors).
func parseRow(row string, n int) ([]float32, error) {
	var vals []float32
	for _, field := range strings.Split(row, ",") {
		words := strings.Fields(field)
		if len(words) == 0 {
			return nil, fmt.Errorf("imagefilter: kernel row %d, value %d is empty in %q", n, len(vals)+1, strings.TrimSpace(row))
		}
		for _, w := range words {
			v, err := parseValue(w)
			if err != nil {
				return nil, fmt.Errorf("imagefilter: kernel row %d, value %d: %v", n, len(vals)+1, err)
			}
			vals = append(vals, v)
			if len(vals) > maxKernelSide {
				return nil, fmt.Errorf("imagefilter: kernel row %d has more than %d values", n, maxKernelSide)
			}
		}
	}
	return vals, nil
}

// parseValue reads "1.5", "-2", "1e-3" or "1/16" as a finite float32.
func parseValue(w string) (float32, error) {
	num, den, isFrac := strings.Cut(w, "/")
	a, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", w)
	}
	if isFrac {
		b, err := strconv.ParseFloat(den, 64)
		if err != nil || b == 0 {
			return 0, fmt.Errorf("%q is not a number (a fraction needs a non-zero denominator)", w)
		}
		a /= b
	}
	if math.IsNaN(a) || math.IsInf(a, 0) || math.Abs(a) > math.MaxFloat32 {
		return 0, fmt.Errorf("%q is not a finite float32", w)
	}
	return float32(a), nil
}

// maxKernelFile bounds the size of a kernel file ReadKernel accepts.
const maxKernelFile = 1 << 20

// ReadKernel reads a kernel in ParseKernel's syntax from r (at most 1 MiB).
func ReadKernel(r io.Reader) (Kernel, error) {
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), maxKernelFile+1))
	if err != nil {
		return Kernel{}, fmt.Errorf("imagefilter: reading kernel: %w", err)
	}
	if len(b) > maxKernelFile {
		return Kernel{}, fmt.Errorf("imagefilter: kernel text is larger than %d bytes", maxKernelFile)
	}
	return ParseKernel(string(b))
}

// LoadKernel reads a kernel file in ParseKernel's syntax. The kernel is
// named after the file, without directory and extension, with characters
// other than letters, digits, "-", "_" and "." replaced by "_" so the name
// can be part of a file name.
func LoadKernel(path string) (Kernel, error) {
	f, err := os.Open(path)
	if err != nil {
		return Kernel{}, fmt.Errorf("imagefilter: %w", err)
	}
	defer f.Close()
	k, err := ReadKernel(f)
	if err != nil {
		return Kernel{}, fmt.Errorf("%w (in %s)", err, path)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if base != "" && base != "." {
		k.Name = strings.Map(func(r rune) rune {
			if r < 0x80 && (r == '-' || r == '_' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return r
			}
			return '_'
		}, base)
	}
	return k, nil
}

// Resolve turns kernel specifications, as a user types them, into kernels
// with distinct names (a repeated name gets "_2", "_3", … appended). Each
// spec is one of:
//
//   - a comma-separated list of Builtin names: "blur,sharpen,box:5";
//   - a kernel in ParseKernel's syntax, recognised by a ";" or a leading
//     digit, sign or point: "0,-1,0;-1,5,-1;0,-1,0", "1,-2,1";
//   - "@FILE": a kernel file for LoadKernel.
func Resolve(specs ...string) ([]Kernel, error) {
	var ks []Kernel
	for _, s := range specs {
		t := strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(t, "@"):
			k, err := LoadKernel(t[1:])
			if err != nil {
				return nil, err
			}
			ks = append(ks, k)
		case strings.ContainsAny(t, ";\n") || t != "" && strings.ContainsRune("0123456789+-.", rune(t[0])):
			k, err := ParseKernel(t)
			if err != nil {
				return nil, err
			}
			ks = append(ks, k)
		default:
			for _, n := range strings.Split(t, ",") {
				k, err := Builtin(n)
				if err != nil {
					return nil, err
				}
				ks = append(ks, k)
			}
		}
	}
	seen := map[string]int{}
	for i := range ks {
		n := ks[i].Name
		seen[n]++
		if c := seen[n]; c > 1 {
			ks[i].Name = fmt.Sprintf("%s_%d", n, c)
		}
	}
	return ks, nil
}
