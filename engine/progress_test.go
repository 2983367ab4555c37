package engine

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// waiter is a step type that says what it waits for, then waits until the run has reported it.
type waiter struct {
	testType
	reported <-chan struct{}
}

func (w *waiter) Run(ctx context.Context, rt *Runtime, args map[string]any) (map[string]any, error) {
	rt.Waiting("the s3cret door to open")
	select {
	case <-w.reported:
	case <-time.After(10 * time.Second):
		rt.Waiting("")
		return nil, context.DeadlineExceeded
	}
	rt.Waiting("")
	return nil, nil
}

// progressEvents runs wf with progress every millisecond and returns its events; reported is
// closed at the first step_progress.
func progressEvents(t *testing.T, wf *Workflow, reported chan struct{}, opt Options) (*Result, []Event) {
	t.Helper()
	var mu sync.Mutex
	var events []Event
	var once sync.Once
	opt.ProgressEvery = time.Millisecond
	opt.Events = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		if e.Event == "step_progress" {
			once.Do(func() { close(reported) })
		}
	}
	res := Run(context.Background(), wf, opt)
	mu.Lock()
	defer mu.Unlock()
	return res, events
}

func TestProgressOfAWaitingStep(t *testing.T) {
	reported := make(chan struct{})
	w := &waiter{testType: testType{name: "test.wait"}, reported: reported}
	wf := load(t, "name: x\nsteps:\n  - id: a\n    uses: test.wait\n  - id: b\n    uses: test.noop\n", &w.testType)
	wf.Steps[0].Type = w
	m := new(Masker)
	m.Add("s3cret")
	res, events := progressEvents(t, wf, reported, Options{Masker: m})
	if res.Status != StatusSucceeded {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	var progress []Event
	finished := false
	for _, e := range events {
		switch {
		case e.Event == "step_progress":
			if finished {
				t.Errorf("step_progress after step a finished: %+v", e)
			}
			progress = append(progress, e)
		case e.Event == "step_finished" && e.Step == "a":
			finished = true
		}
	}
	if len(progress) == 0 {
		t.Fatal("no step_progress event")
	}
	p := progress[0]
	if p.Step != "a" || p.Uses != "test.wait" || p.Waiting != "the *** door to open" || p.ElapsedMS == nil {
		t.Errorf("step_progress %+v, want step a waiting for the *** door to open (masked), with elapsed_ms", p)
	}
}

func TestProgressOfARetryBackoff(t *testing.T) {
	failed := false
	flaky := &testType{name: "test.flaky", run: func(context.Context, map[string]any) (map[string]any, error) {
		if !failed {
			failed = true
			return nil, context.DeadlineExceeded
		}
		return nil, nil
	}}
	wf := load(t, "name: x\nsteps:\n  - id: a\n    uses: test.flaky\n    retry: {attempts: 2, delay: 3s}\n", flaky)
	reported := make(chan struct{})
	res, events := progressEvents(t, wf, reported, Options{
		Jitter: func(d time.Duration) time.Duration { return d },
		// The back-off lasts until the run has reported it.
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-reported:
				return nil
			case <-time.After(10 * time.Second):
				return context.DeadlineExceeded
			}
		},
	})
	if res.Status != StatusSucceeded {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	for _, e := range events {
		if e.Event == "step_progress" {
			if want := "attempt 2 of 2, after a 3s back-off"; e.Waiting != want {
				t.Errorf("waiting %q, want %q", e.Waiting, want)
			}
			return
		}
	}
	t.Error("no step_progress event during the back-off")
}

func TestNoProgressUnlessAsked(t *testing.T) {
	w := &waiter{testType: testType{name: "test.wait"}, reported: closed()}
	wf := load(t, "name: x\nsteps:\n  - id: a\n    uses: test.wait\n", &w.testType)
	wf.Steps[0].Type = w
	_, events := run(t, wf, nil, Options{})
	for _, e := range events {
		if e.Event == "step_progress" {
			t.Errorf("step_progress with ProgressEvery 0: %+v", e)
		}
	}
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// fileWriter is a step type that writes files on the machine it runs on.
type fileWriter struct{ testType }

func (fileWriter) WritesFiles() bool { return true }

// TestRootOnlyWhenFilesAreWritten: run_started says where files go only when a step may write
// some; a for_each over nothing reports its step skipped.
func TestRootOnlyWhenFilesAreWritten(t *testing.T) {
	src := "name: x\ninputs:\n  none: {type: list, default: []}\nsteps:\n  - id: a\n    uses: test.write\n    for_each: ${{ inputs.none }}\n"
	wf := load(t, src, &testType{name: "test.write"})
	_, events := run(t, wf, nil, Options{Root: "/tmp/root"})
	if events[0].Root != "" {
		t.Errorf("run_started root %q for a workflow that writes no file", events[0].Root)
	}
	var skipped []string
	for _, e := range events {
		if e.Event == "step_finished" {
			skipped = append(skipped, e.Step+" "+e.Status+" "+e.Reason)
		}
	}
	if got := strings.Join(skipped, "; "); got != "a skipped for_each: no items" {
		t.Errorf("step_finished events: %q, want step a skipped for no items", got)
	}

	wf.Steps[0].Type = &fileWriter{testType{name: "test.write"}}
	_, events = run(t, wf, nil, Options{Root: "/tmp/root"})
	if events[0].Root != "/tmp/root" {
		t.Errorf("run_started root %q, want /tmp/root", events[0].Root)
	}
}
