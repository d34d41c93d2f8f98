package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTensorBoardCheck trains a tiny run and checks what the command
// reports of it, then feeds it bad arguments and a corrupted file.
func TestTensorBoardCheck(t *testing.T) {
	data := fakeMNIST(t, 40, 30)
	logdir := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := runCLI("train", "--data", data, "--logdir", logdir, "--epochs", "1", "--steps", "2",
		"--batch-size", "8", "--progress", "never"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	pngs := filepath.Join(t.TempDir(), "png")
	code, stdout, stderr := runCLI("tensorboard-check", "--save-images", pngs, logdir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"run .:", "run eval:", "run train:",
		"graph      75 nodes", "conv1/Conv2D  Conv2D  data/images,conv1/kernel  [-1,28,28,32]",
		"optimizer/Adam  NoOp",
		"confusion_matrix", "385×385 PNG", "feature_maps/conv1", "feature_maps/conv2",
		"session start: batch_size=8", "session end: success", "text       hparams",
		"scalar     accuracy",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, name := range []string{"eval_confusion_matrix.png", "eval_feature_maps_conv1.png", "train_conv1_kernels.png", "train_graph.png"} {
		if _, err := os.Stat(filepath.Join(pngs, name)); err != nil {
			t.Errorf("--save-images: %v", err)
		}
	}

	paths, _ := filepath.Glob(filepath.Join(logdir, "eval", "events.out.tfevents.*"))
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x55
	if err := os.WriteFile(paths[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"corrupt", []string{logdir}, "CRC mismatch"},
		{"no argument", nil, "want one log directory"},
		{"two arguments", []string{logdir, logdir}, "got 2 arguments"},
		{"missing", []string{filepath.Join(logdir, "nope")}, "no such file"},
		{"unknown flag", []string{"--graph", logdir}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"tensorboard-check"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}
