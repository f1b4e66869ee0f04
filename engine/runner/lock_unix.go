//go:build unix

package runner

import (
	"errors"
	"os"
	"syscall"
)

// lockJournal takes an exclusive advisory lock on an open journal for as
// long as the run goes on; the kernel drops it when the process ends, even
// by a crash. It fails with errLocked when another run holds it.
func lockJournal(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

// journalLive reports whether a process is running the journal at path now.
// It is advisory: a process forking a child at that moment holds the lock
// until the child execs, so a run that just ended may look live briefly.
func journalLive(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
