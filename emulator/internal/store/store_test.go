package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// counter is a document whose fields must always agree: N is the length of Log.
type counter struct {
	N   int
	Log []int
}

func (c *counter) bump() error {
	c.N++
	c.Log = append(c.Log, c.N)
	return nil
}

func (c *counter) consistent() error {
	if c.N != len(c.Log) {
		return fmt.Errorf("N=%d but %d log entries", c.N, len(c.Log))
	}
	for i, v := range c.Log {
		if v != i+1 {
			return fmt.Errorf("log[%d]=%d", i, v)
		}
	}
	return nil
}

// TestSharedBetweenHandles: two handles on one directory (as two processes would hold) see each
// other's writes and never lose one.
func TestSharedBetweenHandles(t *testing.T) {
	dir := t.TempDir()
	a, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for _, d := range []*Doc[counter]{a, b} {
		wg.Add(1)
		go func(d *Doc[counter]) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := d.Update((*counter).bump); err != nil {
					t.Error(err)
					return
				}
			}
		}(d)
	}
	wg.Wait()
	for _, d := range []*Doc[counter]{a, b} {
		d.View(func(c *counter) error {
			if c.N != 200 {
				t.Errorf("N=%d, want 200", c.N)
			}
			return c.consistent()
		})
	}
}

// TestFailedUpdateChangesNothing: an Update whose function fails leaves neither the file nor
// the cached copy changed.
func TestFailedUpdateChangesNothing(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		d, err := Open[counter](dir, "c", func(c *counter) { c.N = 0 })
		if err != nil {
			t.Fatal(err)
		}
		d.Update((*counter).bump)
		boom := errors.New("boom")
		if err := d.Update(func(c *counter) error { c.bump(); c.bump(); return boom }); err != boom {
			t.Fatalf("err %v", err)
		}
		d.View(func(c *counter) error {
			if c.N != 1 {
				t.Errorf("dir %q: N=%d after a failed update, want 1", dir, c.N)
			}
			return nil
		})
		d.Close()
	}
}

// TestKillDashNine: a process killed with SIGKILL at any moment while writing leaves the
// document readable and consistent, and the next writer goes on from it.
func TestKillDashNine(t *testing.T) {
	if os.Getenv("STORE_WRITER") != "" {
		return // the writer runs in TestMain
	}
	dir := t.TempDir()
	for round := 0; round < 20; round++ {
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), "STORE_WRITER="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it at a different moment each round, mid-write most of the time.
		time.Sleep(time.Duration(5+round*3) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		d, err := Open[counter](dir, "c", nil)
		if err != nil {
			t.Fatal(err)
		}
		err = d.View(func(c *counter) error { return c.consistent() })
		d.Close()
		if err != nil {
			t.Fatalf("round %d: %v (writer said %s)", round, err, out.String())
		}
		data, _ := os.ReadFile(filepath.Join(dir, "c.json"))
		var c counter
		if len(data) > 0 && json.Unmarshal(data, &c) != nil {
			t.Fatalf("round %d: the state file is not JSON: %q", round, data)
		}
	}
	// The next writer sweeps away the temporary files killed writers left.
	d, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Update((*counter).bump); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "c.json" && e.Name() != "c.lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestMain runs the writer of TestKillDashNine when asked to: it bumps the counter forever.
func TestMain(m *testing.M) {
	if dir := os.Getenv("STORE_WRITER"); dir != "" {
		d, err := Open[counter](dir, "c", nil)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for {
			if err := d.Update((*counter).bump); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}
