package imagefilter

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
)

// WritePNGs convolves img with each of ks as ApplyAll does and writes
// result i as a PNG to ws[i], band by band as the rows are computed, so
// that memory is bounded by the image (the decoded img, its alpha plane
// and a few megabytes of bands), not by the number or size of kernels.
// The decoded pixels equal ApplyAll's results: an *image.Gray result is
// an 8-bit gray PNG, an *image.NRGBA one an 8-bit RGBA PNG, or RGB when
// every pixel is opaque (as image/png writes them). level is the zlib
// effort, as png.Encoder's CompressionLevel.
func WritePNGs(img image.Image, ks []Kernel, o Options, ws []io.Writer, level png.CompressionLevel) error {
	if len(ws) != len(ks) {
		return fmt.Errorf("imagefilter: %d writers for %d kernels", len(ws), len(ks))
	}
	var alpha []uint8
	if !o.Gray {
		alpha = alphaPlane(img)
	}
	encs := make([]*pngRows, len(ks))
	err := run(img, ks, o, alpha, func(group []int, g geometry, bands []image.Image) error {
		for n, j := range group {
			if encs[j] == nil {
				ct := uint8(2) // RGB
				switch {
				case o.Gray:
					ct = 0
				case !opaqueAtAnchors(alpha, g):
					ct = 6 // RGBA, non-premultiplied like image.NRGBA
				}
				e, err := newPNGRows(ws[j], g.outW, g.outH, ct, level)
				if err != nil {
					return err
				}
				encs[j] = e
			}
			if err := encs[j].writeBand(bands[n]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range encs {
		if err := e.close(); err != nil {
			return err
		}
	}
	return nil
}

// opaqueAtAnchors reports whether every output pixel takes an opaque
// alpha (a result's alpha is the source's at each window's anchor).
func opaqueAtAnchors(alpha []uint8, g geometry) bool {
	if alpha == nil {
		return true
	}
	for i := 0; i < g.outH; i++ {
		row := alpha[g.anchorRow(i)*g.inW:][:g.inW]
		for j := 0; j < g.outW; j++ {
			if row[g.anchorCol(j)] != 0xff {
				return false
			}
		}
	}
	return true
}

// pngRows writes a PNG one row at a time: signature, IHDR, the zlib
// stream of filtered rows cut into IDAT chunks, IEND (PNG spec, 2nd ed.).
type pngRows struct {
	w          io.Writer
	chunks     *bufio.Writer // buffers the zlib output into IDAT chunks
	zw         *zlib.Writer
	bpp        int    // bytes per pixel: 1, 3 or 4
	cur, prev  []byte // filter byte + row, this row and the one above
	try        [5][]byte
	rows, outH int
}

func newPNGRows(w io.Writer, width, height int, colorType uint8, level png.CompressionLevel) (*pngRows, error) {
	bpp := map[uint8]int{0: 1, 2: 3, 6: 4}[colorType]
	e := &pngRows{w: w, bpp: bpp, outH: height}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, colorType // bit depth 8; compression, filter, interlace 0
	if _, err := io.WriteString(w, "\x89PNG\r\n\x1a\n"); err != nil {
		return nil, err
	}
	if err := writeChunk(w, "IHDR", ihdr); err != nil {
		return nil, err
	}
	e.chunks = bufio.NewWriterSize(chunkWriter{w}, 1<<16)
	zl := zlib.DefaultCompression
	switch level {
	case png.NoCompression:
		zl = zlib.NoCompression
	case png.BestSpeed:
		zl = zlib.BestSpeed
	case png.BestCompression:
		zl = zlib.BestCompression
	}
	zw, err := zlib.NewWriterLevel(e.chunks, zl)
	if err != nil {
		return nil, err
	}
	e.zw = zw
	n := 1 + width*bpp
	e.cur, e.prev = make([]byte, n), make([]byte, n)
	for i := range e.try {
		e.try[i] = make([]byte, n)
	}
	return e, nil
}

// writeBand appends the rows of an *image.Gray or *image.NRGBA band.
func (e *pngRows) writeBand(band image.Image) error {
	var pix []byte
	var stride int
	switch b := band.(type) {
	case *image.Gray:
		pix, stride = b.Pix, b.Stride
	case *image.NRGBA:
		pix, stride = b.Pix, b.Stride
	}
	for y := 0; y < band.Bounds().Dy(); y++ {
		src := pix[y*stride:]
		row := e.cur[1:]
		switch e.bpp {
		case 3: // drop the alpha of an opaque NRGBA row
			for x := 0; x < len(row)/3; x++ {
				copy(row[3*x:3*x+3], src[4*x:4*x+3])
			}
		default:
			copy(row, src[:len(row)])
		}
		if err := e.writeRow(); err != nil {
			return err
		}
	}
	return nil
}

// writeRow filters e.cur against e.prev with the filter whose output has
// the smallest sum of absolute values (as signed bytes), the heuristic the
// PNG specification suggests, and compresses it.
func (e *pngRows) writeRow() error {
	cur, prev, bpp := e.cur[1:], e.prev[1:], e.bpp
	best, bestSum := 0, -1
	for f := range e.try {
		out := e.try[f]
		out[0] = byte(f)
		o := out[1:]
		sum := 0
		for i, c := range cur {
			var a, b, cc int
			if i >= bpp {
				a, cc = int(cur[i-bpp]), int(prev[i-bpp])
			}
			b = int(prev[i])
			var p int
			switch f {
			case 1: // Sub
				p = a
			case 2: // Up
				p = b
			case 3: // Average
				p = (a + b) / 2
			case 4: // Paeth
				p = paeth(a, b, cc)
			}
			v := c - byte(p)
			o[i] = v
			sum += absInt8(v)
		}
		if bestSum < 0 || sum < bestSum {
			best, bestSum = f, sum
		}
	}
	if _, err := e.zw.Write(e.try[best]); err != nil {
		return err
	}
	e.cur, e.prev = e.prev, e.cur
	e.rows++
	return nil
}

// close ends the zlib stream and writes the last IDAT and IEND.
func (e *pngRows) close() error {
	if e.rows != e.outH {
		return fmt.Errorf("imagefilter: PNG has %d of %d rows", e.rows, e.outH)
	}
	if err := e.zw.Close(); err != nil {
		return err
	}
	if err := e.chunks.Flush(); err != nil {
		return err
	}
	return writeChunk(e.w, "IEND", nil)
}

func paeth(a, b, c int) int {
	p := a + b - c
	pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func absInt8(v byte) int { return abs(int(int8(v))) }

// chunkWriter writes each Write as one IDAT chunk.
type chunkWriter struct{ w io.Writer }

func (c chunkWriter) Write(p []byte) (int, error) {
	if err := writeChunk(c.w, "IDAT", p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeChunk writes a PNG chunk: length, type, data, CRC-32 of type+data.
func writeChunk(w io.Writer, typ string, data []byte) error {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
