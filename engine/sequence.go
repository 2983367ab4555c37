package engine

import "sync"

// sequence puts the events of streams that run side by side (steps of a graph, items of a
// parallel for_each) into the order of the streams, so what a run reports does not depend on
// timing: the events of stream k are passed on as they happen while every stream before k has
// ended, and held until then otherwise. Each event keeps the time it happened at.
type sequence struct {
	mu      sync.Mutex
	out     func(Event)
	head    int // the first stream not yet ended
	ended   []bool
	pending [][]Event
}

func newSequence(streams int, out func(Event)) *sequence {
	return &sequence{out: out, ended: make([]bool, streams), pending: make([][]Event, streams)}
}

// emit passes on, or holds, an event of stream k.
func (s *sequence) emit(k int, e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == s.head {
		s.out(e)
		return
	}
	s.pending[k] = append(s.pending[k], e)
}

// end marks stream k as ended: nothing more comes from it.
func (s *sequence) end(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended[k] = true
	for s.head < len(s.ended) && s.ended[s.head] {
		s.head++
		if s.head < len(s.ended) {
			for _, e := range s.pending[s.head] {
				s.out(e)
			}
			s.pending[s.head] = nil
		}
	}
}

// endAll ends every stream, passing on whatever is held.
func (s *sequence) endAll() {
	for k := range s.ended {
		s.end(k)
	}
}
