//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package store

import "os"

// tryLock always succeeds: on this system the state directory is not locked between
// processes, only between the goroutines of one (Doc's own turn keeps those apart). Share a
// directory between processes only on Linux, macOS, the BSDs or Windows.
func tryLock(*os.File, bool) (bool, error) { return true, nil }

// unlock releases nothing.
func unlock(*os.File) error { return nil }
