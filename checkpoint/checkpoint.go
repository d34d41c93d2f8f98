// Package checkpoint saves and restores named float32 tensors as
// safetensors files, one file per step, with a small `checkpoint` index
// naming the latest file and the ones retained (the role and the text
// format of TensorFlow's index file).
//
// Saving is crash-safe: each file is written to a temporary file in the
// same directory, fsynced, renamed into place and the directory fsynced;
// the index is replaced the same way, only after the new checkpoint is in
// place; older checkpoints beyond `keep` are deleted last. A crash at any
// point leaves the previous index naming a complete file.
//
// Only the F32 dtype is read or written.
package checkpoint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/internal/atomicfile"
	"github.com/convnet-go/convnet/tensor"
)

// IndexFile is the name of the index in a checkpoint directory. It holds
// lines in TensorFlow's text form, names relative to the directory:
//
//	model_checkpoint_path: "ckpt-300.safetensors"
//	all_model_checkpoint_paths: "ckpt-200.safetensors"
//	all_model_checkpoint_paths: "ckpt-300.safetensors"
//
// The first line names the latest checkpoint; the others list all
// retained ones, oldest first. Every name must be a plain file name in
// the directory: an absolute path or one with a directory part is refused.
const IndexFile = "checkpoint"

// FileName returns the base name Save uses for step: "ckpt-<step>.safetensors".
func FileName(step int64) string {
	return "ckpt-" + strconv.FormatInt(step, 10) + ".safetensors"
}

// Save writes tensors and meta to dir/ckpt-<step>.safetensors (creating
// dir if needed), makes it the latest in the index and deletes the oldest
// retained checkpoints so that at most keep remain (keep ≤ 0 keeps all).
// Saving a step already in the index replaces that file and moves it to
// the end. It returns the path written. On error the previous checkpoint
// and index are left as they were.
func Save(dir string, step int64, tensors map[string]*tensor.Tensor, meta map[string]string, keep int) (path string, err error) {
	if step < 0 {
		return "", fmt.Errorf("checkpoint: step %d, want ≥ 0", step)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %v", err)
	}
	if err := check(tensors, meta); err != nil {
		return "", err
	}
	var retained []string
	if _, all, err := readIndex(dir); err == nil {
		retained = all
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	name := FileName(step)
	path = filepath.Join(dir, name)
	err = writeAtomic(dir, name, func(w io.Writer) error { return Write(w, tensors, meta) })
	if err != nil {
		return "", err
	}
	kept := make([]string, 0, len(retained)+1)
	for _, r := range retained {
		if r != name {
			kept = append(kept, r)
		}
	}
	kept = append(kept, name)
	var drop []string
	if keep > 0 && len(kept) > keep {
		drop, kept = kept[:len(kept)-keep], kept[len(kept)-keep:]
	}
	if err := writeIndex(dir, kept); err != nil {
		return "", err
	}
	for _, d := range drop {
		if !ownName(d) {
			continue // never delete what Save did not name itself
		}
		if err := os.Remove(filepath.Join(dir, d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return path, fmt.Errorf("checkpoint: pruning: %v", err)
		}
	}
	return path, nil
}

// ownName reports whether name has the form FileName gives, with no
// directory part.
func ownName(name string) bool {
	num, ok := strings.CutPrefix(name, "ckpt-")
	num, ok2 := strings.CutSuffix(num, ".safetensors")
	_, err := strconv.ParseInt(num, 10, 64)
	return ok && ok2 && err == nil
}

// Latest returns the path of the newest checkpoint named by dir's index.
// With no index (a fresh directory) the error wraps fs.ErrNotExist; an
// index naming a file that is gone is a different error, since resuming
// from scratch would then silently lose training.
func Latest(dir string) (string, error) {
	latest, _, err := readIndex(dir)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, latest)
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("checkpoint: index %s names %s, which cannot be read: %v",
			filepath.Join(dir, IndexFile), p, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("checkpoint: index %s names %s, which is %s, not a checkpoint file",
			filepath.Join(dir, IndexFile), p, fileKind(st))
	}
	return p, nil
}

// Retained returns the paths of the checkpoints dir's index lists, oldest
// first; the last is the one Latest names.
func Retained(dir string) ([]string, error) {
	latest, all, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range all {
		if a != latest {
			out = append(out, filepath.Join(dir, a))
		}
	}
	return append(out, filepath.Join(dir, latest)), nil
}

// fileKind names what a non-regular file is, for messages. Both callers
// stat through symbolic links, so a link is never what they see.
func fileKind(st fs.FileInfo) string {
	if st.IsDir() {
		return "a directory"
	}
	return "not a regular file"
}

// CheckFinite returns an error naming the first tensor (in name order)
// that holds a NaN or an infinity, with the index and value of the first
// such element. A model with such weights gives NaN outputs whatever its
// input, so commands that evaluate, serve or export weights call it first.
func CheckFinite(tensors map[string]*tensor.Tensor) error {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for i, v := range tensors[name].Data() {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("checkpoint: tensor %q holds %v at index %d of %d; want finite weights", name, v, i, len(tensors[name].Data()))
			}
		}
	}
	return nil
}

