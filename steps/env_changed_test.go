//go:build unix

package steps

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestEnvWriteOnlyWhenChanged: the same variables again leave the file as it is (same inode,
// same modification time) and report no change; other values or another mode replace it.
func TestEnvWriteOnlyWhenChanged(t *testing.T) {
	dir := t.TempDir()
	write := func(values map[string]any, mode string) (bool, os.FileInfo) {
		t.Helper()
		out, err := runStep(t, "env.write", map[string]any{"path": "app.env", "values": values, "mode": mode}, dir)
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(dir, "app.env"))
		if err != nil {
			t.Fatal(err)
		}
		return out["changed"].(bool), info
	}
	inode := func(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }

	changed, first := write(map[string]any{"A": "1", "B": "two"}, "0600")
	if !changed {
		t.Fatal("a new file: changed is false")
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(dir, "app.env"), old, old); err != nil {
		t.Fatal(err)
	}
	changed, same := write(map[string]any{"B": "two", "A": "1"}, "0600")
	if changed || inode(same) != inode(first) || !same.ModTime().Equal(old) {
		t.Errorf("same values: changed=%t, inode %d -> %d, mtime %v (want %v): the file was touched", changed, inode(first), inode(same), same.ModTime(), old)
	}
	changed, other := write(map[string]any{"A": "1", "B": "three"}, "0600")
	if !changed || inode(other) == inode(first) {
		t.Errorf("a changed value: changed=%t, inode %d -> %d; want a new file", changed, inode(first), inode(other))
	}
	if changed, fi := write(map[string]any{"A": "1", "B": "three"}, "0640"); !changed || fi.Mode().Perm() != 0o640 {
		t.Errorf("another mode: changed=%t, mode %v; want 0640", changed, fi.Mode().Perm())
	}
}
