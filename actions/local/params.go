package local

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// ErrProgramNotFound: argv[0] names no executable file. Retrying cannot help.
var ErrProgramNotFound = errors.New("program not found")

// defaultGrace is how long a stopped command has between SIGTERM and
// SIGKILL, and how long its output pipes may stay open after it exits.
const defaultGrace = 5 * time.Second

// commandParams are the command step's parameters, checked.
type commandParams struct {
	argv    []string
	dir     string
	env     []string
	stdin   string
	okCodes map[int]bool
	// retryCodes are exit codes that say "try again later" (curl's 7,
	// could not connect): the step's retries apply to them.
	retryCodes map[int]bool
	grace      time.Duration
}

func parseParams(p engine.Params) (*commandParams, error) {
	argv, err := stringList(p.List("argv"), "argv")
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, fmt.Errorf("argv is empty: give the program and its arguments as a list, e.g. [uname, -a]")
	}
	inherit, err := stringList(p.List("inherit_env"), "inherit_env")
	if err != nil {
		return nil, err
	}
	env, err := buildEnv(inherit, p.Map("env"))
	if err != nil {
		return nil, err
	}
	ok, err := codeSet(p.List("ok_exit_codes"), "ok_exit_codes")
	if err != nil {
		return nil, err
	}
	ok[0] = true
	retry, err := codeSet(p.List("retry_exit_codes"), "retry_exit_codes")
	if err != nil {
		return nil, err
	}
	grace := defaultGrace
	if p.Has("grace") {
		grace = p.Duration("grace")
	}
	if grace <= 0 {
		return nil, fmt.Errorf("grace must be positive, e.g. \"5s\"")
	}
	dir := p.String("dir")
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	return &commandParams{argv: argv, dir: dir, env: env, stdin: p.String("stdin"), okCodes: ok, retryCodes: retry, grace: grace}, nil
}

func codeSet(l []any, name string) (map[int]bool, error) {
	set := map[int]bool{}
	for i, v := range l {
		n, err := engine.Coerce(engine.TypeInt, v)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		set[n.(int)] = true
	}
	return set, nil
}

// stringList takes a list of scalars as strings. A nested list or map is
// an error rather than being flattened into something nobody wrote.
func stringList(l []any, name string) ([]string, error) {
	out := make([]string, len(l))
	for i, v := range l {
		switch x := v.(type) {
		case string:
			out[i] = x
		case int, int64, uint64, float64, bool:
			out[i] = engine.Format(x)
		default:
			return nil, fmt.Errorf("%s[%d] is %s: each item must be a string", name, i, engine.Describe(v))
		}
	}
	return out, nil
}

// checkDir catches a bad working directory before the start, where the
// kernel would blame the program instead.
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("dir %q: %w; create it or fix the path", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("dir %q is not a directory", dir)
	}
	return nil
}
