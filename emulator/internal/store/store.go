// Package store keeps one emulated service's state as a JSON document that several processes may
// share. It knows nothing about AWS: a service hands it a Go value and mutates it under a lock.
//
// On disk a document is two files in the state directory: NAME.json, the state, always replaced
// atomically (temp file in the same directory, fsync, rename, fsync of the directory), so a kill -9
// at any moment leaves either the old or the new document readable; and NAME.lock, which carries
// the file lock that serialises processes (flock(2); LockFileEx on its first byte on Windows) and,
// at bytes 8 to 15, a generation counter, bumped before every replace, that lets a process keep a
// decoded copy until another process writes.
//
// Reads go on side by side: Views of one process run at the same time, and a View whose decoded
// copy is still current (the generation has not moved) reads it without taking the file lock at
// all. Only a reread takes the shared file lock, and only an Update the exclusive one, which waits
// for this process's Views to finish and holds back the ones that come after it.
//
// Waiting for the lock can be given up: View and Update take a context, and return its error when
// it is done before the lock is theirs.
package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/flow-infra/flow/internal/atomicfile"
	"golang.org/x/sync/semaphore"
)

// How long a wait for another process's lock sleeps between tries: from the first, doubling up
// to the last.
const (
	firstRetry = time.Millisecond
	lastRetry  = 25 * time.Millisecond
)

// genOffset is where the generation counter sits in NAME.lock: past the byte Windows locks.
const genOffset = 8

// allTurns is the weight an Update takes of a Doc's turns: all of them, so no View runs beside it.
const allTurns = 1 << 30

// Doc is one JSON document of type T, in a directory or in memory.
type Doc[T any] struct {
	turns   *semaphore.Weighted // a View takes one, an Update all; first come, first served
	loading chan struct{}       // holds a token while a View checks the generation or rereads
	path    string              // NAME.json; empty for an in-memory document
	lock    *os.File            // NAME.lock; nil in memory
	gen     uint64              // generation of cached
	cached  *T
	saved   []byte   // the encoding of cached, to roll back a failed Update
	initial func(*T) // fills a new document
	swept   bool     // temporary files of killed writers removed
}

// Open returns the document NAME in dir, creating dir if needed. When dir is empty the document
// lives in memory only. initial, if not nil, fills the document the first time it is created.
func Open[T any](dir, name string, initial func(*T)) (*Doc[T], error) {
	d := &Doc[T]{initial: initial, turns: semaphore.NewWeighted(allTurns), loading: make(chan struct{}, 1)}
	if dir == "" {
		return d, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	d.path = filepath.Join(dir, name+".json")
	lock, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state lock: %w", err)
	}
	d.lock = lock
	return d, nil
}

// Close releases the lock file. The document must not be used afterwards.
func (d *Doc[T]) Close() error {
	if d.lock == nil {
		return nil
	}
	return d.lock.Close()
}

// View calls fn with the current state. fn must not modify the state or keep references into it
// after it returns. Views of one process run side by side; an Update waits for them. It returns
// ctx's error, wrapped, when ctx is done before the state could be read; fn is not called then.
func (d *Doc[T]) View(ctx context.Context, fn func(*T) error) error {
	if err := d.takeTurns(ctx, 1); err != nil {
		return err
	}
	defer d.turns.Release(1)
	st, err := d.current(ctx)
	if err != nil {
		return err
	}
	return fn(st)
}

// Update calls fn with the current state under an exclusive lock and, if fn returns nil, stores
// the modified state durably before returning. If fn returns an error nothing is stored and any
// change fn made is discarded. It returns ctx's error, wrapped, when ctx is done before the lock
// is taken; fn is not called then. Once fn runs, the update completes whatever ctx does.
func (d *Doc[T]) Update(ctx context.Context, fn func(*T) error) error {
	if err := d.takeTurns(ctx, allTurns); err != nil {
		return err
	}
	defer d.turns.Release(allTurns)
	if err := d.lockFile(ctx, true); err != nil {
		return err
	}
	defer d.unlockFile()
	st, err := d.load()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		d.rollback()
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		d.rollback()
		return fmt.Errorf("encode state: %w", err)
	}
	d.sweep()
	if err := d.write(data); err != nil {
		d.rollback()
		return err
	}
	d.saved = data
	return nil
}

// takeTurns waits for n of this process's turns until ctx is done.
func (d *Doc[T]) takeTurns(ctx context.Context, n int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state lock: %w", err)
	}
	if err := d.turns.Acquire(ctx, n); err != nil {
		return fmt.Errorf("state lock: %w", err)
	}
	return nil
}

