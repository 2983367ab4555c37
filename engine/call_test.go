package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestCallOnceAndSecrets: a called workflow's once steps are recorded under its own name, its
// secret inputs are masked in every event, and its outputs come back typed.
func TestCallOnceAndSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.yaml", `name: main
inputs:
  pin: {secret: true, default: "9876-secret"}
steps:
  - id: call
    uses: workflow
    with:
      file: lib/setup.yaml
      inputs: {pin: "${{ inputs.pin }}", n: 2}
  - id: after
    uses: test.echo
    with:
      count: ${{ steps.call.twice + 1 }}
      text: ${{ steps.call.echoed }}
outputs:
  count: ${{ steps.after.count }}
`)
	write("lib/setup.yaml", `name: setup
inputs:
  pin: {secret: true, required: true}
  n: {type: int, default: 1}
steps:
  - id: first
    uses: test.echo
    once: instance
    with: {text: "pin=${{ inputs.pin }}"}
outputs:
  twice: ${{ inputs.n * 2 }}
  echoed: ${{ steps.first.text }}
`)
	wf, err := LoadFile(filepath.Join(dir, "main.yaml"), catalog())
	if err != nil {
		t.Fatal(err)
	}
	m := new(Masker)
	inputs, err := wf.ResolveInputs(nil, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	once := memOnce{}
	var mu sync.Mutex
	var log strings.Builder
	res := Run(context.Background(), wf, Options{Inputs: inputs, Masker: m, Once: once, Events: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		log.WriteString(e.Event + " " + e.Step + " " + e.Status + " " + stringify(e.Outputs) + "\n")
	}})
	if res.Status != StatusSucceeded || res.Outputs["count"] != 5 {
		t.Fatalf("%s %v %v", res.Status, res.Outputs, res.Err)
	}
	if !once["setup/first"] || len(once) != 1 {
		t.Errorf("once records %v, want setup/first", once)
	}
	if strings.Contains(log.String(), "9876") {
		t.Errorf("the secret in events:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "step_finished call/first succeeded") {
		t.Errorf("the called step is not reported under the calling one:\n%s", log.String())
	}
}
