// Package summary writes TensorBoard event files: scalars, histograms
// and PNG images, each an Event protocol buffer in a TFRecord file, and
// reads such files back with every checksum verified.
//
// A file is named events.out.tfevents.<unix seconds>.<hostname>.<pid>
// (with a ".<n>" suffix when that name is taken) and starts with an event
// whose file_version is "brain.Event:2". Point `tensorboard --logdir` at
// the parent of the writer's directory; give training and evaluation
// their own directories (e.g. logs/train and logs/eval) so their curves
// are separate runs.
//
// It also writes a model's GraphDef (the Graphs tab), text (the Text
// tab) and the hparams plugin's records (the HParams tab), each checked
// against TensorFlow's and TensorBoard's proto definitions in the tests.
// It does not write audio or other plugins' data, and it does not
// rotate files.
package summary

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// FileVersion is the file_version of the first event of every file.
const FileVersion = "brain.Event:2"

// flushEvery bounds how long an event can sit in the buffer: a write that
// finds the last flush older than this flushes, so TensorBoard sees a
// running job's progress.
const flushEvery = 10 * time.Second

// now is the wall clock; tests replace it.
var now = time.Now

// Writer appends events to one event file. Its methods are safe for
// concurrent use. Events are buffered: call Flush to make them visible
// to readers now, and Close when done.
type Writer struct {
	mu        sync.Mutex
	f         *os.File
	buf       *bufio.Writer
	path      string
	lastFlush time.Time
	err       error // sticky: the first write error, or errClosed
}

var errClosed = errors.New("summary: writer is closed")

// NewWriter creates dir if needed and a new event file in it, and writes
// the file-version event.
func NewWriter(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("summary: %v", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	t := now()
	base := fmt.Sprintf("events.out.tfevents.%d.%s.%d", t.Unix(), host, os.Getpid())
	var f *os.File
	name := base
	for i := 1; ; i++ {
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			break
		}
		name = base + "." + strconv.Itoa(i)
	}
	if err != nil {
		return nil, fmt.Errorf("summary: %v", err)
	}
	w := &Writer{f: f, buf: bufio.NewWriterSize(f, 1<<16), path: f.Name(), lastFlush: t}
	if err := w.write(&Event{WallTime: wallTime(t), FileVersion: FileVersion}); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path returns the event file's path.
func (w *Writer) Path() string { return w.path }

func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Scalar records v (stored as float32, as simple_value is) under tag at step.
func (w *Writer) Scalar(tag string, step int64, v float64) error {
	return w.value(step, Value{Tag: tag, Kind: KindScalar, Simple: float32(v)})
}

// Histogram records the distribution of values under tag at step, with
// TensorFlow's default exponential buckets (see Histogram). It fails on
// NaN or ±Inf, as TF's histogram summary does.
func (w *Writer) Histogram(tag string, step int64, values []float32) error {
	h, err := newHistogram(values)
	if err != nil {
		return fmt.Errorf("summary: histogram %q: %v", tag, err)
	}
	return w.value(step, Value{Tag: tag, Kind: KindHistogram, Histo: h})
}

// Image records img, PNG-encoded, under tag at step. Gray images are
// stored as colorspace 1, opaque colour images as 3 (RGB), others as 4 (RGBA).
func (w *Writer) Image(tag string, step int64, img image.Image) error {
	if img == nil {
		return fmt.Errorf("summary: image %q is nil", tag)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return fmt.Errorf("summary: image %q: %v", tag, err)
	}
	r := img.Bounds()
	return w.value(step, Value{Tag: tag, Kind: KindImage, Image: &Image{
		Height: int32(r.Dy()), Width: int32(r.Dx()), Colorspace: colorspace(img), Encoded: b.Bytes(),
	}})
}

// colorspace gives Summary.Image's colorspace code for img.
func colorspace(img image.Image) int32 {
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return 1
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return 3
	}
	return 4
}

func (w *Writer) value(step int64, v Value) error {
	return w.write(&Event{WallTime: wallTime(now()), Step: step, Values: []Value{v}})
}

func (w *Writer) write(e *Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if err := writeRecord(w.buf, marshalEvent(e)); err != nil {
		w.err = fmt.Errorf("summary: writing %s: %v", w.path, err)
		return w.err
	}
	if now().Sub(w.lastFlush) >= flushEvery {
		return w.flushLocked()
	}
	return nil
}

// Flush writes buffered events to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	w.lastFlush = now()
	if err := w.buf.Flush(); err != nil {
		w.err = fmt.Errorf("summary: writing %s: %v", w.path, err)
		return w.err
	}
	return nil
}

// Close flushes and closes the file. Later calls of any method return an
// error; a second Close returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == errClosed {
		return nil
	}
	var err error
	if w.err == nil {
		err = w.flushLocked()
	} else {
		err = w.err
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("summary: closing %s: %v", w.path, cerr)
	}
	w.err = errClosed
	return err
}

// ReadFile decodes every event in the event file at path, verifying both
// CRCs of every record; a mismatch or truncation is an error naming the
// record's byte offset. A file larger than MaxEventFileSize is refused
// before it is read.
func ReadFile(path string) ([]Event, error) {
	if st, err := os.Stat(path); err == nil && st.Size() > MaxEventFileSize {
		return nil, fmt.Errorf("summary: %s is %d bytes, more than the %d this reader accepts", path, st.Size(), MaxEventFileSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	recs, err := splitRecords(b)
	if err != nil {
		return nil, fmt.Errorf("summary: %s: %v", path, err)
	}
	events := make([]Event, len(recs))
	for i, r := range recs {
		if events[i], err = unmarshalEvent(r); err != nil {
			return nil, fmt.Errorf("summary: %s: event %d: %v", path, i, err)
		}
	}
	return events, nil
}
