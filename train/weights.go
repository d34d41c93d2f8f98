package train

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/checkpoint"
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
	if err := writeFileAtomic(path, func(f *os.File) error { return checkpoint.Write(f, w, meta) }); err != nil {
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

// writeFileAtomic writes path through a temporary file in its directory:
// write, fsync, rename, fsync of the directory, so a crash leaves the old
// file or the new one, never a part. The file is 0644, as checkpoints are.
func writeFileAtomic(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