// RemoveTemp deletes the temporary files a save interrupted by a crash or
// kill -9 left in dir (".ckpt-N.safetensors.tmp-*" and
// ".checkpoint.tmp-*"; nothing else) and returns their names. Call it only
// while no other process writes to dir (see train's directory lock).
func RemoveTemp(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %v", err)
	}
	var removed []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), atomicfile.Prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		base, _, ok := strings.Cut(name, atomicfile.Infix)
		if !ok || base != IndexFile && !ownName(base) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("checkpoint: removing a stale temporary file: %v", err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// Load reads the safetensors file at path; see Read for the checks.
func Load(path string) (tensors map[string]*tensor.Tensor, meta map[string]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("checkpoint: %s is %s, not a checkpoint file", path, fileKind(st))
	}
	tensors, meta, err = Read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return tensors, meta, nil
}

// readIndex parses dir's index, returning the latest name and all
// retained names. A missing index gives an error wrapping fs.ErrNotExist.
func readIndex(dir string) (latest string, all []string, err error) {
	p := filepath.Join(dir, IndexFile)
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("checkpoint: no checkpoint in %s (no %s file): %w", dir, IndexFile, fs.ErrNotExist)
		}
		return "", nil, fmt.Errorf("checkpoint: %v", err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		name, uerr := strconv.Unquote(strings.TrimSpace(val))
		if !ok || uerr != nil || name == "" {
			return "", nil, fmt.Errorf("checkpoint: %s line %d: %q, want key: \"name\"", p, i+1, line)
		}
		if name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return "", nil, fmt.Errorf("checkpoint: %s line %d names %q; want a plain file name in %s", p, i+1, name, dir)
		}
		switch key {
		case "model_checkpoint_path":
			latest = name
		case "all_model_checkpoint_paths":
			all = append(all, name)
		default:
			return "", nil, fmt.Errorf("checkpoint: %s line %d: unknown key %q", p, i+1, key)
		}
	}
	if latest == "" {
		return "", nil, fmt.Errorf("checkpoint: %s names no model_checkpoint_path", p)
	}
	return latest, all, nil
}

// writeIndex replaces dir's index: latest is the last of retained.
func writeIndex(dir string, retained []string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "model_checkpoint_path: %s\n", strconv.Quote(retained[len(retained)-1]))
	for _, r := range retained {
		fmt.Fprintf(&b, "all_model_checkpoint_paths: %s\n", strconv.Quote(r))
	}
	return writeAtomic(dir, IndexFile, func(w io.Writer) error {
		_, err := w.Write(b.Bytes())
		return err
	})
}

// writeAtomic writes dir/name with atomicfile.Write: on any error
// dir/name is untouched.
func writeAtomic(dir, name string, write func(io.Writer) error) error {
	if err := atomicfile.Write(filepath.Join(dir, name), write); err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	return nil
}
