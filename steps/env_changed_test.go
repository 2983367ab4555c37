//go:build unix

package steps

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// TestEnvWriteReloadsOnce: a file created runs no reload (created); runs at the same moment with
// one new content replace the file once and run the reload once, with the variables in its
// environment; a failing reload fails the step, saying the file was replaced.
func TestEnvWriteReloadsOnce(t *testing.T) {
	dir := t.TempDir()
	reload := []any{"sh", "-c", `echo "$A" >> "$FLOW_ROOT/reloads"`}
	first, err := runStep(t, "env.write", map[string]any{"path": "/etc/app.env", "values": map[string]any{"A": "zero"},
		"mode": "0600", "reload": reload}, dir)
	if err != nil || first["created"] != true || first["changed"] != true || first["reloaded"] != false {
		t.Fatalf("a new file: %v, %v; want created and changed, not reloaded", first, err)
	}
	const runs = 8
	outs := make([]map[string]any, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = runStep(t, "env.write", map[string]any{"path": "/etc/app.env", "values": map[string]any{"A": "one"},
				"mode": "0600", "reload": reload}, dir)
		}()
	}
	wg.Wait()
	changed, reloaded := 0, 0
	for i := range runs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if outs[i]["changed"] == true {
			changed++
		}
		if outs[i]["reloaded"] == true {
			reloaded++
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "reloads"))
	if err != nil || changed != 1 || reloaded != 1 || string(data) != "one\n" {
		t.Errorf("%d runs at once: %d replaced, %d reloaded, reloads %q (%v); want 1, 1, \"one\\n\"", runs, changed, reloaded, data, err)
	}

	_, err = runStep(t, "env.write", map[string]any{"path": "/etc/app.env", "values": map[string]any{"A": "two"},
		"mode": "0600", "reload": []any{"sh", "-c", "exit 3"}}, dir)
	if err == nil || !strings.Contains(err.Error(), "app.env was replaced, and the reload failed (the next run reloads, even with no change): sh exited with status 3") {
		t.Errorf("a failing reload: %v", err)
	}
}

// TestEnvWriteReloadOwed: a reload that failed is owed, and runs on the next run even though the
// file then holds the values already, again and again until it succeeds; then no more.
func TestEnvWriteReloadOwed(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "etc", "app.env.reload-owed")
	write := func(value string, reload ...any) (map[string]any, error) {
		return runStep(t, "env.write", map[string]any{"path": "/etc/app.env", "values": map[string]any{"A": value},
			"mode": "0600", "reload": reload}, dir)
	}
	ok := []any{"sh", "-c", `echo "$A" >> "$FLOW_ROOT/reloads"`}
	if _, err := write("one", ok...); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Errorf("a created file left %s: nothing is owed", mark)
	}
	if _, err := write("two", "sh", "-c", "exit 3"); err == nil {
		t.Fatal("a failing reload did not fail the step")
	}
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("no mark after a failed reload: %v", err)
	}
	if _, err := write("two", "sh", "-c", "exit 4"); err == nil || !strings.Contains(err.Error(), "owed failed again") {
		t.Errorf("the owed reload, failing again: %v", err)
	}
	out, err := write("two", ok...)
	if err != nil || out["changed"] != false || out["reloaded"] != true {
		t.Errorf("the owed reload: %v, %v; want unchanged and reloaded", out, err)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Errorf("%s is still there after the reload succeeded", mark)
	}
	if out, err = write("two", ok...); err != nil || out["reloaded"] != false {
		t.Errorf("a run after the owed reload: %v, %v; want no reload", out, err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "reloads")); err != nil || string(data) != "two\n" {
		t.Errorf("reloads %q (%v), want one reload, with the new value", data, err)
	}
}
