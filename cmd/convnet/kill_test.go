package main

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/train"
)

// buildConvnet builds the command into a temporary directory.
func buildConvnet(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "convnet")
	if out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// latestStep returns the global step of the latest checkpoint in dir
// (-1 when there is none yet), failing the test if the index names a
// file that does not load.
func latestStep(t *testing.T, dir string) int64 {
	t.Helper()
	p, err := checkpoint.Latest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return -1
	}
	if err != nil {
		t.Fatalf("after a kill: %v", err)
	}
	_, meta, err := checkpoint.Load(p)
	if err != nil {
		t.Fatalf("after a kill the latest checkpoint does not load: %v", err)
	}
	step, err := strconv.ParseInt(meta[train.MetaStep], 10, 64)
	if err != nil {
		t.Fatalf("%s: global_step %q", p, meta[train.MetaStep])
	}
	return step
}

// tempFiles lists the temporary files of checkpoint saves in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range listDir(t, dir) {
		if strings.Contains(n, ".tmp-") {
			out = append(out, n)
		}
	}
	return out
}

// TestKill9 trains with a checkpoint every step (one-step epochs on a few
// fake images), kills the process with SIGKILL at random moments, and
// checks after each kill that the index names a checkpoint that loads and
// is not older than the one before, and that a resumed run always starts
// and finally finishes leaving no temporary file behind.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and kills it repeatedly (about 40 s)")
	}
	bin := buildConvnet(t)
	data := fakeMNIST(t, 24, 8)
	logdir := filepath.Join(t.TempDir(), "run")
	ckpts := filepath.Join(logdir, "checkpoints")
	args := []string{"train", "--data", data, "--logdir", logdir, "--steps", "1", "--batch-size", "8",
		"--keep", "3", "--progress", "never", "--resume"}
	rng := rand.New(rand.NewPCG(9, 9))
	const kills = 10
	prev := int64(-1)
	stale := 0
	for i := range kills {
		cmd := exec.Command(bin, append(args, "--epochs", "100000")...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		stale += len(tempFiles(t, ckpts))
		step := latestStep(t, ckpts)
		if step < prev {
			t.Fatalf("kill %d: latest checkpoint went back from step %d to %d", i+1, prev, step)
		}
		t.Logf("kill %d: latest step %d, %d temporary file(s) left", i+1, step, len(tempFiles(t, ckpts)))
		prev = step
	}
	// What a kill in the middle of a save leaves, whether or not one of
	// the kills above landed there.
	planted := filepath.Join(ckpts, "."+checkpoint.FileName(prev+1)+".tmp-12345")
	if err := os.WriteFile(planted, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A last run to two epochs beyond the latest must resume and finish.
	out, err := exec.Command(bin, append(args, "--epochs", strconv.FormatInt(prev+2, 10))...).CombinedOutput()
	if err != nil {
		t.Fatalf("resume after %d kills: %v\n%s", kills, err, out)
	}
	if !strings.Contains(string(out), "resumed from") && prev >= 0 {
		t.Errorf("the last run did not resume:\n%s", out)
	}
	if left := tempFiles(t, ckpts); len(left) != 0 {
		t.Errorf("temporary files left after a clean run: %v", left)
	}
	if got := latestStep(t, ckpts); got != prev+2 {
		t.Errorf("final step %d, want %d", got, prev+2)
	}
	t.Logf("%d kills, final step %d; %d temporary file(s) seen right after kills, all removed on the next start", kills, prev+2, stale)
}

// TestSecondTrainRefused runs two train processes on one log directory:
// the second must stop at once with exit code 2 naming the directory, and
// leave the first one's checkpoints and metrics alone.
func TestSecondTrainRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs two trainings")
	}
	bin := buildConvnet(t)
	data := fakeMNIST(t, 24, 8)
	logdir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--data", data, "--logdir", logdir, "--steps", "1", "--batch-size", "8",
		"--progress", "never", "--epochs", "100000"}
	first := exec.Command(bin, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Process.Kill()
		first.Wait()
	}()
	// Wait until the first run holds the lock (its first checkpoint).
	deadline := time.Now().Add(30 * time.Second)
	for latestStepQuiet(filepath.Join(logdir, "checkpoints")) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first run wrote no checkpoint in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, extra := range [][]string{nil, {"--resume"}} {
		// Without the lock a second --resume run would train on: bound it.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, bin, append(args, extra...)...).CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "is in use by another convnet train") {
			t.Errorf("second train %v: %v\n%s", extra, err, out)
		}
	}
}

// latestStepQuiet is latestStep without failing: -1 until a checkpoint loads.
func latestStepQuiet(dir string) int64 {
	p, err := checkpoint.Latest(dir)
	if err != nil {
		return -1
	}
	_, meta, err := checkpoint.Load(p)
	if err != nil {
		return -1
	}
	step, _ := strconv.ParseInt(meta[train.MetaStep], 10, 64)
	return step
}
