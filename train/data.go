package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/cifar"
	"github.com/convnet-go/convnet/data/folder"
	"github.com/convnet-go/convnet/data/mnist"
)

// The lecture's split of MNIST's 60,000 training images.
const (
	TrainExamples = 55000
	SplitSeed     = 20170701 // fixed: the validation set never changes with --seed
)

// DefaultValidationFraction is the share of a class folder held out for
// validation.
const DefaultValidationFraction = 0.1

// Data is the run's data: training examples, the validation split and
// the test set (either may be nil), and the normalisation applied to
// every image the model sees (nil: images stay in [0, 1]).
type Data struct {
	Train, Validation, Test data.Dataset
	Normalize               *data.Normalization
	// Name says where the data came from ("mnist", "cifar:DIR", …).
	Name string
}

// DataOptions select a dataset for LoadDataset.
type DataOptions struct {
	// Dataset is "mnist" (also ""), "fashion-mnist", "cifar:DIR", or a
	// directory: one of IDX files named as MNIST's, or of class folders.
	Dataset string
	// Dir is the data directory: MNIST's cache (fetched there when
	// missing) and the second place Fashion-MNIST is looked for.
	Dir string
	// Log receives fetch progress (nil: discarded).
	Log io.Writer
	// TrainSubset > 0 keeps that many training examples; TestSubset > 0
	// that many validation and test examples.
	TrainSubset, TestSubset int
	// H, W, Channels size the images of a class folder (0: the first
	// image's); other datasets have their own fixed size.
	H, W, Channels int
	// ValidationFraction of a class folder is held out (default 0.1).
	ValidationFraction float64
	// Normalize is "auto" (also ""; per-channel for CIFAR and class
	// folders, none for IDX sets, which the lecture feeds as byte/255),
	// "on" or "off". The statistics come from the training split.
	Normalize string
	// SkipBad leaves unreadable images out of the normalisation
	// statistics instead of failing.
	SkipBad bool
}

// LoadData fetches MNIST into dir when it is missing (mnist.Ensure,
// logging to log), loads it and splits the training images 55,000 train /
// 5,000 validation with SplitSeed. trainSubset > 0 keeps only that many
// training images; testSubset > 0 keeps only that many test and
// validation images. Files that are present but not valid MNIST data
// give a *ConfigError (bad input, not a failed fetch).
func LoadData(dir string, log io.Writer, trainSubset, testSubset int) (Data, error) {
	return LoadDataset(DataOptions{Dataset: "mnist", Dir: dir, Log: log, TrainSubset: trainSubset, TestSubset: testSubset})
}

// LoadDataset loads and splits the dataset o names. IDX sets (MNIST,
// Fashion-MNIST, an IDX directory) hold out 1/12 of the training file
// (MNIST's 5,000 of 60,000; MNIST itself keeps its historical split),
// CIFAR-10 5,000 of 50,000, a class folder ValidationFraction; all with
// SplitSeed. Class folders have no test set.
func LoadDataset(o DataOptions) (Data, error) {
	if o.TrainSubset < 0 || o.TestSubset < 0 {
		return Data{}, configErrorf("subset sizes must not be negative, got %d and %d", o.TrainSubset, o.TestSubset)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.ValidationFraction == 0 {
		o.ValidationFraction = DefaultValidationFraction
	}
	if !(o.ValidationFraction > 0 && o.ValidationFraction < 1) {
		return Data{}, configErrorf("validation fraction must be in (0, 1), got %v", o.ValidationFraction)
	}
	normDefault := false
	var d Data
	spec := o.Dataset
	switch {
	case spec == "" || spec == "mnist":
		if err := mnist.Ensure(o.Dir, o.Log); err != nil {
			if errors.Is(err, mnist.ErrBadData) {
				return Data{}, &ConfigError{Err: err}
			}
			return Data{}, fmt.Errorf("getting MNIST: %w", err)
		}
		full, test, err := mnist.Load(o.Dir)
		if err != nil {
			return Data{}, badData(err)
		}
		tr, val := full.Split(TrainExamples, SplitSeed)
		d = Data{Train: tr, Validation: val, Test: test, Name: "mnist"}
	case spec == "fashion-mnist":
		dir, err := mnist.FindFashion(o.Dir)
		if err != nil {
			return Data{}, &ConfigError{Err: err}
		}
		if d, err = loadIDX(dir); err != nil {
			return Data{}, err
		}
		d.Train = renamed{d.Train, mnist.FashionClasses}
		d.Validation = renamed{d.Validation, mnist.FashionClasses}
		d.Test = renamed{d.Test, mnist.FashionClasses}
		d.Name = "fashion-mnist"
	case strings.HasPrefix(spec, "cifar:"):
		dir := strings.TrimPrefix(spec, "cifar:")
		full, test, err := cifar.Load(dir)
		if err != nil {
			return Data{}, &ConfigError{Err: err}
		}
		val, tr := data.Split(full, 5000, SplitSeed)
		d = Data{Train: tr, Validation: val, Test: test, Name: spec}
		normDefault = true
	default:
		st, err := os.Stat(spec)
		if err != nil || !st.IsDir() {
			return Data{}, configErrorf("dataset %q: want mnist, fashion-mnist, cifar:DIR, or a directory of IDX files or of class folders", spec)
		}
		if mnist.IsIDXDir(spec) {
			if d, err = loadIDX(spec); err != nil {
				return Data{}, err
			}
			d.Name = spec
			break
		}
		ds, err := folder.Open(spec, folder.Options{H: o.H, W: o.W, Channels: o.Channels})
		if err != nil {
			return Data{}, &ConfigError{Err: err}
		}
		nVal := max(1, int(float64(ds.Len())*o.ValidationFraction+0.5))
		val, tr := data.Split(ds, nVal, SplitSeed)
		d = Data{Train: tr, Validation: val, Name: spec}
		normDefault = true
	}
	if o.TrainSubset > 0 {
		d.Train = data.First(d.Train, o.TrainSubset)
	}
	if o.TestSubset > 0 {
		d.Validation = firstOrNil(d.Validation, o.TestSubset)
		d.Test = firstOrNil(d.Test, o.TestSubset)
	}
	switch o.Normalize {
	case "", "auto":
	case "on":
		normDefault = true
	case "off":
		normDefault = false
	default:
		return Data{}, configErrorf("normalize must be auto, on or off, got %q", o.Normalize)
	}
	if normDefault {
		n, err := data.ComputeNormalization(d.Train, o.SkipBad)
		if err != nil {
			return Data{}, err
		}
		d.Normalize = n
	}
	return d, nil
}

func firstOrNil(ds data.Dataset, n int) data.Dataset {
	if data.Len(ds) == 0 {
		return ds
	}
	return data.First(ds, n)
}

// loadIDX loads an IDX directory and holds out 1/12 of its training file.
func loadIDX(dir string) (Data, error) {
	full, test, err := mnist.LoadIDX(dir)
	if err != nil {
		return Data{}, badData(err)
	}
	val, tr := data.Split(full, full.Len()/12, SplitSeed)
	return Data{Train: tr, Validation: val, Test: test}, nil
}

// renamed replaces a dataset's class names.
type renamed struct {
	data.Dataset
	names []string
}

func (r renamed) Classes() []string { return r.names }

// badData turns files that are present but not valid IDX data into a
// *ConfigError (bad input, exit code 2); other errors pass unchanged.
func badData(err error) error {
	if errors.Is(err, mnist.ErrBadData) {
		return &ConfigError{Err: err}
	}
	return err
}
