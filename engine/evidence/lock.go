package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrCaseBusy is wrapped by the error OpenCase returns when another run
// holds the case: two writers continuing one custody chain would fork it.
var ErrCaseBusy = errors.New("case is being written by another run")

// CaseBusy returns an error that reads as the message given and wraps
// ErrCaseBusy, for Lockers and stores to say who holds a case without
// repeating the sentinel's text.
func CaseBusy(format string, args ...any) error {
	return &busyError{msg: fmt.Sprintf(format, args...)}
}

type busyError struct{ msg string }

func (e *busyError) Error() string { return e.msg }
func (e *busyError) Unwrap() error { return ErrCaseBusy }

// Locker is an optional ability of a Store: keeping a case to one writer.
// OpenCase takes the lock before it reads the custody log and holds it
// until Case.Close or Case.Finish. Lock must not block: a case held
// elsewhere is an error wrapping ErrCaseBusy that says who holds it.
type Locker interface {
	Lock(ctx context.Context, caseID string) (unlock func() error, err error)
}

var _ Locker = (*DirStore)(nil)

// Lock implements Locker with an flock on CASE/.lock, which the kernel
// drops when the process ends, even by a crash, so a resume after a kill
// is never refused. The file keeps the holder's pid for the message.
func (d *DirStore) Lock(_ context.Context, caseID string) (func() error, error) {
	if err := CheckCaseID(caseID); err != nil {
		return nil, err
	}
	root, name, err := d.open(caseID + "/.lock")
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := root.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return nil, d.full(fmt.Errorf("creating case dir %q: %w", caseID, err))
	}
	f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("locking case %q: %w", caseID, err)
	}
	if err := flock(f); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, CaseBusy("case %q is being written by another run (%s); wait for it or use another --case", caseID, holder)
		}
		return nil, fmt.Errorf("locking case %q: %w", caseID, err)
	}
	// The pid is a hint for the message only; the flock is the lock.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error { return f.Close() }, nil // closing drops the flock
}

// readHolder reads the holder's "pid N" hint, best effort.
func readHolder(f *os.File) string {
	buf := make([]byte, 64)
	n, _ := f.ReadAt(buf, 0)
	if s := strings.TrimSpace(string(buf[:n])); s != "" {
		return s
	}
	return "pid unknown"
}
