package summary

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// TFRecord framing of one record of n data bytes (all little-endian):
//
//	u64 n | u32 maskCRC(CRC32C of the 8 length bytes) | data | u32 maskCRC(CRC32C of data)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is CRC-32 with the Castagnoli polynomial (0x1EDC6F41, reflected
// 0x82F63B78), the checksum TFRecord uses.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// maskCRC is TFRecord's masking of a stored CRC, ((c>>15)|(c<<17)) + 0xa282ead8,
// which keeps a CRC of data that itself holds CRCs from being degenerate.
func maskCRC(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }

// appendRecord appends the TFRecord framing of data to dst.
func appendRecord(dst, data []byte) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	dst = append(dst, n[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, maskCRC(crc32c(n[:])))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, maskCRC(crc32c(data)))
}

// writeRecord writes the TFRecord framing of data to w.
func writeRecord(w io.Writer, data []byte) error {
	_, err := w.Write(appendRecord(make([]byte, 0, len(data)+16), data))
	return err
}

// splitRecords returns the data of every record in b, checking both
// CRCs of each. Errors name the byte offset of the bad record.
func splitRecords(b []byte) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < 12 {
			return nil, fmt.Errorf("record at offset %d: truncated header (%d of 12 bytes)", off, len(rest))
		}
		n := binary.LittleEndian.Uint64(rest)
		if got, want := binary.LittleEndian.Uint32(rest[8:]), maskCRC(crc32c(rest[:8])); got != want {
			return nil, fmt.Errorf("record at offset %d: length CRC mismatch: stored 0x%08x, computed 0x%08x", off, got, want)
		}
		if len(rest) < 16 || n > uint64(len(rest)-16) {
			return nil, fmt.Errorf("record at offset %d: length %d needs %d more bytes, %d remain", off, n, n+4, len(rest)-12)
		}
		data := rest[12 : 12+n]
		if got, want := binary.LittleEndian.Uint32(rest[12+n:]), maskCRC(crc32c(data)); got != want {
			return nil, fmt.Errorf("record at offset %d: data CRC mismatch: stored 0x%08x, computed 0x%08x", off, got, want)
		}
		out = append(out, data)
		off += 16 + int(n)
	}
	return out, nil
}
