// Package atomicfile writes a file so that a crash leaves either its old
// contents or its new ones, never a part: the bytes go to a temporary
// file in the same directory, which is synced, renamed over the target,
// and the directory synced.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Prefix and Infix make up the names of Write's temporary files:
// Prefix + name + Infix + random digits (".model.onnx.tmp-123"), so a
// caller can find the ones a killed process left behind.
const (
	Prefix = "."
	Infix  = ".tmp-"
)

// Write writes path through a temporary file in its directory: write
// (through a 1 MiB buffer), chmod 0644 (os.CreateTemp makes it 0600),
// fsync, close, rename over path, fsync of the directory. On any error
// before the rename the temporary file is removed and path is untouched;
// errors name the file.
func Write(path string, write func(io.Writer) error) error {
	return writeFile(path, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// WriteBytes writes b to path as Write does, without the buffer.
func WriteBytes(path string, b []byte) error {
	return writeFile(path, func(f *os.File) error { _, err := f.Write(b); return err })
}

// writeFile is Write with write given the temporary file itself.
func writeFile(path string, write func(*os.File) error) (err error) {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, Prefix+name+Infix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
