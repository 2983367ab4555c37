// Package atomicfile replaces files so that a reader, or a crash at any moment, sees the old
// content or the new one, never a part.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data and mode perm: a temporary file in the same directory is written,
// given perm (whatever the umask), synced and renamed over path, and the directory is synced so
// the rename itself survives a crash. On error path is untouched and no temporary file is left.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// tempPattern is the os.CreateTemp pattern of Write's temporary files for path: hidden, in the
// same directory, named after path.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// RemoveLeftovers removes the temporary files that writers of path killed mid-write (before
// Write could clean up) left in path's directory. The caller must know that no Write of path is
// running, e.g. by holding the lock every writer of path holds.
func RemoveLeftovers(path string) error {
	leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range leftovers {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SyncDir fsyncs a directory, making the creation, removal or renaming of its entries durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
