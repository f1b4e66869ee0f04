package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// The end-to-end tests build the real binary once and run it as a
// responder would, checking exit codes, stdout and stderr.

const (
	testVersion = "9.8.7-test"
	testCommit  = "0123456789abcdef"
)

// binary is the built firebreak, set by buildBinary.
var binary string

// versionFlags stamp the test version into the binaries.
var versionFlags = fmt.Sprintf("-X %[1]s.version=%[2]s -X %[1]s.commit=%[3]s", "github.com/firebreak-ir/firebreak/internal/cli", testVersion, testCommit)

var (
	// firebreakBin is the responder's binary; labBin adds demo and bench.
	firebreakBin = &testenv.Binary{Pkg: "../../cmd/firebreak", LDFlags: versionFlags}
	labBin       = &testenv.Binary{Pkg: "../../cmd/firebreak-lab", LDFlags: versionFlags}
)

func TestMain(m *testing.M) {
	code := m.Run()
	firebreakBin.Remove()
	labBin.Remove()
	os.Exit(code)
}

// buildBinary builds firebreak once, on first use: unit tests and fuzz
// workers, which never run it, do not pay for the build.
func buildBinary(t *testing.T) string {
	t.Helper()
	binary = firebreakBin.Path(t)
	return binary
}

// sandbox is a working directory, home and state dir private to one test,
// with the test playbooks on the playbook path and no AWS configuration.
type sandbox struct {
	t     *testing.T
	bin   string // the binary run
	dir   string
	state string
	env   []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	buildBinary(t)
	dir := t.TempDir()
	pbs, err := filepath.Abs("testdata/playbooks")
	if err != nil {
		t.Fatal(err)
	}
	s := &sandbox{t: t, bin: binary, dir: dir, state: filepath.Join(dir, "state")}
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"FIREBREAK_STATE_DIR=" + s.state,
		"FIREBREAK_PLAYBOOKS=" + pbs,
		// No AWS: nothing may reach beyond 127.0.0.1, not even instance
		// metadata.
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
	}
	return s
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs firebreak with args in the sandbox and waits for it.
func (s *sandbox) run(args ...string) result {
	s.t.Helper()
	cmd := s.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{code: exitOf(s.t, err), stdout: out.String(), stderr: errb.String()}
}

// runStdin is run with stdin.
func (s *sandbox) runStdin(stdin string, args ...string) result {
	s.t.Helper()
	cmd := s.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	return result{code: exitOf(s.t, err), stdout: out.String(), stderr: errb.String()}
}

func (s *sandbox) command(args ...string) *exec.Cmd {
	cmd := exec.Command(s.bin, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	return cmd
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running firebreak: %v", err)
	return -1
}

// want fails the test unless r exited with code.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("got exit %d, want %d\n%s", r.code, code, r)
	}
	return r
}

var manifestLine = regexp.MustCompile(`(?m)^manifest: (.+)$`)

// manifestPath is the manifest a run printed.
func (r result) manifestPath(t *testing.T) string {
	t.Helper()
	m := manifestLine.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no \"manifest: PATH\" line in the output\n%s", r)
	}
	return strings.TrimSpace(m[1])
}

var runIDPattern = regexp.MustCompile(`firebreak resume (run-[0-9A-Za-z-]+)`)

func (r result) resumeID(t *testing.T) string {
	t.Helper()
	m := runIDPattern.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no `firebreak resume RUN_ID` hint in the output\n%s", r)
	}
	return m[1]
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want it to hold %q, got:\n%s", what, w, got)
		}
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
