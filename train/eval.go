package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// Evaluation is a model's score on a set, with dropout off.
type Evaluation struct {
	N        int     // examples
	Correct  int     // examples whose argmax logit is the label
	Accuracy float64 // Correct / N
	Loss     float64 // mean softmax cross-entropy
	// Confusion[label][predicted] counts examples.
	Confusion [models.Classes][models.Classes]int
	// Mistakes are the first MaxMistakes misclassified examples, in set order.
	Mistakes []Mistake
}

// Evaluate runs m over s in batches of batchSize (in order, dropout off)
// and scores the predictions.
func Evaluate(m *layers.Sequential, s *mnist.Set, batchSize int) (Evaluation, error) {
	var ev Evaluation
	if batchSize < 1 {
		return ev, fmt.Errorf("train: eval batch size must be at least 1, got %d", batchSize)
	}
	b := mnist.NewBatches(s, batchSize, 0, 0, false)
	defer b.Close()
	var lossSum float64
	for {
		x, labels, ok := b.Next()
		if !ok {
			break
		}
		logits := m.Call(autograd.Constant(x), layers.Context{})
		loss := autograd.SparseSoftmaxCrossEntropyWithLogits(labels, logits)
		if err := loss.Err(); err != nil {
			return ev, fmt.Errorf("train: evaluating: %w", err)
		}
		for _, l := range loss.Value().Data() {
			lossSum += float64(l)
		}
		lg := logits.Value()
		c := lg.Dim(1)
		for i, y := range labels {
			p := argmax(lg.Data()[i*c : (i+1)*c])
			if y >= 0 && y < models.Classes && p < models.Classes {
				ev.Confusion[y][p]++
			}
			if p == y {
				ev.Correct++
			} else if len(ev.Mistakes) < MaxMistakes {
				ev.Mistakes = append(ev.Mistakes, Mistake{Index: ev.N + i, Label: y, Predicted: p})
			}
		}
		ev.N += len(labels)
		autograd.Release(loss) // the next batch reuses its memory
	}
	if err := b.Err(); err != nil {
		return ev, err
	}
	if ev.N > 0 {
		ev.Accuracy = float64(ev.Correct) / float64(ev.N)
		ev.Loss = lossSum / float64(ev.N)
	}
	return ev, nil
}

// WriteConfusion prints the confusion matrix with true labels as rows
// and predictions as columns, and each row's recall.
func (ev Evaluation) WriteConfusion(w io.Writer) error {
	var sb strings.Builder
	sb.WriteString("true\\pred")
	for p := range models.Classes {
		fmt.Fprintf(&sb, "%6d", p)
	}
	sb.WriteString("  recall\n")
	for y := range models.Classes {
		fmt.Fprintf(&sb, "%9d", y)
		total := 0
		for p := range models.Classes {
			fmt.Fprintf(&sb, "%6d", ev.Confusion[y][p])
			total += ev.Confusion[y][p]
		}
		if total > 0 {
			fmt.Fprintf(&sb, "  %.4f\n", float64(ev.Confusion[y][y])/float64(total))
		} else {
			sb.WriteString("       -\n")
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// Prediction is a class and its probability.
type Prediction struct {
	Class       int     `json:"class"`
	Probability float64 `json:"probability"`
}

// Predict returns, for each [28·28] image in [0, 1] (white digit on
// black, as MNIST), the k most probable classes, most probable first.
func Predict(m *layers.Sequential, images [][]float32, k int) ([][]Prediction, error) {
	if len(images) == 0 {
		return nil, nil
	}
	const px = models.ImageSize * models.ImageSize
	flat := make([]float32, 0, len(images)*px)
	for i, img := range images {
		if len(img) != px {
			return nil, fmt.Errorf("train: image %d has %d values, want %d (28×28)", i, len(img), px)
		}
		flat = append(flat, img...)
	}
	x, err := tensor.New([]int{len(images), models.ImageSize, models.ImageSize, 1}, flat)
	if err != nil {
		return nil, err
	}
	probs := autograd.Softmax(m.Call(autograd.Constant(x), layers.Context{}))
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("train: predicting: %w", err)
	}
	c := probs.Value().Dim(1)
	k = min(max(k, 1), c)
	out := make([][]Prediction, len(images))
	for i := range images {
		row := probs.Value().Data()[i*c : (i+1)*c]
		used := make([]bool, c)
		for range k {
			best := -1
			for j, p := range row {
				if !used[j] && (best < 0 || p > row[best]) {
					best = j
				}
			}
			used[best] = true
			out[i] = append(out[i], Prediction{Class: best, Probability: float64(row[best])})
		}
	}
	return out, nil
}

// resolveCheckpoint turns a checkpoint file or directory into a file.
func resolveCheckpoint(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if !st.IsDir() {
		return path, nil
	}
	p, err := checkpoint.Latest(path)
	if err != nil {
		return "", fmt.Errorf("no checkpoint in %s: %w", path, err)
	}
	return p, nil
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
