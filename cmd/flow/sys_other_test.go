//go:build !unix

package main

import (
	"errors"
	"io/fs"
)

// mkfifo makes a named pipe at path: only where the system has them.
func mkfifo(path string) error { return errors.New("named pipes are a Unix feature") }

// inode returns the inode number of the file info describes: only where the system has them.
func inode(info fs.FileInfo) (uint64, bool) { return 0, false }
