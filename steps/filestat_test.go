package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.env")
	if err := os.WriteFile(file, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		exists bool
		dir    bool
		size   int
	}{
		{file, true, false, 4},
		{filepath.Join(dir, "link"), true, false, 4}, // followed
		{dir, true, true, -1},
		{filepath.Join(dir, "absent"), false, false, 0},
		{filepath.Join(dir, "absent", "deeper"), false, false, 0},
	} {
		out, err := runStep(t, "file.stat", map[string]any{"path": tc.path}, "")
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if out["exists"] != tc.exists || out["dir"] != tc.dir || (tc.size >= 0 && out["size"] != tc.size) {
			t.Errorf("%s: got %v, want exists %v dir %v size %d", tc.path, out, tc.exists, tc.dir, tc.size)
		}
	}
}

func TestFileStatEmptyPath(t *testing.T) {
	_, err := runStep(t, "file.stat", map[string]any{"path": " "}, "")
	if err == nil || !strings.Contains(err.Error(), "path: must not be empty") {
		t.Errorf("an empty path: %v", err)
	}
}

func TestFileStatUnderRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "flow"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "flow", "app.env"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "etc", "flow", "escape")); err != nil {
		t.Fatal(err)
	}
	out, err := runStep(t, "file.stat", map[string]any{"path": "/etc/flow/app.env"}, root)
	if err != nil || out["exists"] != true {
		t.Fatalf("the file under the root: %v, %v", out, err)
	}
	// The host's own /etc/passwd is not under the root.
	if out, err := runStep(t, "file.stat", map[string]any{"path": "/etc/passwd"}, root); err != nil || out["exists"] != false {
		t.Errorf("/etc/passwd under an empty root: %v, %v", out, err)
	}
	_, err = runStep(t, "file.stat", map[string]any{"path": "/etc/flow/escape"}, root)
	if err == nil || !strings.Contains(err.Error(), "outside the root") {
		t.Errorf("a link out of the root: %v, want an error saying it leads outside", err)
	}
	// A root that does not exist holds nothing, and is not created.
	missing := filepath.Join(t.TempDir(), "none")
	if out, err := runStep(t, "file.stat", map[string]any{"path": "/etc/flow/app.env"}, missing); err != nil || out["exists"] != false {
		t.Errorf("a missing root: %v, %v", out, err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("file.stat created the root %s", missing)
	}
}
