package steps

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/internal/atomicfile"
)

// writeStepFile writes data to the file a step names p, replaced atomically, creating missing
// directories with mode 0755, unless the file already holds data with perm's permission bits;
// it returns where the file is and whether it was written. With --root (rt.Root) p is taken
// under the root and resolved inside it: a symlink, ".." or absolute link on the way that leads
// out of the root is an error that names p, and nothing is written.
func writeStepFile(rt *engine.Runtime, p string, data []byte, perm fs.FileMode) (string, bool, error) {
	if rt.Root == "" {
		if unchanged(hostFiles{}, p, data, perm) {
			return p, false, nil
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", false, err
		}
		if err := atomicfile.Write(p, data, perm); err != nil {
			return "", false, fmt.Errorf("write %s: %w", p, err)
		}
		return p, true, nil
	}
	where := rt.Path(p)
	root, err := openRoot(rt.Root)
	if err != nil {
		return "", false, fmt.Errorf("write %s: %w", p, err)
	}
	defer root.Close()
	name := insideRoot(p)
	if unchanged(root, name, data, perm) {
		return where, false, nil
	}
	if err := writeInRoot(root, name, data, perm, 0o755); err != nil {
		return "", false, fmt.Errorf("write %s under --root %s: %w", p, rt.Root, rootEscape(err))
	}
	return where, true, nil
}

// mkdirStepDir makes the directory a step names dir, and its missing parents, mode 0755: with
// --root (root) under the root and resolved inside it, so a symlink on the way out of it is an
// error that says so, never a directory elsewhere.
func mkdirStepDir(root, dir string) error {
	if root == "" {
		return os.MkdirAll(dir, 0o755)
	}
	r, err := openRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	return rootEscape(r.MkdirAll(insideRoot(dir), 0o755))
}

// stepFileHolds reports whether the file a step names p (under --root when set) already holds
// data with perm's permission bits; any doubt is false.
func stepFileHolds(rt *engine.Runtime, p string, data []byte, perm fs.FileMode) bool {
	if rt.Root == "" {
		return unchanged(hostFiles{}, p, data, perm)
	}
	root, err := os.OpenRoot(rt.Root)
	if err != nil {
		return false
	}
	defer root.Close()
	return unchanged(root, insideRoot(p), data, perm)
}

// stepFileExists reports whether something is at the path a step names p (under --root when
// set, resolved inside it); any doubt is false.
func stepFileExists(rt *engine.Runtime, p string) bool {
	_, err := statStepFile(rt, p)
	return err == nil
}

// removeStepFile removes the file a step names p (under --root when set, resolved inside it);
// one that is not there is not an error.
func removeStepFile(rt *engine.Runtime, p string) error {
	var err error
	if rt.Root == "" {
		err = os.Remove(p)
	} else {
		var root *os.Root
		if root, err = os.OpenRoot(rt.Root); err == nil {
			err = root.Remove(insideRoot(p))
			root.Close()
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, rootEscape(err))
	}
	return nil
}

// unchanged reports whether the regular file name in files already holds content with mode's
// permission bits. Any doubt (no file, unreadable, another kind of file, a path that leads out
// of a root) means "write".
func unchanged(files onceFiles, name string, content []byte, mode fs.FileMode) bool {
	info, err := files.Lstat(name)
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != mode.Perm() || info.Size() != int64(len(content)) {
		return false
	}
	have, err := files.ReadFile(name)
	return err == nil && bytes.Equal(have, content)
}

// openRoot opens the directory --root names, creating it (and its parents) if missing.
func openRoot(dir string) (*os.Root, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenRoot(dir)
}

// insideRoot returns p as a path relative to a root: cleaned, with no leading slash ("." for /).
func insideRoot(p string) string {
	rel := strings.TrimPrefix(filepath.Clean("/"+p), "/")
	if rel == "" {
		return "."
	}
	return filepath.FromSlash(rel)
}

// writeInRoot creates name's missing directories in root (mode dirPerm), then writes name
// atomically; all of it resolved inside root.
func writeInRoot(root *os.Root, name string, data []byte, perm, dirPerm fs.FileMode) error {
	if err := root.MkdirAll(filepath.Dir(name), dirPerm); err != nil {
		return err
	}
	return atomicfile.WriteIn(root, name, data, perm)
}

// rootEscape explains an error of os.Root whose cause is a path that leads out of the root;
// other errors, and nil, it returns as they are.
func rootEscape(err error) error {
	// os.Root's error for it is not exported; its text is stable.
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("it leads outside the root (a symlink or .. on the way), and flow works only inside it: %w", err)
	}
	return err
}
