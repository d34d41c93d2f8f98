// Package npy reads and writes NumPy .npy files holding one float32 array:
// format version 1.0, dtype '<f4' (little-endian float32), C (row-major)
// order — the raw-tensor format of convnet's command line.
//
// A version 1.0 file is the 6-byte magic "\x93NUMPY", the version bytes
// 1 0, a little-endian uint16 header length L, L bytes of ASCII header
// (a Python dict literal such as {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } padded with spaces and ending in '\n', so that
// 10 + L is a multiple of 64), then the values.
//
// It does not read other dtypes, Fortran order, big-endian data, object
// arrays, versions 2.0/3.0 or .npz archives; each is refused with an error
// naming what the file holds.
package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/internal/atomicfile"
	"github.com/convnet-go/convnet/tensor"
)

const magic = "\x93NUMPY"

// maxElems bounds the element count a header may declare (the tensor
// package's own limit); the data itself is read as it arrives, so a
// forged header cannot make Read allocate more than the file holds.
const maxElems = math.MaxInt32

// Read decodes a version 1.0 .npy stream of '<f4' values in C order into
// a tensor of the declared shape (shape () gives a rank-0 tensor of one
// value). It checks the magic, version, header, dtype and order, and that
// exactly shape·4 bytes of data follow; it never panics on corrupt input.
func Read(r io.Reader) (*tensor.Tensor, error) {
	var pre [10]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("npy: file is %d bytes, too short for the 10-byte preamble", n)
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("npy: magic %q, want %q: not a .npy file", pre[:6], magic)
	}
	if pre[6] != 1 || pre[7] != 0 {
		return nil, fmt.Errorf("npy: format version %d.%d, only 1.0 is read", pre[6], pre[7])
	}
	hlen := int(binary.LittleEndian.Uint16(pre[8:]))
	header := make([]byte, hlen)
	if n, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("npy: header length %d but only %d bytes follow", hlen, n)
	}
	shape, err := parseHeader(string(header))
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range shape {
		if d != 0 && n > maxElems/d {
			return nil, fmt.Errorf("npy: shape %v has more than %d elements", shape, maxElems)
		}
		n *= d
	}
	want := int64(n) * 4
	data, err := io.ReadAll(io.LimitReader(r, want+1))
	if err != nil {
		return nil, fmt.Errorf("npy: reading data: %v", err)
	}
	switch {
	case int64(len(data)) < want:
		return nil, fmt.Errorf("npy: shape %v needs %d data bytes, file holds %d", shape, want, len(data))
	case int64(len(data)) > want:
		return nil, fmt.Errorf("npy: data continues past the %d bytes shape %v describes", want, shape)
	}
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return tensor.New(shape, vals)
}

// ReadFile reads a .npy file with Read.
func ReadFile(path string) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %v", err)
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// parseHeader reads the dict literal {'descr': …, 'fortran_order': …,
// 'shape': (…)} in any key order and returns the shape.
func parseHeader(h string) ([]int, error) {
	s := strings.TrimRight(h, " \n\x00")
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("npy: header %q is not a dict literal", h)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	var shape []int
	seen := map[string]bool{}
	for s != "" {
		key, rest, err := quoted(s)
		if err != nil {
			return nil, fmt.Errorf("npy: header %q: %v", h, err)
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("npy: header %q: no ':' after key %q", h, key)
		}
		rest = strings.TrimSpace(rest[1:])
		if seen[key] {
			return nil, fmt.Errorf("npy: header %q: key %q appears twice", h, key)
		}
		seen[key] = true
		switch key {
		case "descr":
			var d string
			if d, rest, err = quoted(rest); err != nil {
				return nil, fmt.Errorf("npy: header %q: descr: %v", h, err)
			}
			if d != "<f4" {
				return nil, fmt.Errorf("npy: dtype %q, only '<f4' (little-endian float32) is read", d)
			}
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "False"):
				rest = rest[len("False"):]
			case strings.HasPrefix(rest, "True"):
				return nil, fmt.Errorf("npy: fortran_order True, only C order is read")
			default:
				return nil, fmt.Errorf("npy: header %q: fortran_order is not False or True", h)
			}
		case "shape":
			if shape, rest, err = tuple(rest); err != nil {
				return nil, fmt.Errorf("npy: header %q: shape: %v", h, err)
			}
		default:
			return nil, fmt.Errorf("npy: header %q: unknown key %q", h, key)
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, ",") {
			rest = strings.TrimSpace(rest[1:])
		} else if rest != "" {
			return nil, fmt.Errorf("npy: header %q: want ',' or '}' before %q", h, rest)
		}
		s = rest
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("npy: header %q has no %q", h, k)
		}
	}
	return shape, nil
}

// quoted splits a leading '…' or "…" string (no escapes) off s.
func quoted(s string) (string, string, error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", "", fmt.Errorf("want a quoted string at %q", s)
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", "", fmt.Errorf("unterminated string at %q", s)
	}
	return s[1 : 1+end], s[2+end:], nil
}

// tuple splits a leading tuple of non-negative ints, such as (), (3,) or
// (2, 3), off s.
func tuple(s string) ([]int, string, error) {
	if !strings.HasPrefix(s, "(") {
		return nil, "", fmt.Errorf("want a tuple at %q", s)
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return nil, "", fmt.Errorf("unterminated tuple at %q", s)
	}
	body, rest := strings.TrimSpace(s[1:end]), s[end+1:]
	shape := []int{}
	if body == "" {
		return shape, rest, nil
	}
	parts := strings.Split(body, ",")
	if strings.TrimSpace(parts[len(parts)-1]) == "" {
		parts = parts[:len(parts)-1] // (3,)
	}
	for _, p := range parts {
		p = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p), "L")) // Python 2 writes 3L
		d, err := strconv.Atoi(p)
		if err != nil || d < 0 {
			return nil, "", fmt.Errorf("dimension %q is not a non-negative integer", p)
		}
		shape = append(shape, d)
	}
	return shape, rest, nil
}

// Write encodes t as a version 1.0 .npy stream: dtype '<f4', C order,
// shape t.Shape(), the header padded so the data starts at a multiple of
// 64 bytes (as NumPy writes it).
func Write(w io.Writer, t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("npy: Write of a nil tensor")
	}
	dims := make([]string, len(t.Shape()))
	for i, d := range t.Shape() {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape)
	total := 10 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(h) > math.MaxUint16 {
		return fmt.Errorf("npy: header of shape %v is %d bytes, version 1.0 holds at most %d", t.Shape(), len(h), math.MaxUint16)
	}
	var b bytes.Buffer
	b.Grow(10 + len(h) + 4*t.Len())
	b.WriteString(magic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	var v [4]byte
	for _, x := range t.Data() {
		binary.LittleEndian.PutUint32(v[:], math.Float32bits(x))
		b.Write(v[:])
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFile writes t to path atomically: into a temporary file in the
// same directory, synced, then renamed over path, so path never holds a
// partial array.
func WriteFile(path string, t *tensor.Tensor) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, t) }); err != nil {
		return fmt.Errorf("npy: %v", err)
	}
	return nil
}
