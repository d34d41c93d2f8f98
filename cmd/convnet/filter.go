package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/imagefilter"
	"github.com/convnet-go/convnet/imageio"
)

func init() {
	register(command{
		name:    "filter",
		summary: "convolve images with blur, sharpen, edge, sobel, … kernels",
		run:     runFilter,
	})
}

// filterKernelSpecs collects the --kernel flags (see imagefilter.Resolve).
type filterKernelSpecs []string

func (k *filterKernelSpecs) String() string     { return strings.Join(*k, " ") }
func (k *filterKernelSpecs) Set(v string) error { *k = append(*k, v); return nil }

const filterUsageText = `usage: convnet filter [flags] IMAGE…

Convolves each image (PNG, JPEG, GIF, BMP, TIFF, WebP) with each kernel and
writes DIR/<base>_<kernel>.png for every kernel and DIR/<base>_grid.png, the
original and all results side by side. The default kernels are the
lecture's five: blur, sharpen, edge, top_sobel, emboss.

--kernel takes built-in names separated by commas, a kernel of any size
written row by row ("0,-1,0;-1,5,-1;0,-1,0"), or @FILE holding one in the
same syntax; repeat it to add more. Built-in kernels (box:N and
gaussian:N:SIGMA take sizes):
  %s

flags:
`

func runFilter(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("filter", stderr)
	var specs filterKernelSpecs
	fs.Var(&specs, "kernel", "kernels: `NAMES`, a matrix \"a,b;c,d\" or @FILE (repeatable; default the lecture's five)")
	gray := fs.Bool("gray", false, "convert to gray (tf.image.rgb_to_grayscale) and convolve one channel")
	mix := fs.Bool("mix-channels", false, "the lecture's [KH,KW,3,3] RGB filter, which sums the colour channels")
	abs := fs.Bool("abs", false, "show |value|, so negative responses (sobel, edge) are bright too")
	stride := fs.Int("stride", 1, "step of the window in both directions")
	padding := fs.String("padding", "SAME", "SAME (output ⌈H/S⌉) or VALID (⌈(H−K+1)/S⌉)")
	maxPixels := fs.Int64("max-pixels", imageio.DefaultMaxPixels, "refuse images whose header claims more pixels than this")
	gridTile := fs.Int("grid-tile", 512, "longest side of each image in the grid, in pixels (0: full size)")
	outDir := fs.String("o", ".", "output `DIR` (not a symbolic link)")
	overwrite := fs.Bool("overwrite", false, "replace output files that already exist")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), filterUsageText, strings.Join(imagefilter.Names(), ", "))
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("no images given; usage: convnet filter [flags] IMAGE…")
	}
	if *stride < 1 {
		return usageErrorf("--stride %d: want 1 or more", *stride)
	}
	if p := strings.ToUpper(*padding); p != "SAME" && p != "VALID" {
		return usageErrorf("--padding %q: want SAME or VALID", *padding)
	}
	if *maxPixels < 1 {
		return usageErrorf("--max-pixels %d: want 1 or more", *maxPixels)
	}
	if *gridTile < 0 {
		return usageErrorf("--grid-tile %d: want 0 (full size) or more", *gridTile)
	}
	if *gray && *mix {
		return usageErrorf("--gray and --mix-channels exclude each other: gray mode has one channel to mix")
	}
	if len(specs) == 0 {
		specs = imagefilter.Lecture()
	}
	kernels, err := imagefilter.Resolve(specs...)
	if err != nil {
		return badInput(err)
	}
	opts := imagefilter.Options{Gray: *gray, MixChannels: *mix, Abs: *abs, Stride: *stride, Padding: *padding}

	// Check every input's header before writing anything.
	bases := map[string]string{}
	for _, path := range fs.Args() {
		if _, err := imageio.CheckFile(path, *maxPixels); err != nil {
			return badInput(err)
		}
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if prev, ok := bases[base]; ok {
			return badInput(fmt.Errorf("%s and %s would both write %s_*.png", prev, path, base))
		}
		bases[base] = path
	}
	if err := filterCheckTargets(*outDir, bases, kernels, *overwrite); err != nil {
		return badInput(err)
	}
	created, err := filterCheckOutDir(*outDir)
	if err != nil {
		return badInput(err)
	}

	// BestSpeed: on a 4000x3000 JPEG it cut this command's CPU time from
	// 26.6 to 14.4 s (PNG encoding dominated) for files 3% larger.
	out := &filterOutputs{dir: *outDir, created: created, enc: png.Encoder{CompressionLevel: png.BestSpeed}}
	defer out.discard()
	for _, path := range fs.Args() {
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if err := filterOne(path, base, kernels, opts, *maxPixels, *gridTile, out); err != nil {
			return err
		}
	}
	if err := out.commit(); err != nil {
		return err
	}
	for _, f := range out.done {
		fmt.Fprintf(stdout, "wrote %s (%dx%d)\n", f.final, f.size.X, f.size.Y)
	}
	return nil
}

