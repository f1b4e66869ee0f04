package faulttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// The tests that kill firebreak need it in a process of its own: the
// binary is built once, on first use, and removed by TestMain.

// binary is the built firebreak, set by buildBinary.
var binary string

var firebreakBin = &testenv.Binary{Pkg: "../../cmd/firebreak"}

func TestMain(m *testing.M) {
	code := m.Run()
	firebreakBin.Remove()
	os.Exit(code)
}

func buildBinary(t testing.TB) string {
	t.Helper()
	binary = firebreakBin.Path(t)
	return binary
}

// cli runs the firebreak binary against an endpoint (the proxy), with its
// own home, state dir and evidence dir.
type cli struct {
	t        testing.TB
	dir      string
	state    string
	evidence string
	env      []string
}

func newCLI(t testing.TB, endpoint string, extraEnv ...string) *cli {
	t.Helper()
	buildBinary(t)
	dir := t.TempDir()
	c := &cli{t: t, dir: dir, state: filepath.Join(dir, "state"), evidence: filepath.Join(dir, "evidence")}
	c.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"FIREBREAK_STATE_DIR=" + c.state,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
		"AWS_ENDPOINT_URL=" + endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=testing",
	}, extraEnv...)
	return c
}

// command is firebreak with args, not started; its output goes to buffers.
func (c *cli) command(args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// run runs firebreak and returns its exit code and output.
func (c *cli) run(args ...string) (int, string) {
	c.t.Helper()
	cmd, out := c.command(args...)
	return exitCode(c.t, cmd.Run()), out.String()
}

func exitCode(t testing.TB, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.ExitCode() < 0 {
			return -1 // killed by a signal
		}
		return ee.ExitCode()
	}
	t.Fatalf("running firebreak: %v", err)
	return 0
}

// runID is the one run in the state dir.
func (c *cli) runID() string {
	c.t.Helper()
	entries, err := os.ReadDir(filepath.Join(c.state, "runs"))
	if err != nil || len(entries) != 1 {
		c.t.Fatalf("runs in %s: %v (%v), want exactly one", c.state, entries, err)
	}
	return entries[0].Name()
}

func (c *cli) store() *evidence.DirStore {
	c.t.Helper()
	s, err := evidence.NewDirStore(c.evidence)
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// custody reads a case's custody log as (event, step) pairs.
func custody(t testing.TB, dir, caseID string) []evidence.Entry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, caseID, "custody.jsonl"))
	if err != nil {
		t.Fatalf("custody log: %v", err)
	}
	var out []evidence.Entry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e evidence.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("custody line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}
