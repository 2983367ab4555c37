package store

import (
	"bytes"
	"context"
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

var ctx = context.Background()

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
				if err := d.Update(ctx, (*counter).bump); err != nil {
					t.Error(err)
					return
				}
			}
		}(d)
	}
	wg.Wait()
	for _, d := range []*Doc[counter]{a, b} {
		d.View(ctx, func(c *counter) error {
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
		d.Update(ctx, (*counter).bump)
		boom := errors.New("boom")
		if err := d.Update(ctx, func(c *counter) error { c.bump(); c.bump(); return boom }); err != boom {
			t.Fatalf("err %v", err)
		}
		d.View(ctx, func(c *counter) error {
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
		err = d.View(ctx, func(c *counter) error { return c.consistent() })
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
	if err := d.Update(ctx, (*counter).bump); err != nil {
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
			if err := d.Update(ctx, (*counter).bump); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// TestGiveUpWaiting: while another handle (another process) holds the lock, an Update whose
// context ends returns the context's error, promptly and without running its function; so does
// one of the same handle, waiting on this process's turn; and once the lock is free, updates
// go through again.
func TestGiveUpWaiting(t *testing.T) {
	dir := t.TempDir()
	holder, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	waiter, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()

	held, done, finished := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		finished <- holder.Update(ctx, func(c *counter) error {
			close(held)
			<-done
			return c.bump()
		})
	}()
	<-held

	ran := false
	mark := func(c *counter) error { ran = true; return c.bump() }
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := waiter.Update(cancelled, mark); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
	expiring, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := waiter.Update(expiring, mark); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expiring context, another process holding the lock: %v, want context.DeadlineExceeded", err)
	}
	if err := waiter.View(expiring, func(*counter) error { ran = true; return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("View, another process holding the lock: %v, want context.DeadlineExceeded", err)
	}
	sameProcess, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := holder.Update(sameProcess, mark); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expiring context, this process's turn taken: %v, want context.DeadlineExceeded", err)
	}
	if ran {
		t.Error("a function ran without the lock")
	}

	close(done)
	if err := <-finished; err != nil {
		t.Fatalf("the holder's update: %v", err)
	}
	if err := waiter.Update(ctx, (*counter).bump); err != nil {
		t.Fatalf("after the lock is free: %v", err)
	}
	waiter.View(ctx, func(c *counter) error {
		if c.N != 2 {
			t.Errorf("N=%d, want 2: the holder's update and the last one", c.N)
		}
		return nil
	})
}

// TestViewsSideBySide: Views of one process run at the same time (each waits inside its
// function for the other to arrive), and an Update still sees none beside it.
func TestViewsSideBySide(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		d, err := Open[counter](dir, "c", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		d.Update(ctx, (*counter).bump)
		arrived := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := d.View(ctx, func(c *counter) error {
					close(arrived[i])
					select {
					case <-arrived[1-i]:
					case <-time.After(10 * time.Second):
						return errors.New("the other View never ran beside this one")
					}
					return c.consistent()
				})
				if err != nil {
					t.Errorf("dir %q: %v", dir, err)
				}
			}()
		}
		wg.Wait()
	}
}

// TestViewBesideAnotherProcessWriting: while another handle (another process) holds the
// exclusive lock, a View whose copy is current reads the last state written, without waiting;
// after that write it reads the new state.
func TestViewBesideAnotherProcessWriting(t *testing.T) {
	dir := t.TempDir()
	writer, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := Open[counter](dir, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer.Update(ctx, (*counter).bump)
	n := func() int {
		var got int
		if err := reader.View(ctx, func(c *counter) error { got = c.N; return c.consistent() }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := n(); got != 1 {
		t.Fatalf("N=%d, want 1", got)
	}
	held, done, finished := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		finished <- writer.Update(ctx, func(c *counter) error {
			close(held)
			<-done
			return c.bump()
		})
	}()
	<-held
	if got := n(); got != 1 {
		t.Errorf("during another process's write: N=%d, want the last state written, 1", got)
	}
	close(done)
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
	if got := n(); got != 2 {
		t.Errorf("after it: N=%d, want 2", got)
	}
}

// TestSlotsShared: two handles on one directory (as two processes would hold) change the same
// slots and never lose a change.
func TestSlotsShared(t *testing.T) {
	dir := t.TempDir()
	var handles []*Slots
	for range 2 {
		s, err := OpenSlots(dir, "s", 3)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		handles = append(handles, s)
	}
	var wg sync.WaitGroup
	for _, s := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if err := s.Update(ctx, func(v []uint64) { v[1]++ }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	handles[0].Update(ctx, func(v []uint64) {
		if v[0] != 0 || v[1] != 200 || v[2] != 0 {
			t.Errorf("slots %v, want [0 200 0]", v)
		}
	})
}

// BenchmarkViewParallel: Views of one document from parallel goroutines, the copy current: what
// every read of a busy emulator costs.
func BenchmarkViewParallel(b *testing.B) {
	d, err := Open[counter](b.TempDir(), "c", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	d.Update(ctx, (*counter).bump)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.View(ctx, func(c *counter) error { return nil })
		}
	})
}
