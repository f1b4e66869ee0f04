package cli

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"
)

// Execute runs the firebreak command line args (args[0] is the program
// name) and returns the process exit code. extra commands are added to the
// built-in ones, replacing one of the same name: cmd/firebreak-lab adds
// demo and bench this way, so the responder's binary links neither.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, extra ...*cli.Command) int {
	return execute(ctx, args, stdin, stdout, stderr, extra...)
}

// ExitError makes err end Execute with code; err's message is printed as
// any other error. A nil err ends it with code silently (the command has
// said what it had to say).
func ExitError(code int, err error) error {
	if err == nil {
		return silent{code: code}
	}
	return withCode(code, err)
}

// UsageError is a mistake on the command line: exit 2.
func UsageError(err error) error { return withCode(exitUsage, err) }

// labCommand stands in the responder's binary for a command that lives in
// firebreak-lab, and says where to find it.
func labCommand(name, usage string) *cli.Command {
	return &cli.Command{
		Name:            name,
		Usage:           usage + " (in firebreak-lab: go run ./cmd/firebreak-lab " + name + ")",
		SkipFlagParsing: true,
		Action: func(*cli.Context) error {
			return usageErrorf("%s is not in this binary, which ships without the local AWS emulator and test fixtures it needs: run `go run ./cmd/firebreak-lab %s` from the source tree", name, name)
		},
	}
}

// StateDir is the state dir a --state-dir value names (~/.firebreak when
// it is empty), for the lab's commands, which keep their own things there.
func StateDir(flag string) (string, error) { return stateDir(flag) }
