package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/data"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte) and the number of dimensions.
const (
	imagesMagic = 0x00000803 // ubyte, 3 dims: N × rows × cols
	labelsMagic = 0x00000801 // ubyte, 1 dim: N
)

// Rows and Cols are the height and width of an MNIST image.
const (
	Rows = 28
	Cols = 28
	// Pixels is Rows·Cols, the length of one image in Set.Images.
	Pixels = Rows * Cols
)

// MaxExamples bounds the count an IDX header may declare. MNIST and
// Fashion-MNIST hold 60,000 training and 10,000 test examples; a larger
// count is refused before the body is read, so a forged header (say a
// gzip bomb claiming a million images) cannot make a reader allocate
// more than MaxExamples·784 bytes and as many float32s.
const MaxExamples = 100_000

// openIDX opens path and returns a reader of its IDX bytes, undoing gzip
// when the file starts with the gzip magic 1f 8b (whatever its name).
func openIDX(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, err := br.Peek(2)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: bad gzip header: %v", path, err)
		}
		return zr, f.Close, nil
	}
	return br, f.Close, nil
}

// readHeader reads the 4-byte magic and ndims big-endian u32 dimensions.
func readHeader(r io.Reader, path string, magic uint32, ndims int) ([]uint32, error) {
	buf := make([]byte, 4*(1+ndims))
	if n, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%s: truncated IDX header: got %d bytes, want %d: %v", path, n, len(buf), err)
	}
	if got := binary.BigEndian.Uint32(buf); got != magic {
		return nil, fmt.Errorf("%s: magic 0x%08x, want 0x%08x", path, got, magic)
	}
	dims := make([]uint32, ndims)
	for i := range dims {
		dims[i] = binary.BigEndian.Uint32(buf[4*(i+1):])
	}
	return dims, nil
}

// readBody reads exactly n bytes and then expects the end of the data. The
// buffer grows only as bytes arrive, so a corrupt count cannot force a
// huge allocation; for gzip, reaching the end also verifies the CRC-32.
func readBody(r io.Reader, path string, n int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %v", path, what, err)
	}
	switch {
	case int64(len(data)) < n:
		return nil, fmt.Errorf("%s: truncated: header promises %d bytes of %s, file has %d", path, n, what, len(data))
	case int64(len(data)) > n:
		return nil, fmt.Errorf("%s: extra data after the %d bytes of %s the header promises", path, n, what)
	}
	return data, nil
}

// readImages reads an IDX image file: magic 0x00000803, dims N×28×28, then
// N·784 pixel bytes, row-major. N must equal want, the count of the label
// file at labelsPath, which is checked before the body is read. It
// returns the pixels scaled to [0,1] (byte/255).
func readImages(path, labelsPath string, want int) ([]float32, error) {
	r, closeFn, err := openIDX(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	dims, err := readHeader(r, path, imagesMagic, 3)
	if err != nil {
		return nil, err
	}
	if dims[1] != Rows || dims[2] != Cols {
		return nil, fmt.Errorf("%s: images are %d×%d, want %d×%d", path, dims[1], dims[2], Rows, Cols)
	}
	if err := checkCount(path, dims[0], "images"); err != nil {
		return nil, err
	}
	if int(dims[0]) != want {
		return nil, fmt.Errorf("%s holds %d images but %s holds %d labels",
			filepath.Base(path), dims[0], filepath.Base(labelsPath), want)
	}
	n := int64(dims[0])
	raw, err := readBody(r, path, n*Pixels, "pixels")
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(raw))
	for i, b := range raw {
		out[i] = float32(b) / 255
	}
	return out, nil
}

// checkCount refuses a header count above MaxExamples.
func checkCount(path string, n uint32, what string) error {
	if n > MaxExamples {
		return fmt.Errorf("%s: header claims %d %s, more than the %d this reader accepts", path, n, what, MaxExamples)
	}
	return nil
}

// readLabels reads an IDX label file with readAnyLabels and checks that
// every label is in 0…9.
func readLabels(path string) ([]uint8, error) {
	labels, err := readAnyLabels(path)
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l > 9 {
			return nil, fmt.Errorf("%s: label %d is %d, want 0…9", path, i, l)
		}
	}
	return labels, nil
}

// maxIDXImageBytes bounds H·W·C of one image of an arbitrary IDX file
// (4096×4096×4), so a forged header cannot ask for absurd shapes.
const maxIDXImageBytes = 1 << 26

// readAnyImages reads an IDX ubyte image file of rank 3 (N×H×W, gray) or
// 4 (N×H×W×C) and returns its bytes and image shape.
func readAnyImages(path string) ([]byte, data.Shape, error) {
	r, closeFn, err := openIDX(path)
	if err != nil {
		return nil, data.Shape{}, err
	}
	defer closeFn()
	head := make([]byte, 4)
	if n, err := io.ReadFull(r, head); err != nil {
		return nil, data.Shape{}, fmt.Errorf("%s: truncated IDX header: got %d bytes, want 4: %v", path, n, err)
	}
	if head[0] != 0 || head[1] != 0 || head[2] != 0x08 || (head[3] != 3 && head[3] != 4) {
		return nil, data.Shape{}, fmt.Errorf("%s: magic 0x%08x, want 0x00000803 or 0x00000804 (ubyte images, rank 3 or 4)", path, binary.BigEndian.Uint32(head))
	}
	rank := int(head[3])
	buf := make([]byte, 4*rank)
	if n, err := io.ReadFull(r, buf); err != nil {
		return nil, data.Shape{}, fmt.Errorf("%s: truncated IDX header: got %d of %d dimension bytes: %v", path, n, len(buf), err)
	}
	dims := make([]int64, rank)
	for i := range dims {
		dims[i] = int64(binary.BigEndian.Uint32(buf[4*i:]))
	}
	sh := data.Shape{H: int(dims[1]), W: int(dims[2]), C: 1}
	if rank == 4 {
		sh.C = int(dims[3])
	}
	// Each size is checked against what the product so far leaves, so
	// that 32-bit sizes cannot overflow the product back into range.
	size := int64(1)
	for _, d := range dims[1:] {
		if d < 1 || d > maxIDXImageBytes/size {
			return nil, sh, fmt.Errorf("%s: images of %dx%dx%d, want positive sizes of at most %d values", path, dims[1], dims[2], sh.C, maxIDXImageBytes)
		}
		size *= d
	}
	if err := checkCount(path, uint32(dims[0]), "images"); err != nil {
		return nil, sh, dataError{err}
	}
	px, err := readBody(r, path, dims[0]*size, "pixels")
	if err != nil {
		return nil, sh, dataError{err}
	}
	return px, sh, nil
}

// readAnyLabels reads an IDX ubyte label file: magic 0x00000801, dim N
// (at most MaxExamples), then N bytes.
func readAnyLabels(path string) ([]byte, error) {
	r, closeFn, err := openIDX(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	dims, err := readHeader(r, path, labelsMagic, 1)
	if err != nil {
		return nil, dataError{err}
	}
	if err := checkCount(path, dims[0], "labels"); err != nil {
		return nil, dataError{err}
	}
	b, err := readBody(r, path, int64(dims[0]), "labels")
	if err != nil {
		return nil, dataError{err}
	}
	return b, nil
}
