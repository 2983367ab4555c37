//go:build unix

package steps

import (
	"os"
	"syscall"
)

// terminate asks a program to stop, as a cancelled exec step does: SIGTERM, which it may catch
// to clean up; the kill follows after the step's grace period.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
