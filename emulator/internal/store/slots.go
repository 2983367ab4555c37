package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Slots are a fixed number of 64-bit numbers that every process sharing a directory reads and
// changes together, under NAME.slots's exclusive file lock: shared counters cheap enough to
// change on every request. Unlike a Doc they are written in place, without a replace or an
// fsync: a crash may lose the last changes or tear one slot, which suits numbers that only
// pace requests (a torn slot is a bucket briefly too full or too empty), not state.
type Slots struct {
	turn chan struct{} // holds a token while an Update of this process runs
	file *os.File      // nil in memory
	n    int
	mem  []uint64 // the slots, in memory; a copy between Updates in a directory
}

// OpenSlots returns the n slots NAME in dir, creating dir if needed, all 0 at first. When dir is
// empty they live in memory only.
func OpenSlots(dir, name string, n int) (*Slots, error) {
	s := &Slots{turn: make(chan struct{}, 1), n: n, mem: make([]uint64, n)}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".slots"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state slots: %w", err)
	}
	s.file = f
	return s, nil
}

// Close releases the file. The slots must not be used afterwards.
func (s *Slots) Close() error {
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}

// Update calls fn with the slots as every process last left them, alone among the processes and
// goroutines that share them, and stores what fn left in them. It returns ctx's error, wrapped,
// when ctx is done before the slots are its; fn is not called then.
func (s *Slots) Update(ctx context.Context, fn func(slots []uint64)) error {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("state lock: %w", ctx.Err())
	}
	defer func() { <-s.turn }()
	if s.file == nil {
		fn(s.mem)
		return nil
	}
	if err := waitLock(ctx, s.file, true); err != nil {
		return err
	}
	defer unlock(s.file)
	buf := make([]byte, 8*s.n)
	n, err := s.file.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("state slots: %w", err)
	}
	clear(buf[n:]) // a new or shorter file: what is missing is 0
	for i := range s.mem {
		s.mem[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	fn(s.mem)
	for i, v := range s.mem {
		binary.LittleEndian.PutUint64(buf[8*i:], v)
	}
	if _, err := s.file.WriteAt(buf, 0); err != nil {
		return fmt.Errorf("state slots: %w", err)
	}
	return nil
}
