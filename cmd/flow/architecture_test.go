package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the layers ARCHITECTURE.md states: each rule names packages of this module
// (a prefix of their import path) and what their non-test code may not reach, directly or
// through another package.
func TestImportRules(t *testing.T) {
	const mod = "github.com/flow-infra/flow/"
	rules := []struct {
		pkgs, except string // packages under pkgs, but not under except, ...
		forbid       []string
	}{
		{"engine", "", []string{mod + "steps", mod + "emulator", mod + "cmd", "github.com/aws/"}},
		{"steps", "", []string{mod + "emulator", mod + "cmd"}},
		{"emulator", "", []string{mod + "engine", mod + "steps", mod + "cmd"}},
		{"emulator", "emulator/internal/emutest", []string{"github.com/aws/aws-sdk-go-v2/service/", "github.com/aws/aws-sdk-go-v2/config"}},
		{"internal", "", []string{mod + "engine", mod + "steps", mod + "emulator", mod + "cmd"}},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg, deps := strings.TrimPrefix(fields[0], mod), fields[1:]
		for _, r := range rules {
			if !under(pkg, r.pkgs) || (r.except != "" && under(pkg, r.except)) {
				continue
			}
			checked++
			for _, d := range deps {
				for _, f := range r.forbid {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s imports %s (through its dependencies): ARCHITECTURE.md forbids %s* there", pkg, d, f)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d package checks ran: go list found too few packages", checked)
	}
}

// under reports whether the package path pkg is dir or inside it.
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