// filterOne filters the image at path with kernels, streaming each result
// into DIR/<base>_<kernel>.png, then builds the grid from thumbnails of the
// written files, decoded one at a time: memory stays bounded by the image,
// whatever the number or size of the kernels.
func filterOne(path, base string, kernels []imagefilter.Kernel, opts imagefilter.Options, maxPixels int64, gridTile int, out *filterOutputs) error {
	img, _, err := imageio.ReadFile(path, maxPixels)
	if err != nil {
		return badInput(err)
	}
	ks := kernels
	var grayPNG bytes.Buffer
	ws := make([]io.Writer, 0, len(kernels)+1)
	if opts.Gray {
		// The grid shows the gray image the kernels saw: the identity
		// result, computed with the others so their grouping is unchanged.
		id, _ := imagefilter.Builtin("identity")
		ks = append([]imagefilter.Kernel{id}, kernels...)
		ws = append(ws, &grayPNG)
	}
	files := make([]*filterOutFile, len(kernels))
	for i, k := range kernels {
		f, err := out.create(base + "_" + k.Name + ".png")
		if err != nil {
			return err
		}
		files[i] = f
		ws = append(ws, f.w)
	}
	if err := imagefilter.WritePNGs(img, ks, opts, ws, out.enc.CompressionLevel); err != nil {
		return badInput(fmt.Errorf("%s: %w", path, err))
	}
	if err := out.closeAll(); err != nil {
		return err
	}
	original := imagefilter.Fit(img, gridTile)
	if opts.Gray {
		g, err := png.Decode(&grayPNG)
		if err != nil {
			return fmt.Errorf("%s: re-reading the gray image: %v", path, err)
		}
		original = imagefilter.Fit(g, gridTile)
	}
	img = nil // the thumbnails below need only one result at a time
	thumbs := make([]image.Image, len(kernels))
	labels := make([]string, len(kernels))
	for i, f := range files {
		r, err := decodePNGFile(f.tmp)
		if err != nil {
			return err
		}
		f.size = r.Bounds().Size()
		thumbs[i] = imagefilter.Fit(r, gridTile)
		labels[i] = kernels[i].Name
	}
	return out.write(base+"_grid.png", imagefilter.Grid(original, thumbs, labels))
}

// decodePNGFile decodes a PNG this command wrote.
func decodePNGFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("re-reading %s: %v", path, err)
	}
	return img, nil
}

// filterCheckTargets refuses an output directory that is a symbolic link
// (the files would land in its target, wherever that is) and, unless
// overwrite, any output file that already exists, before anything is
// written.
func filterCheckTargets(dir string, bases map[string]string, kernels []imagefilter.Kernel, overwrite bool) error {
	if st, err := os.Lstat(dir); err == nil && st.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(dir)
		return fmt.Errorf("output directory %s is a symbolic link to %s: give the directory itself", dir, target)
	}
	if overwrite {
		return nil
	}
	for base := range bases {
		names := []string{base + "_grid.png"}
		for _, k := range kernels {
			names = append(names, base+"_"+k.Name+".png")
		}
		for _, n := range names {
			p := filepath.Join(dir, n)
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s already exists: pass --overwrite to replace it, or choose another -o", p)
			}
		}
	}
	return nil
}

// filterCheckOutDir creates dir if needed (reporting whether it did) and makes
// sure a file can be created in it.
func filterCheckOutDir(dir string) (created bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("output directory: %v", err)
	}
	f, err := os.CreateTemp(dir, ".convnet-filter-probe-*")
	if err != nil {
		if created {
			os.Remove(dir)
		}
		return false, fmt.Errorf("output directory %s is not writable: %v", dir, err)
	}
	name := f.Name()
	f.Close()
	return created, os.Remove(name)
}

// filterOutputs writes PNGs to temporary files in dir and renames them into
// place only when the whole run has succeeded (commit); discard removes
// whatever this run wrote otherwise.
type filterOutputs struct {
	dir     string
	created bool             // dir did not exist before this run
	temp    []*filterOutFile // written, not yet renamed
	done    []*filterOutFile // renamed into place
	open    []*filterOutFile // created, being written
	ok      bool             // commit succeeded
	enc     png.Encoder
}

type filterOutFile struct {
	tmp, final string
	size       image.Point
	file       *os.File
	w          *bufio.Writer // buffers writes to file
}

// create opens a temporary file for name; write to its w, then closeAll.
func (o *filterOutputs) create(name string) (*filterOutFile, error) {
	f, err := os.CreateTemp(o.dir, "."+name+".tmp-*")
	if err != nil {
		return nil, err
	}
	of := &filterOutFile{tmp: f.Name(), final: filepath.Join(o.dir, name), file: f, w: bufio.NewWriterSize(f, 1<<16)}
	o.temp = append(o.temp, of)
	o.open = append(o.open, of)
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return nil, err
	}
	return of, nil
}

// closeAll flushes and closes the files create opened.
func (o *filterOutputs) closeAll() error {
	var first error
	for _, f := range o.open {
		err := f.w.Flush()
		if cerr := f.file.Close(); err == nil {
			err = cerr
		}
		if err != nil && first == nil {
			first = fmt.Errorf("writing %s: %v", f.final, err)
		}
	}
	o.open = nil
	return first
}

func (o *filterOutputs) write(name string, img image.Image) error {
	f, err := os.CreateTemp(o.dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	o.temp = append(o.temp, &filterOutFile{tmp: f.Name(), final: filepath.Join(o.dir, name), size: img.Bounds().Size()})
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		f.Close()
		return err
	}
	if err := o.enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %v", name, err)
	}
	return nil
}

// commit renames every temporary file to its final name.
func (o *filterOutputs) commit() error {
	for len(o.temp) > 0 {
		f := o.temp[0]
		if err := os.Rename(f.tmp, f.final); err != nil {
			return err
		}
		o.temp = o.temp[1:]
		o.done = append(o.done, f)
	}
	o.ok = true
	return nil
}

// discard undoes a run that did not commit: it removes the temporary
// files, the files a failed commit already renamed, and the output
// directory if this run created it (and it is empty).
func (o *filterOutputs) discard() {
	if o.ok {
		return
	}
	o.closeAll()
	for _, f := range o.temp {
		os.Remove(f.tmp)
	}
	for _, f := range o.done {
		os.Remove(f.final)
	}
	if o.created {
		os.Remove(o.dir)
	}
}
