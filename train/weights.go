package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/internal/atomicfile"
	"github.com/convnet-go/convnet/tensor"
)

// saveWeights keeps the model's weights under name (see Control.SaveWeights).
func (t *trainer) saveWeights(name string) (string, error) {
	w := t.model.Weights()
	if t.cfg.CheckpointDir == "" {
		if t.kept == nil {
			t.kept = map[string]map[string]*tensor.Tensor{}
		}
		// Weights are the model's live tensors: keep copies, or the next
		// step would change what was kept.
		kept := make(map[string]*tensor.Tensor, len(w))
		for k, v := range w {
			kept[k] = v.Clone()
		}
		t.kept[name] = kept
		return "", nil
	}
	if err := os.MkdirAll(t.cfg.CheckpointDir, 0o755); err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	path := filepath.Join(t.cfg.CheckpointDir, name+".safetensors")
	meta := t.meta()
	if err := atomicfile.Write(path, func(f io.Writer) error { return checkpoint.Write(f, w, meta) }); err != nil {
		return "", fmt.Errorf("train: saving %s: %w", path, err)
	}
	return path, nil
}

// restoreWeights loads what saveWeights kept under name.
func (t *trainer) restoreWeights(name string) error {
	w := t.kept[name]
	if t.cfg.CheckpointDir != "" {
		path := filepath.Join(t.cfg.CheckpointDir, name+".safetensors")
		tensors, _, err := checkpoint.Load(path)
		if err != nil {
			return fmt.Errorf("train: restoring %s: %w", path, err)
		}
		w = tensors
	}
	if w == nil {
		return fmt.Errorf("train: no weights kept under %q", name)
	}
	return t.model.SetWeights(w)
}
