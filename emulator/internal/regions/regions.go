// Package regions keeps the parts of a regional emulated service, one for each region, each
// opened on the first request for its region, with its state in a document of its own. It knows
// nothing of any service's state, only the names of regions and of the documents that hold them.
//
// The documents of a service named NAME are NAME.json for its home region, and NAME-REGION.json
// for each other region. The home region is the one recorded in NAME.json: the region of the
// first emulator that opened the directory, or, for a document written before regions were
// emulated, the region its service says it holds. So a directory written by any version loads
// with each region's state where it was.
package regions

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Opener opens a service's part for a region from its document: region is the region it is
// opened for, doc the document's name. It returns the part and the region its document records:
// for NAME.json that can be another region, which is then the home region. A new document
// records the region it was opened for.
type Opener[P any] func(region, doc string) (part P, recorded string, err error)

// Set is one service's parts, by region. Its methods are safe for concurrent use.
type Set[P any] struct {
	dir, name string
	open      Opener[P]
	close     func(P) error

	mu    sync.Mutex
	home  string       // the region of NAME.json
	parts map[string]P // by region
}

// ErrUnknownRegion is returned for a region the emulator does not emulate.
var ErrUnknownRegion = errors.New("unknown region")

// Open returns the set of the service name whose documents are in dir ("" keeps them in
// memory), with the part of region fallback opened: NAME.json's, or when that document belongs
// to another region, that one's and NAME-fallback.json's. closePart releases a part.
func Open[P any](dir, name, fallback string, open Opener[P], closePart func(P) error) (*Set[P], error) {
	if !wire.KnownRegion(fallback) {
		return nil, fmt.Errorf("%w %q", ErrUnknownRegion, fallback)
	}
	s := &Set[P]{dir: dir, name: name, open: open, close: closePart, parts: map[string]P{}}
	part, recorded, err := open(fallback, name)
	if err != nil {
		return nil, err
	}
	if !wire.KnownRegion(recorded) {
		closePart(part)
		return nil, fmt.Errorf("%s.json holds the state of region %q, which the emulator does not emulate", name, recorded)
	}
	s.home = recorded
	s.parts[recorded] = part
	if _, err := s.Get(fallback); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Get returns region's part, opening it on first use. It returns an error wrapping
// ErrUnknownRegion for a region the emulator does not emulate.
func (s *Set[P]) Get(region string) (P, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if part, ok := s.parts[region]; ok {
		return part, nil
	}
	var zero P
	if !wire.KnownRegion(region) {
		return zero, fmt.Errorf("%w %q: the emulator emulates %s", ErrUnknownRegion, region, strings.Join(wire.KnownRegions(), ", "))
	}
	part, recorded, err := s.open(region, s.name+"-"+region)
	if err != nil {
		return zero, err
	}
	if recorded != region {
		s.close(part)
		return zero, fmt.Errorf("%s-%s.json holds the state of region %q", s.name, region, recorded)
	}
	s.parts[region] = part
	return part, nil
}

// All returns the part of every region that has state: those opened, and those whose documents
// are in the directory, opened now; sorted by region.
func (s *Set[P]) All() ([]P, error) {
	if s.dir != "" {
		entries, err := os.ReadDir(s.dir)
		if err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		for _, e := range entries {
			region, prefixed := strings.CutPrefix(e.Name(), s.name+"-")
			region, suffixed := strings.CutSuffix(region, ".json")
			if prefixed && suffixed && wire.KnownRegion(region) {
				if _, err := s.Get(region); err != nil {
					return nil, err
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.parts))
	for name := range s.parts {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]P, 0, len(names))
	for _, name := range names {
		out = append(out, s.parts[name])
	}
	return out, nil
}

// Close releases every part.
func (s *Set[P]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for region, part := range s.parts {
		errs = append(errs, s.close(part))
		delete(s.parts, region)
	}
	return errors.Join(errs...)
}
