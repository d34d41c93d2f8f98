package train

import (
	"fmt"
	"os"
)

// lockDirs takes an exclusive lock on each of dirs (created when missing,
// empty names skipped) for the rest of the run, so that a second `convnet
// train` on the same log or checkpoint directory stops at once instead of
// overwriting this run's checkpoints and appending to its metrics. The
// lock is an advisory flock on the directory itself: the kernel drops it
// when the process ends, however it ends, so a killed run leaves nothing
// to clean up. It returns the open directories, which hold the locks.
// Each dir comes with what it is ("log directory") for the messages.
func lockDirs(dirs ...[2]string) ([]*os.File, error) {
	var held []*os.File
	seen := map[string]bool{}
	for _, d := range dirs {
		what, dir := d[0], d[1]
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		if err := os.MkdirAll(dir, 0o755); err != nil {
			unlockDirs(held)
			return nil, configErrorf("cannot create %s: %v", what, err)
		}
		f, err := os.Open(dir)
		if err != nil {
			unlockDirs(held)
			return nil, configErrorf("cannot open %s to lock it: %v", dir, err)
		}
		busy, err := tryLock(f)
		if err != nil || busy {
			f.Close()
			unlockDirs(held)
			if busy {
				return nil, configErrorf("%s %s is in use by another convnet train (it holds the directory's lock): wait for that run to end, or choose another log or checkpoint directory", what, dir)
			}
			return nil, fmt.Errorf("train: locking %s: %v", dir, err)
		}
		held = append(held, f)
	}
	return held, nil
}

// unlockDirs releases the locks lockDirs took.
func unlockDirs(held []*os.File) {
	for _, f := range held {
		f.Close() // closing the last descriptor drops the flock
	}
}
