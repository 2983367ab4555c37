// Package atomicfile replaces files so that a reader, or a crash at any moment, sees the old
// content or the new one, never a part.
package atomicfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	if err = fill(tmp, data, perm); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteIn is Write of the file name inside root: name and its directory are resolved within
// root, so a symlink or ".." that leads out of it is an error, never a write elsewhere.
func WriteIn(root *os.Root, name string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(name)
	var tmp *os.File
	var tmpName string
	for range 100 {
		tmpName = filepath.Join(dir, strings.Replace(tempPattern(name), "*", strconv.FormatUint(rand.Uint64(), 10), 1))
		tmp, err = root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			root.Remove(tmpName)
		}
	}()
	if err = fill(tmp, data, perm); err != nil {
		return err
	}
	if err = root.Rename(tmpName, name); err != nil {
		return err
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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

// fill gives the temporary file its mode and contents, on disk, and closes it.
func fill(tmp *os.File, data []byte, perm fs.FileMode) error {
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	return tmp.Close()
}
