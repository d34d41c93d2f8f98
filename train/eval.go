package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// Evaluation is a model's score on a set, with dropout off.
type Evaluation struct {
	N        int     // examples
	Correct  int     // examples whose argmax logit is the label
	Accuracy float64 // Correct / N
	// Loss is the mean softmax cross-entropy plus the model's
	// regularization penalties (Σ Losses()), as Keras's evaluate reports.
	Loss float64
	// Classes names the labels (the dataset's class names).
	Classes []string
	// Confusion[label][predicted] counts examples; it is K×K for the
	// dataset's K classes.
	Confusion [][]int
	// Mistakes are the first MaxMistakes misclassified examples, in set order.
	Mistakes []Mistake
}

// Evaluate runs m over ds in batches of batchSize (in order, dropout off)
// and scores the predictions, with the images as ds gives them.
func Evaluate(m layers.Network, ds data.Dataset, batchSize int) (Evaluation, error) {
	return EvaluateWith(m, ds, batchSize, nil)
}

// EvaluateWith is Evaluate with each image normalised by norm first (nil:
// none), as the model saw the training images.
func EvaluateWith(m layers.Network, ds data.Dataset, batchSize int, norm *data.Normalization) (Evaluation, error) {
	return evaluate(m, ds, batchSize, norm, false)
}

// evaluate scores m on ds; skipBad leaves out unreadable examples.
func evaluate(m layers.Network, ds data.Dataset, batchSize int, norm *data.Normalization, skipBad bool) (Evaluation, error) {
	var ev Evaluation
	if batchSize < 1 {
		return ev, fmt.Errorf("train: eval batch size must be at least 1, got %d", batchSize)
	}
	if data.Len(ds) == 0 {
		return ev, nil
	}
	k := len(ds.Classes())
	ev.Classes = ds.Classes()
	ev.Confusion = make([][]int, k)
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, k)
	}
	penalty, err := penalties(m)
	if err != nil {
		return ev, err
	}
	b := data.NewBatches(ds, data.BatchOptions{BatchSize: batchSize, Normalize: norm, SkipBad: skipBad}, 0)
	defer b.Close()
	var lossSum float64
	for {
		x, labels, ok := b.Next()
		if !ok {
			break
		}
		if len(labels) == 0 {
			continue
		}
		out, err := layers.Predict(m, x, 0)
		if err != nil {
			return ev, fmt.Errorf("train: evaluating: %w", err)
		}
		logits := autograd.Constant(out)
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
			if y >= 0 && y < k && p < k {
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
		ev.Loss = lossSum/float64(ev.N) + penalty
	}
	return ev, nil
}

// penalties returns the value of Σ m.Losses() (0 without regularizers).
func penalties(m layers.Network) (float64, error) {
	var sum float64
	for _, p := range m.Losses() {
		if err := p.Err(); err != nil {
			return 0, fmt.Errorf("train: regularization penalty: %w", err)
		}
		sum += float64(p.Value().Data()[0])
		autograd.Release(p)
	}
	return sum, nil
}

// layerNamed returns m's layer of that name (a Sequential's, or a
// functional Model's), or nil.
func layerNamed(m layers.Network, name string) any {
	switch m := Raw(m).(type) {
	case *layers.Sequential:
		return m.Layer(name)
	case *layers.Model:
		for _, l := range m.Layers() {
			if n, ok := l.(interface{ Name() string }); ok && n.Name() == name {
				return l
			}
		}
	}
	return nil
}

// WriteConfusion prints the confusion matrix with true labels as rows
// and predictions as columns, and each row's recall.
func (ev Evaluation) WriteConfusion(w io.Writer) error {
	var sb strings.Builder
	k := len(ev.Confusion)
	sb.WriteString("true\\pred")
	for p := range k {
		fmt.Fprintf(&sb, "%6d", p)
	}
	sb.WriteString("  recall\n")
	for y := range k {
		fmt.Fprintf(&sb, "%9d", y)
		total := 0
		for p := range k {
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
	Label       string  `json:"label,omitempty"` // the class's name, when known
	Probability float64 `json:"probability"`
}

// Predict returns, for each [28·28] image in [0, 1] (white digit on
// black, as MNIST), the k most probable classes, most probable first.
func Predict(m layers.Network, images [][]float32, k int) ([][]Prediction, error) {
	return PredictImages(m, images, DataInfo{Shape: data.Shape{H: models.ImageSize, W: models.ImageSize, C: 1}}, k)
}

// PredictImages is Predict for a model that takes info.Shape images
// (HWC, H·W·C values in [0, 1] each): every image is normalised with
// info.Normalize first, as in training, and predictions carry the class
// names of info.Classes.
func PredictImages(m layers.Network, images [][]float32, info DataInfo, k int) ([][]Prediction, error) {
	if len(images) == 0 {
		return nil, nil
	}
	sh := info.Shape
	px := sh.Size()
	flat := make([]float32, 0, len(images)*px)
	for i, img := range images {
		if len(img) != px {
			return nil, fmt.Errorf("train: image %d has %d values, want %d (%v)", i, len(img), px, sh)
		}
		flat = append(flat, img...)
		if info.Normalize != nil {
			info.Normalize.Apply(flat[len(flat)-px:])
		}
	}
	x, err := tensor.New([]int{len(images), sh.H, sh.W, sh.C}, flat)
	if err != nil {
		return nil, err
	}
	logits, err := layers.Predict(m, x, 0)
	if err != nil {
		return nil, fmt.Errorf("train: predicting: %w", err)
	}
	probs := autograd.Softmax(autograd.Constant(logits))
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
			p := Prediction{Class: best, Probability: float64(row[best])}
			if best < len(info.Classes) {
				p.Label = info.Classes[best]
			}
			out[i] = append(out[i], p)
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

// ClassScore is one class's precision, recall and F1 from a confusion
// matrix: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 their harmonic
// mean (0 when undefined, as scikit-learn's zero_division=0).
type ClassScore struct {
	Class                 string
	Support               int // examples of the class
	Precision, Recall, F1 float64
}

// PerClass returns every class's scores in label order.
func (ev Evaluation) PerClass() []ClassScore {
	k := len(ev.Confusion)
	out := make([]ClassScore, k)
	for c := range k {
		tp, row, col := ev.Confusion[c][c], 0, 0
		for j := range k {
			row += ev.Confusion[c][j]
			col += ev.Confusion[j][c]
		}
		s := ClassScore{Class: fmt.Sprint(c), Support: row}
		if c < len(ev.Classes) {
			s.Class = ev.Classes[c]
		}
		if col > 0 {
			s.Precision = float64(tp) / float64(col)
		}
		if row > 0 {
			s.Recall = float64(tp) / float64(row)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[c] = s
	}
	return out
}

// WriteReport prints PerClass as a table with the macro averages.
func (ev Evaluation) WriteReport(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-5s %-14s %9s %9s %9s %8s\n", "label", "class", "precision", "recall", "f1", "support")
	var p, r, f float64
	scores := ev.PerClass()
	for i, s := range scores {
		fmt.Fprintf(&sb, "%-5d %-14s %9.4f %9.4f %9.4f %8d\n", i, s.Class, s.Precision, s.Recall, s.F1, s.Support)
		p, r, f = p+s.Precision, r+s.Recall, f+s.F1
	}
	if n := float64(len(scores)); n > 0 {
		fmt.Fprintf(&sb, "%-5s %-14s %9.4f %9.4f %9.4f %8d\n", "", "macro avg", p/n, r/n, f/n, ev.N)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
