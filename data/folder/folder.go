// Package folder reads a directory of labelled images laid out one
// subfolder per class, the layout of Keras' image_dataset_from_directory:
//
//	DIR/cat/001.png
//	DIR/cat/002.jpg
//	DIR/dog/a.webp
//
// Class names are the subfolder names in sorted order and a class's label
// is its index. Files are listed once (sorted, dotfiles ignored) and
// decoded on demand by Example, so a folder larger than memory streams
// through data.Batches' workers. PNG, JPEG, GIF, BMP, TIFF and WebP are
// decoded by imageio, each header held to a pixel limit first; every image is converted to gray or RGB and resized to the
// dataset's shape with bilinear interpolation (data.Resize).
//
// Nested folders below a class folder are not searched.
package folder

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/imageio"
)

// DefaultMaxPixels bounds the width·height an image header may claim.
const DefaultMaxPixels = 50_000_000

// Options configure Open.
type Options struct {
	// H, W are the size every image is resized to; 0 takes the first
	// image's size.
	H, W int
	// Channels is 1 (gray) or 3 (RGB); 0 takes 1 when the first image is
	// gray (a Gray or Gray16 model) and 3 otherwise.
	Channels int
	// MaxPixels refuses images whose header claims more pixels
	// (default DefaultMaxPixels).
	MaxPixels int64
}

// Dataset is a class-folder dataset; see the package doc.
type Dataset struct {
	dir       string
	files     []string // relative to dir: class/name
	labels    []int
	classes   []string
	shape     data.Shape
	maxPixels int64
}

// Open lists dir's class folders and files. An entry of dir that is not
// a folder, a class folder without any file, or fewer than two classes
// is an error naming it. The files are not decoded, except the first
// when the size or the channel count is left to it.
func Open(dir string, opt Options) (*Dataset, error) {
	if opt.H < 0 || opt.W < 0 || (opt.H == 0) != (opt.W == 0) {
		return nil, fmt.Errorf("folder: image size %dx%d, want both positive (or both 0 for the first image's size)", opt.H, opt.W)
	}
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, fmt.Errorf("folder: %d channels, want 1 (gray) or 3 (RGB)", opt.Channels)
	}
	if opt.MaxPixels <= 0 {
		opt.MaxPixels = DefaultMaxPixels
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	d := &Dataset{dir: dir, maxPixels: opt.MaxPixels}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !e.IsDir() {
			return nil, fmt.Errorf("folder: %s is a file; %s must hold only class folders (one subfolder of images per class)", filepath.Join(dir, e.Name()), dir)
		}
		d.classes = append(d.classes, e.Name())
	}
	sort.Strings(d.classes)
	if len(d.classes) < 2 {
		return nil, fmt.Errorf("folder: %s has %d class folders, want at least 2 (one subfolder of images per class)", dir, len(d.classes))
	}
	for label, class := range d.classes {
		files, err := os.ReadDir(filepath.Join(dir, class))
		if err != nil {
			return nil, fmt.Errorf("folder: %w", err)
		}
		n := 0
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".") || f.IsDir() {
				continue
			}
			d.files = append(d.files, filepath.Join(class, f.Name()))
			d.labels = append(d.labels, label)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("folder: class folder %s holds no image files", filepath.Join(dir, class))
		}
	}
	d.shape = data.Shape{H: opt.H, W: opt.W, C: opt.Channels}
	if opt.H == 0 || opt.Channels == 0 {
		img, err := d.decode(0)
		if err != nil {
			return nil, err
		}
		b := img.Bounds()
		if opt.H == 0 {
			d.shape.H, d.shape.W = b.Dy(), b.Dx()
		}
		if opt.Channels == 0 {
			d.shape.C = 3
			switch img.ColorModel() {
			case color.GrayModel, color.Gray16Model:
				d.shape.C = 1
			}
		}
	}
	return d, nil
}

// Len returns the number of image files.
func (d *Dataset) Len() int { return len(d.files) }

// Shape returns the size images are resized to.
func (d *Dataset) Shape() data.Shape { return d.shape }

// Classes returns the class folder names, sorted.
func (d *Dataset) Classes() []string { return d.classes }

// File returns the path of example i.
func (d *Dataset) File(i int) string { return filepath.Join(d.dir, d.files[i]) }

// Label returns the label of example i without decoding it.
func (d *Dataset) Label(i int) int { return d.labels[i] }

// Example decodes file i, converts and resizes it into dst. A file that
// is not a readable image gives an error naming it.
func (d *Dataset) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(d.files) {
		return 0, fmt.Errorf("folder: example %d of %d", i, len(d.files))
	}
	img, err := d.decode(i)
	if err != nil {
		return 0, err
	}
	Convert(dst, img, d.shape)
	return d.labels[i], nil
}

// decode reads file i with imageio.ReadFile, refusing headers that claim
// more than maxPixels, and an image whose decoded size differs from its
// header's (a GIF whose first frame does not cover its screen).
func (d *Dataset) decode(i int) (image.Image, error) {
	img, h, err := imageio.ReadFile(d.File(i), d.maxPixels)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	if b := img.Bounds(); b.Dx() != h.Width || b.Dy() != h.Height {
		return nil, fmt.Errorf("folder: %s: %s header says %dx%d, image is %dx%d", d.File(i), h.Format, h.Width, h.Height, b.Dx(), b.Dy())
	}
	return img, nil
}

// Convert writes img into dst as an HWC image of shape sh, values in
// [0, 1], converted by imageio.Pixels: gray as TensorFlow's
// rgb_to_grayscale weights it (0.2989 R + 0.5870 G + 0.1140 B) when sh.C
// is 1, RGB otherwise (gray copied to all three); alpha is ignored
// (colours are un-premultiplied). The image is resized with data.Resize
// when its size differs from sh.
func Convert(dst []float32, img image.Image, sh data.Shape) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h == sh.H && w == sh.W {
		imageio.Pixels(dst[:h*w*sh.C], img, sh.C)
		return
	}
	src := make([]float32, h*w*sh.C)
	imageio.Pixels(src, img, sh.C)
	data.Resize(dst, src, data.Shape{H: h, W: w, C: sh.C}, sh)
}
