package cli

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

// Exit codes, as the README's "Command line" section fixes them.
const (
	exitOK          = 0
	exitFailed      = 1 // a run or a verify failed
	exitUsage       = 2 // usage error, invalid playbook or invalid input
	exitInterrupted = 3 // interrupted; the run is resumable
)

// exitError carries the exit code a command's error should end with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a mistake on the command line: exit 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// withCode makes err end the program with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// silent is an error whose message was already printed (a failed run's
// summary, a verify report); only its exit code is left to give.
type silent struct{ code int }

func (s silent) Error() string { return fmt.Sprintf("exit %d", s.code) }

// exitCode maps an error to the process exit code. Playbook and input
// problems are exit 2 wherever they surface, so every command agrees.
func exitCode(err error) int {
	var ee *exitError
	var sl silent
	var le *loader.Errors
	var l1 *loader.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sl):
		return sl.code
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, engine.ErrInterrupted):
		return exitInterrupted
	case errors.As(err, &le), errors.As(err, &l1), errors.Is(err, engine.ErrInvalidInput), errors.Is(err, engine.ErrCycle):
		return exitUsage
	case errors.Is(err, evidence.ErrCaseExists), errors.Is(err, evidence.ErrSignerChanged):
		return exitUsage // --case names a case that is not this run's, or the key is not the case's
	case isLibraryExit(err):
		return exitUsage // the CLI library's own refusals: `help NOPE`
	}
	return exitFailed
}

// isLibraryExit reports an error urfave/cli made itself (cli.Exit): our
// commands never return one, so it is a usage mistake.
func isLibraryExit(err error) bool {
	_, ok := errors.AsType[cli.ExitCoder](err)
	return ok
}
