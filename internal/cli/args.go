package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags in front of its arguments, so that
// `firebreak plan NAME -i k=v` works as the README writes it: urfave/cli v2
// stops reading flags at the first argument. Global flags written after the
// command (`run x --no-color`) move before it. Everything after "--" stays
// an argument.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := skipFlags(app.Flags, args, 1)
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	// A command with subcommands (evidence-bucket create): the flags go
	// after the subcommand, whose flags they are.
	last := i // the last word naming the command
	if sub := subcommand(cmd, args[i+1:]); sub != nil {
		cmd, last = sub, i+1
	}
	var globals, flags, positional []string
	rest := args[last+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if !isFlag(a) {
			positional = append(positional, a)
			continue
		}
		defs, to := cmd.Flags, &flags
		if !hasFlag(cmd.Flags, a) && hasFlag(app.Flags, a) {
			defs, to = app.Flags, &globals
		}
		*to = append(*to, a)
		if takesValue(defs, a) && j+1 < len(rest) {
			j++
			*to = append(*to, rest[j])
		}
	}
	out := append([]string{}, args[:i]...)
	out = append(out, globals...)
	out = append(out, args[i:last+1]...)
	out = append(out, flags...)
	return append(out, positional...)
}

// subcommand is the subcommand of cmd that args start with, or nil.
func subcommand(cmd *cli.Command, args []string) *cli.Command {
	if len(args) == 0 || isFlag(args[0]) {
		return nil
	}
	for _, s := range cmd.Subcommands {
		if s.HasName(args[0]) {
			return s
		}
	}
	return nil
}

// skipFlags returns the index of the first argument after the global flags.
func skipFlags(defs []cli.Flag, args []string, i int) int {
	for i < len(args) && isFlag(args[i]) && args[i] != "--" {
		if takesValue(defs, args[i]) {
			i++
		}
		i++
	}
	return i
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

func flagName(a string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return name
}

func hasFlag(defs []cli.Flag, a string) bool {
	name := flagName(a)
	for _, f := range defs {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// takesValue reports whether the flag a is given its value in the next
// argument: a known flag that is not boolean, written without "=".
func takesValue(defs []cli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range defs {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			_, isBool := f.(*cli.BoolFlag)
			return !isBool
		}
	}
	return false
}
