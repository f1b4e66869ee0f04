package local

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// defaultPath is the child's PATH when firebreak itself has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// baseEnvKeys are copied from firebreak's own environment into every
// command's. Nothing else is: the parent environment of an incident
// responder holds AWS keys and session tokens, and a program that prints
// its environment would copy them into the evidence. A playbook passes
// more names through with inherit_env, or sets values with env.
var baseEnvKeys = []string{"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ"}

// buildEnv returns the child's environment, sorted for a stable record:
// the base keys, LANG=C (stable, parseable output), the inherited names,
// then the step's env map on top.
func buildEnv(inherit []string, set map[string]any) ([]string, error) {
	env := map[string]string{"PATH": defaultPath, "LANG": "C"}
	for _, k := range append(append([]string{}, baseEnvKeys...), inherit...) {
		if err := checkEnvKey(k); err != nil {
			return nil, fmt.Errorf("inherit_env: %w", err)
		}
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for k, v := range set {
		if err := checkEnvKey(k); err != nil {
			return nil, fmt.Errorf("env: %w", err)
		}
		s := engine.Format(v)
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("env: value of %q holds a NUL byte, which no program can receive", k)
		}
		env[k] = s
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

func checkEnvKey(k string) error {
	if k == "" || strings.ContainsAny(k, "=\x00") {
		return fmt.Errorf("bad variable name %q: use a name without '=' or NUL", k)
	}
	return nil
}

// envValue returns the value of key in an environment list.
func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// lookPath finds name the way a shell would, but in the child's PATH (which
// the step may set) rather than firebreak's. A name with a slash is taken
// as it is, relative to dir.
func lookPath(name, path, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%w: %q: %v; check the path in argv[0]", ErrProgramNotFound, name, err)
		}
		return name, nil
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" || !filepath.IsAbs(d) {
			continue // a relative PATH entry would depend on dir: never trusted
		}
		p := filepath.Join(d, name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q is not in PATH %q; install it, or give its full path as argv[0]", ErrProgramNotFound, name, path)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("not executable")
	}
	return nil
}
