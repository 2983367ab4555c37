//go:build windows

package steps

import "os"

// terminate stops a program, as a cancelled exec step does. Windows has no SIGTERM to send a
// program that has no console of its own, so it is ended at once (TerminateProcess).
func terminate(p *os.Process) error { return p.Kill() }
