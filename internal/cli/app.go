package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine/loader"
)

// execute runs the command line args and returns the exit code. Tests call
// the built binary, but everything goes through here.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, extra ...*cli.Command) int {
	st := &cliState{stdin: stdin, stdout: stdout, stderr: stderr}
	app := newApp(st, extra)
	err := app.RunContext(ctx, interspersed(app, args))
	if err != nil && st.logFormat == "json" {
		if _, quiet := errors.AsType[silent](err); !quiet {
			st.logger().Error(err.Error(), "exit_code", exitCode(err))
		}
	} else if err != nil {
		printError(stderr, err)
	}
	return exitCode(err)
}

// printError writes err for the responder. Playbook errors are already one
// "file:line:col: message" a line, and stay so, for editors to jump to.
func printError(w io.Writer, err error) {
	var sl silent
	if errors.As(err, &sl) {
		return
	}
	var le *loader.Errors
	if errors.As(err, &le) {
		fmt.Fprintln(w, le.Error())
		return
	}
	var l1 *loader.Error
	if errors.As(err, &l1) {
		fmt.Fprintln(w, err.Error())
		return
	}
	msg := err.Error()
	if isLibraryExit(err) && msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:] // "No help topic ..."
	}
	fmt.Fprintf(w, "firebreak: %s\n", msg)
}

func newApp(st *cliState, extra []*cli.Command) *cli.App {
	name, full := buildVersion()
	app := &cli.App{
		Name:                 "firebreak",
		Usage:                "declarative incident response for AWS",
		Version:              full,
		Reader:               st.stdin,
		Writer:               st.stdout,
		ErrWriter:            st.stderr,
		Flags:                globalFlags(),
		EnableBashCompletion: true,
		// -i ids=a,b must reach the playbook as one value; lists are
		// split by the input's type, not by the flag library.
		DisableSliceFlagSeparator: true,
		Before:                    st.load,
		ExitErrHandler:            func(*cli.Context, error) {}, // exit codes are ours: see exitCode
		OnUsageError:              onUsageError,
		Action:                    noCommand,
		Commands:                  withExtra(commands(st), extra),
		Metadata:                  map[string]any{"version": name},
	}
	withTemporal(st, app.Commands)
	for _, c := range app.Commands {
		if c.OnUsageError == nil {
			c.OnUsageError = onUsageError
		}
	}
	return app
}

// commands is every subcommand, one file each here, or the Command of the
// package that owns it (assess, serve).
func commands(st *cliState) []*cli.Command {
	return []*cli.Command{
		listCommand(st),
		showCommand(st),
		validateCommand(st),
		planCommand(st),
		runCommand(st),
		resumeCommand(st),
		runsCommand(st),
		verifyCommand(st),
		actionsCommand(st),
		iamPolicyCommand(st),
		schemaCommand(st),
		labCommand("demo", "run host-compromise end to end against a local AWS emulator, then verify the evidence"),
		labCommand("bench", "performance figures against same-run baselines"),
		assessCommand(st),
		serveCommand(st),
		evidenceBucketCommand(st),
		workerCommand(st),
		approveCommand(st),
	}
}

// withExtra adds extra to cmds, an extra command replacing one of the same name.
func withExtra(cmds, extra []*cli.Command) []*cli.Command {
	for _, e := range extra {
		replaced := false
		for i, c := range cmds {
			if c.Name == e.Name {
				cmds[i], replaced = e, true
			}
		}
		if !replaced {
			cmds = append(cmds, e)
		}
	}
	return cmds
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	help := "firebreak --help"
	if c != nil && c.Command != nil && c.Command.Name != "" {
		help = "firebreak " + c.Command.Name + " --help"
	}
	return usageErrorf("%v: see `%s`", err, help)
}

// noCommand runs when no known command was named.
func noCommand(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("unknown command %q: run `firebreak --help` for the list", c.Args().First())
	}
	cli.ShowAppHelp(c)
	return usageErrorf("no command given")
}

// needArgs checks the number of positional arguments.
func needArgs(c *cli.Context, min, max int, what string) error {
	n := c.NArg()
	if n < min || (max >= 0 && n > max) {
		return usageErrorf("usage: firebreak %s %s", c.Command.Name, what)
	}
	return nil
}

// joinLines is for messages that list several problems.
func joinLines(lines []string) string { return strings.Join(lines, "\n") }
