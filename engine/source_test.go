package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadSource: a regular file up to MaxFileSize is read whole; one byte more, a directory or a
// device is refused with an error that says why.
func TestReadSource(t *testing.T) {
	dir := t.TempDir()
	atLimit := filepath.Join(dir, "limit.yaml")
	over := filepath.Join(dir, "over.yaml")
	if err := os.WriteFile(atLimit, make([]byte, MaxFileSize), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if src, err := ReadSource(atLimit); err != nil || len(src) != MaxFileSize {
		t.Errorf("at the limit: %d bytes, %v", len(src), err)
	}
	for path, want := range map[string]string{
		over:                          "larger than 4 MiB",
		dir:                           "is a directory, not a regular file",
		os.DevNull:                    "not a regular file",
		filepath.Join(dir, "missing"): "no such file",
	} {
		if _, err := ReadSource(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", path, err, want)
		}
	}
}
