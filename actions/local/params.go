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

// commandDecl declares the command step's parameters: the spec and the
// decoding both read it.
type commandDecl struct {
	Argv       []string       `param:"argv,required" doc:"program and arguments, passed as they are: no shell, no globbing, no expansion"`
	Dir        string         `param:"dir" doc:"working directory (default: firebreak's)"`
	Env        map[string]any `param:"env,secret" doc:"variables added to a minimal environment (PATH, HOME, USER, LOGNAME, TMPDIR, TZ from firebreak's, LANG=C); the rest of firebreak's environment, AWS credentials included, is not passed"`
	InheritEnv []string       `param:"inherit_env" doc:"names of more variables to pass through from firebreak's environment, e.g. [SSH_AUTH_SOCK]; AWS credential variables and variables a step names as holding a secret (key_passphrase_env) are refused"`
	Stdin      string         `param:"stdin,secret" doc:"text fed to the program's standard input (default: none)"`
	OKCodes    []int          `param:"ok_exit_codes" doc:"exit codes besides 0 that count as success, e.g. [1] for grep finding nothing"`
	RetryCodes []int          `param:"retry_exit_codes" doc:"exit codes that mean a passing trouble (e.g. [7, 28] for curl), so the step's retries apply; other failures are final"`
	// Grace is how long a stopped command has between SIGTERM and
	// SIGKILL, and how long its output pipes may stay open after it exits.
	Grace time.Duration `param:"grace" default:"5s" doc:"time between SIGTERM and SIGKILL when the step is stopped"`
}

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

// parseParams checks the step's parameters; secret is StepInput.SecretEnv.
func parseParams(in engine.Params, secret map[string]string) (*commandParams, error) {
	p, err := engine.Decode[commandDecl](in)
	if err != nil {
		return nil, err
	}
	if len(p.Argv) == 0 || p.Argv[0] == "" {
		return nil, fmt.Errorf("argv is empty: give the program and its arguments as a list, e.g. [uname, -a]")
	}
	env, err := buildEnv(p.InheritEnv, p.Env, secret)
	if err != nil {
		return nil, err
	}
	if p.Grace <= 0 {
		return nil, fmt.Errorf("grace must be positive, e.g. \"5s\"")
	}
	if err := checkDir(p.Dir); err != nil {
		return nil, err
	}
	return &commandParams{argv: p.Argv, dir: p.Dir, env: env, stdin: p.Stdin,
		okCodes: codeSet(p.OKCodes, 0), retryCodes: codeSet(p.RetryCodes), grace: p.Grace}, nil
}

// codeSet is the set of codes, and more.
func codeSet(codes []int, more ...int) map[int]bool {
	set := map[int]bool{}
	for _, c := range codes {
		set[c] = true
	}
	for _, c := range more {
		set[c] = true
	}
	return set
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
