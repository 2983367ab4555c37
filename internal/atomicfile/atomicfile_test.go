//go:build unix

package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Write creates and replaces a file with exactly the data and mode given, whatever the umask,
// and leaves nothing else in the directory.
func TestWriteReplaces(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.env")
	for i, tc := range []struct {
		data string
		perm os.FileMode
	}{{"A=1\n", 0o644}, {"B=2\n", 0o600}, {"", 0o640}} {
		if err := Write(path, []byte(tc.data), tc.perm); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tc.data {
			t.Fatalf("write %d: read %q, %v; want %q", i, got, err, tc.data)
		}
		info, _ := os.Stat(path)
		if info.Mode().Perm() != tc.perm {
			t.Errorf("write %d: mode %v, want %v", i, info.Mode().Perm(), tc.perm)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("write %d: the directory holds %d entries, want only the file", i, len(entries))
		}
	}
}

// A failed Write leaves the old file as it was and no temporary file behind.
func TestWriteFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	// The target is a non-empty directory: the rename over it fails after the data is written.
	path := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("data"), 0o644); err == nil {
		t.Fatal("Write over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "target" || !entries[0].IsDir() {
		t.Errorf("after a failed Write the directory holds %v, want only the untouched target", entries)
	}
	// A directory that does not exist: an error, nothing created.
	missing := filepath.Join(dir, "missing", "file")
	if err := Write(missing, []byte("data"), 0o644); err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("Write created %s", filepath.Dir(missing))
	}
}

// Readers racing writers see one whole version or another, never a mix or a part.
func TestReadersSeeWholeVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	versions := [][]byte{bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 96<<10)}
	if err := Write(path, versions[0], 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := Write(path, versions[(w+i)%2], 0o600); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if reads == 0 {
				t.Log("the writers finished before the first read")
			}
			return
		default:
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Fatalf("read %d: %d bytes that are neither version", reads, len(got))
		}
	}
}

// RemoveLeftovers removes the temporary files of killed writers of that path, and nothing else:
// not the file, not another file's temporaries, not a look-alike name.
func TestRemoveLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ec2.json")
	if err := Write(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	// What a Write killed between creating and renaming its temporary file leaves.
	for range 2 {
		f, err := os.CreateTemp(dir, tempPattern(path))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	keep := []string{"ec2.json", ".ssm.json.tmp-123", "ec2.json.tmp-123", "ec2.lock"}
	for _, name := range keep[1:] {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveLeftovers(path); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != ".ssm.json.tmp-123 ec2.json ec2.json.tmp-123 ec2.lock" {
		t.Errorf("left %v, want the file and the other names only", left)
	}
	if err := RemoveLeftovers(path); err != nil {
		t.Errorf("with nothing to remove: %v", err)
	}
}

// SyncDir syncs a directory and reports one that is not there.
func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Error(err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("SyncDir of a missing directory succeeded")
	}
}
