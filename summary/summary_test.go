package summary

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCRC32C(t *testing.T) {
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i)
	}
	// Check value of the catalogue of CRCs and the iSCSI vectors (RFC 3720 B.4).
	for _, c := range []struct {
		name string
		in   []byte
		want uint32
	}{
		{"123456789", []byte("123456789"), 0xe3069283},
		{"32 zeros", make([]byte, 32), 0x8a9136aa},
		{"32 ones", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43},
		{"ascending", seq, 0x46dd794e},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := crc32c(c.in); got != c.want {
				t.Errorf("crc32c = 0x%08x, want 0x%08x", got, c.want)
			}
		})
	}
}

func TestMaskCRC(t *testing.T) {
	for _, c := range []uint32{0, 1, 0xe3069283, 0xffffffff, 0x80000000} {
		want := bits.RotateLeft32(c, -15) + 0xa282ead8
		if got := maskCRC(c); got != want {
			t.Errorf("maskCRC(0x%08x) = 0x%08x, want 0x%08x", c, got, want)
		}
	}
	if maskCRC(0) != 0xa282ead8 {
		t.Errorf("maskCRC(0) = 0x%08x", maskCRC(0))
	}
}

func TestRecordFraming(t *testing.T) {
	data := []byte("hello")
	rec := appendRecord(nil, data)
	if len(rec) != 8+4+5+4 {
		t.Fatalf("record is %d bytes, want 21", len(rec))
	}
	if n := binary.LittleEndian.Uint64(rec); n != 5 {
		t.Errorf("length field %d, want 5", n)
	}
	if got := binary.LittleEndian.Uint32(rec[8:]); got != maskCRC(crc32c(rec[:8])) {
		t.Errorf("length CRC 0x%08x", got)
	}
	if !bytes.Equal(rec[12:17], data) {
		t.Errorf("data %q", rec[12:17])
	}
	if got := binary.LittleEndian.Uint32(rec[17:]); got != maskCRC(crc32c(data)) {
		t.Errorf("data CRC 0x%08x", got)
	}
}

// fixedClock makes now() return t0, t0+¼s, t0+½s, ….
func fixedClock(t *testing.T, t0 time.Time) {
	old := now
	tick := 0
	now = func() time.Time {
		tick++
		return t0.Add(time.Duration(tick-1) * time.Second / 4)
	}
	t.Cleanup(func() { now = old })
}

