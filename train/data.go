package train

import (
	"errors"
	"fmt"
	"io"

	"github.com/convnet-go/convnet/data/mnist"
)

// The lecture's split of MNIST's 60,000 training images.
const (
	TrainExamples = 55000
	SplitSeed     = 20170701 // fixed: the validation set never changes with --seed
)

// LoadData fetches MNIST into dir when it is missing (mnist.Ensure,
// logging to log), loads it and splits the training images 55,000 train /
// 5,000 validation with SplitSeed. trainSubset > 0 keeps only that many
// training images; testSubset > 0 keeps only that many test and
// validation images. Files that are present but not valid MNIST data
// give a *ConfigError (bad input, not a failed fetch).
func LoadData(dir string, log io.Writer, trainSubset, testSubset int) (Data, error) {
	if trainSubset < 0 || testSubset < 0 {
		return Data{}, configErrorf("subset sizes must not be negative, got %d and %d", trainSubset, testSubset)
	}
	if err := mnist.Ensure(dir, log); err != nil {
		if errors.Is(err, mnist.ErrBadData) {
			return Data{}, &ConfigError{Err: err}
		}
		return Data{}, fmt.Errorf("getting MNIST: %w", err)
	}
	full, test, err := mnist.Load(dir)
	if errors.Is(err, mnist.ErrBadData) {
		return Data{}, &ConfigError{Err: err}
	}
	if err != nil {
		return Data{}, err
	}
	tr, val := full.Split(TrainExamples, SplitSeed)
	if trainSubset > 0 {
		tr = tr.Subset(trainSubset)
	}
	if testSubset > 0 {
		test = test.Subset(testSubset)
		val = val.Subset(testSubset)
	}
	return Data{Train: tr, Validation: val, Test: test}, nil
}