// current returns the state for a View: the decoded copy while the generation says no process
// has written since, without the file lock; otherwise the file reread under the shared lock.
// Several Views may hold what it returns at once: a reread replaces the copy, never changes it.
func (d *Doc[T]) current(ctx context.Context) (*T, error) {
	select {
	case d.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("state lock: %w", ctx.Err())
	}
	defer func() { <-d.loading }()
	if d.lock != nil && d.cached != nil {
		// A writer bumps the generation before it replaces the file, so an unchanged
		// generation means the copy is the last state written, or the state as it was just
		// before a write still under way: either is a state the document had.
		if gen, err := d.generation(); err == nil && gen == d.gen {
			return d.cached, nil
		}
	}
	if err := d.lockFile(ctx, false); err != nil {
		return nil, err
	}
	defer d.unlockFile()
	return d.load()
}

// lockFile takes the file lock, shared or exclusive, waiting until ctx is done. The caller holds
// this process's turns (all of them for an exclusive lock, the loading token for a shared one),
// so one goroutine at a time uses it.
func (d *Doc[T]) lockFile(ctx context.Context, exclusive bool) error {
	if d.lock == nil {
		return nil
	}
	return waitLock(ctx, d.lock, exclusive)
}

// waitLock takes the file lock on f, shared or exclusive, waiting until ctx is done. A file lock
// cannot wait with a deadline, so it is tried without blocking and tried again after a pause,
// from firstRetry doubling up to lastRetry.
func waitLock(ctx context.Context, f *os.File, exclusive bool) error {
	pause := firstRetry
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			return fmt.Errorf("state lock: %w", err)
		}
		if ok {
			return nil
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("state lock: %w", ctx.Err())
		}
		pause = min(2*pause, lastRetry)
	}
}

// unlockFile gives back the file lock.
func (d *Doc[T]) unlockFile() {
	if d.lock != nil {
		unlock(d.lock)
	}
}

// load returns the cached state, reading the file first if another process wrote it.
func (d *Doc[T]) load() (*T, error) {
	if d.lock == nil {
		if d.cached == nil {
			d.cached = d.fresh()
			d.saved, _ = json.Marshal(d.cached)
		}
		return d.cached, nil
	}
	gen, err := d.generation()
	if err != nil {
		return nil, err
	}
	if d.cached != nil && gen == d.gen {
		return d.cached, nil
	}
	data, err := os.ReadFile(d.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.cached = d.fresh()
		d.saved, _ = json.Marshal(d.cached)
	case err != nil:
		return nil, fmt.Errorf("read state: %w", err)
	default:
		st := new(T)
		if err := json.Unmarshal(data, st); err != nil {
			return nil, fmt.Errorf("state file %s is not valid: %w", d.path, err)
		}
		d.cached, d.saved = st, data
	}
	d.gen = gen
	return d.cached, nil
}

func (d *Doc[T]) fresh() *T {
	st := new(T)
	if d.initial != nil {
		d.initial(st)
	}
	return st
}

// rollback restores the cached state to what was last read or written.
func (d *Doc[T]) rollback() {
	st := new(T)
	if err := json.Unmarshal(d.saved, st); err != nil {
		d.cached = nil // reread from disk next time
		return
	}
	d.cached = st
}

func (d *Doc[T]) generation() (uint64, error) {
	var buf [8]byte
	n, err := d.lock.ReadAt(buf[:], genOffset)
	if n < len(buf) {
		return 0, nil // a new lock file: generation 0
	}
	if err != nil {
		return 0, fmt.Errorf("state lock: %w", err)
	}
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// sweep removes, once, the temporary files that writers killed mid-write left behind. It runs
// under the exclusive lock, which every writer holds for its whole write, so none is in use.
func (d *Doc[T]) sweep() {
	if d.swept || d.lock == nil {
		return
	}
	d.swept = true
	atomicfile.RemoveLeftovers(d.path) // best effort: a leftover only takes space
}

// write replaces the state file with data. The generation is bumped first, so a crash between
// the two makes other processes reread an unchanged file rather than miss a change.
func (d *Doc[T]) write(data []byte) error {
	if d.lock == nil {
		return nil
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], d.gen+1)
	if _, err := d.lock.WriteAt(buf[:], genOffset); err != nil {
		return fmt.Errorf("state lock: %w", err)
	}
	d.gen++
	if err := atomicfile.Write(d.path, data, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}