func TestRoundTrip(t *testing.T) {
	fixedClock(t, time.Unix(1700000000, 0))
	dir := filepath.Join(t.TempDir(), "train")
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if want := filepath.Join(dir, "events.out.tfevents.1700000000."+host+"."+strconv.Itoa(os.Getpid())); w.Path() != want {
		t.Errorf("path %q, want %q", w.Path(), want)
	}
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(40 * i)
	}
	if err := w.Scalar("loss", 20, 2.25); err != nil {
		t.Fatal(err)
	}
	if err := w.Histogram("conv1/kernel", 20, []float32{0, 0, 0.25, 2, -3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Image("input", 40, gray); err != nil {
		t.Fatal(err)
	}
	if err := w.Scalar("accuracy", -1, 0.9131); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	events, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("%d events, want 5", len(events))
	}
	if e := events[0]; e.FileVersion != "brain.Event:2" || len(e.Values) != 0 || e.WallTime != 1700000000 {
		t.Errorf("first event %+v, want file_version brain.Event:2 at 1700000000", e)
	}
	for i, want := range []struct {
		step int64
		tag  string
		kind Kind
	}{{20, "loss", KindScalar}, {20, "conv1/kernel", KindHistogram}, {40, "input", KindImage}, {-1, "accuracy", KindScalar}} {
		e := events[i+1]
		if e.Step != want.step || len(e.Values) != 1 || e.Values[0].Tag != want.tag || e.Values[0].Kind != want.kind {
			t.Errorf("event %d: %+v, want step %d tag %q kind %d", i+1, e, want.step, want.tag, want.kind)
		}
		if e.WallTime <= events[i].WallTime {
			t.Errorf("event %d wall time %v not after %v", i+1, e.WallTime, events[i].WallTime)
		}
	}
	if v := events[1].Values[0].Simple; v != 2.25 {
		t.Errorf("loss %v, want 2.25", v)
	}
	if v := events[4].Values[0].Simple; v != float32(0.9131) {
		t.Errorf("accuracy %v, want %v", v, float32(0.9131))
	}

	h := events[2].Values[0].Histo
	if h.Num != 5 || h.Min != -3 || h.Max != 2 || h.Sum != -0.75 || h.SumSquares != 13.0625 {
		t.Errorf("histogram stats %+v", h)
	}

	img := events[3].Values[0].Image
	if img.Width != 3 || img.Height != 2 || img.Colorspace != 1 {
		t.Errorf("image %dx%d colorspace %d, want 3x2, 1", img.Width, img.Height, img.Colorspace)
	}
	dec, err := png.Decode(bytes.NewReader(img.Encoded))
	if err != nil {
		t.Fatal(err)
	}
	for y := range 2 {
		for x := range 3 {
			if got, want := color.GrayModel.Convert(dec.At(x, y)).(color.Gray).Y, gray.GrayAt(x, y).Y; got != want {
				t.Errorf("pixel (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
}

func TestCorruptionDetected(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Scalar("a", 1, 1)
	w.Scalar("b", 2, 2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := splitRecords(good)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	second := 16 + len(recs[0]) // offset of the second record
	third := second + 16 + len(recs[1])
	for _, c := range []struct {
		name   string
		mutate func([]byte) []byte
		want   string
	}{
		{"data byte", func(b []byte) []byte { b[second+14] ^= 0x40; return b },
			"record at offset " + strconv.Itoa(second) + ": data CRC mismatch"},
		{"data crc", func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
			"record at offset " + strconv.Itoa(third) + ": data CRC mismatch"},
		{"length", func(b []byte) []byte { b[second] ^= 1; return b },
			"record at offset " + strconv.Itoa(second) + ": length CRC mismatch"},
		{"truncated data", func(b []byte) []byte { return b[:len(b)-2] },
			"record at offset " + strconv.Itoa(third) + ": length"},
		{"truncated header", func(b []byte) []byte { return b[:third+5] },
			"record at offset " + strconv.Itoa(third) + ": truncated header (5 of 12 bytes)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "events")
			os.WriteFile(p, c.mutate(bytes.Clone(good)), 0o644)
			_, err := ReadFile(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ReadFile error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	n := len(defaultLimits)
	if n%2 != 1 || defaultLimits[n/2] != 0 {
		t.Fatalf("%d limits, middle %v; want an odd count with 0 in the middle", n, defaultLimits[n/2])
	}
	if defaultLimits[n/2+1] != 1e-12 || defaultLimits[n-1] != math.MaxFloat64 || defaultLimits[0] != -math.MaxFloat64 {
		t.Errorf("limits start %v, end %v, first %v", defaultLimits[n/2+1], defaultLimits[n-1], defaultLimits[0])
	}
	if last := defaultLimits[n-2]; last >= 1e20 || last*1.1 < 1e20 {
		t.Errorf("largest finite limit %v, want the last 1e-12·1.1^k below 1e20", last)
	}
	for i := 1; i < n; i++ {
		if defaultLimits[i] <= defaultLimits[i-1] {
			t.Fatalf("limits not increasing at %d: %v, %v", i, defaultLimits[i-1], defaultLimits[i])
		}
		if j := n - 1 - i; defaultLimits[j] != -defaultLimits[i] {
			t.Fatalf("limits not symmetric: [%d] = %v, [%d] = %v", i, defaultLimits[i], j, defaultLimits[j])
		}
	}
	// The ratio between neighbouring positive limits is 1.1.
	if r := defaultLimits[n/2+2] / defaultLimits[n/2+1]; math.Abs(r-1.1) > 1e-12 {
		t.Errorf("ratio %v, want 1.1", r)
	}
}

func TestHistogramBuckets(t *testing.T) {
	t.Run("hand-worked", func(t *testing.T) {
		h, err := newHistogram([]float32{0, 0, 2, -3})
		if err != nil {
			t.Fatal(err)
		}
		// 0 → first limit above 0 is 1e-12; 2 and −3 → their own buckets.
		var nonEmpty []float64
		for i, c := range h.Bucket {
			if c > 0 {
				nonEmpty = append(nonEmpty, h.BucketLimit[i], c)
			}
		}
		if len(nonEmpty) != 6 || nonEmpty[2] != 1e-12 || nonEmpty[3] != 2 || nonEmpty[1] != 1 || nonEmpty[5] != 1 {
			t.Fatalf("non-empty (limit, count) pairs %v", nonEmpty)
		}
		if lo := nonEmpty[0]; !(lo > -3 && lo*1.1 <= -3) {
			t.Errorf("−3 went to the bucket with limit %v", lo)
		}
		if hi := nonEmpty[4]; !(hi > 2 && hi/1.1 <= 2) {
			t.Errorf("2 went to the bucket with limit %v", hi)
		}
		// Runs of empty buckets collapse: never two empty buckets in a row.
		for i := 1; i < len(h.Bucket); i++ {
			if h.Bucket[i] == 0 && h.Bucket[i-1] == 0 {
				t.Fatalf("two empty buckets in a row at %d", i)
			}
		}
		if h.BucketLimit[len(h.BucketLimit)-1] != math.MaxFloat64 {
			t.Errorf("last limit %v, want MaxFloat64", h.BucketLimit[len(h.BucketLimit)-1])
		}
	})
	t.Run("random against brute force", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		vals := make([]float32, 2000)
		for i := range vals {
			vals[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(12)-6)))
		}
		h, err := newHistogram(vals)
		if err != nil {
			t.Fatal(err)
		}
		lo := -math.Inf(1)
		total := 0.0
		for i, limit := range h.BucketLimit {
			n := 0.0
			for _, v := range vals {
				if float64(v) >= lo && float64(v) < limit {
					n++
				}
			}
			if n != h.Bucket[i] {
				t.Fatalf("bucket [%v, %v) holds %v values, histogram says %v", lo, limit, n, h.Bucket[i])
			}
			total += n
			lo = limit
		}
		if total != 2000 || h.Num != 2000 {
			t.Errorf("counted %v, Num %v; want 2000", total, h.Num)
		}
	})
	t.Run("empty", func(t *testing.T) {
		h, err := newHistogram(nil)
		if err != nil {
			t.Fatal(err)
		}
		if h.Num != 0 || len(h.Bucket) != 1 || h.Bucket[0] != 0 || h.BucketLimit[0] != math.MaxFloat64 {
			t.Errorf("empty histogram %+v", h)
		}
	})
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		t.Run("reject "+strconv.FormatFloat(float64(bad), 'g', -1, 32), func(t *testing.T) {
			_, err := newHistogram([]float32{1, bad})
			if err == nil || !strings.Contains(err.Error(), "value 1 is") {
				t.Fatalf("error %v, want one naming value 1", err)
			}
		})
	}
}

func TestImageColorspace(t *testing.T) {
	opaque := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := range opaque.Pix {
		opaque.Pix[i] = 255
	}
	for _, c := range []struct {
		name string
		img  image.Image
		want int32
	}{
		{"gray", image.NewGray(image.Rect(0, 0, 2, 2)), 1},
		{"gray16", image.NewGray16(image.Rect(0, 0, 2, 2)), 1},
		{"opaque rgba", opaque, 3},
		{"transparent rgba", image.NewRGBA(image.Rect(0, 0, 2, 2)), 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := colorspace(c.img); got != c.want {
				t.Errorf("colorspace %d, want %d", got, c.want)
			}
		})
	}
}

func TestWriterNamesDoNotCollide(t *testing.T) {
	old := now
	now = func() time.Time { return time.Unix(1700000000, 0) }
	t.Cleanup(func() { now = old })
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 3 {
		w, err := NewWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if seen[w.Path()] {
			t.Fatalf("two writers share %s", w.Path())
		}
		seen[w.Path()] = true
		if !strings.Contains(filepath.Base(w.Path()), "tfevents") {
			t.Errorf("name %s lacks tfevents", w.Path())
		}
	}
}

func TestWriterClosed(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Scalar("x", 1, 1); err == nil {
		t.Error("Scalar after Close succeeded")
	}
	if err := w.Flush(); err == nil {
		t.Error("Flush after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Image("x", 1, nil); err == nil {
		t.Error("nil image accepted")
	}
}

// TestFlushMakesEventsVisible checks that buffered events reach the file
// on Flush, and on their own once flushEvery has passed.
func TestFlushMakesEventsVisible(t *testing.T) {
	clock := time.Unix(1700000000, 0)
	old := now
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = old })
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	count := func() int {
		ev, err := ReadFile(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	w.Scalar("a", 1, 1)
	if n := count(); n != 1 {
		t.Errorf("%d events on disk before Flush, want 1 (the file version)", n)
	}
	w.Flush()
	if n := count(); n != 2 {
		t.Errorf("%d events after Flush, want 2", n)
	}
	clock = clock.Add(flushEvery)
	w.Scalar("a", 2, 2)
	if n := count(); n != 3 {
		t.Errorf("%d events after %v, want 3", n, flushEvery)
	}
}
