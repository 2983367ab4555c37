package engine

import (
	"sync"
	"time"
)

// waitState is what a running step last said it waits for (Runtime.Waiting), and since when.
type waitState struct {
	now   func() time.Time
	mu    sync.Mutex
	what  string
	since time.Time
}

func (w *waitState) set(what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if what != "" && w.what == "" {
		w.since = w.now()
	}
	w.what = what
}

func (w *waitState) get() (string, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.what, w.since
}

// reportProgress lets the step running with rt say what it waits for and, while it waits, emits a
// step_progress event every Options.ProgressEvery with the time waited so far. It returns the
// function that stops the reports; no event of the step's follows that function's return.
func (r *runner) reportProgress(st *Step, idx *int, rt *Runtime) (stop func()) {
	if r.opt.ProgressEvery <= 0 {
		return func() {}
	}
	w := &waitState{now: r.now}
	rt.waiting = w.set
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(r.opt.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			what, from := w.get()
			if what == "" {
				continue
			}
			r.emit(Event{Event: "step_progress", Step: st.ID, Uses: st.Uses, Iteration: idx, Waiting: what, ElapsedMS: since(from, r.now())})
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
