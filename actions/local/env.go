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

// awsCredentialVars are the variables through which AWS credentials reach
// a process (the SDKs' environment provider, web identity, the container
// credential endpoints). Whatever a playbook or an input says, inherit_env
// never passes them: firebreak's own credentials must not reach evidence
// through a program that prints its environment. Compared without case.
var awsCredentialVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_CREDENTIAL_EXPIRATION",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_SHARED_CREDENTIALS_FILE",
}

// checkInherit refuses a name inherit_env may not pass: an AWS credential
// variable, or one the run's steps declare as holding a secret (secret:
// engine.StepInput.SecretEnv).
func checkInherit(k string, secret map[string]string) error {
	for _, v := range awsCredentialVars {
		if strings.EqualFold(k, v) {
			return fmt.Errorf("inherit_env: %q holds AWS credentials, which firebreak never passes to a program (its output is evidence): remove it", k)
		}
	}
	if by, ok := secret[k]; ok {
		return fmt.Errorf("inherit_env: %q holds a secret (%s), which firebreak never passes to a program (its output is evidence): remove it", k, by)
	}
	return nil
}

// buildEnv returns the child's environment, sorted for a stable record:
// the base keys, LANG=C (stable, parseable output), the inherited names,
// then the step's env map on top. Names that hold credentials or secrets
// (checkInherit) are refused.
func buildEnv(inherit []string, set map[string]any, secret map[string]string) ([]string, error) {
	env := map[string]string{"PATH": defaultPath, "LANG": "C"}
	for _, k := range inherit {
		if err := checkInherit(k, secret); err != nil {
			return nil, err
		}
	}
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
