package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestMissingInputSaysOnlyWhatIsMissing: without --targets an input error
// is the input's own line, with no empty place or target before it.
func TestMissingInputSaysOnlyWhatIsMissing(t *testing.T) {
	s := newSandbox(t)
	want := "firebreak: input \"instance_id\": required: give it with -i instance_id=VALUE or in --inputs-file\n"
	for _, cmd := range []string{"plan", "run"} {
		r := s.run(cmd, "host-compromise").want(t, 2)
		if r.stderr != want {
			t.Errorf("%s: got stderr %q, want %q", cmd, r.stderr, want)
		}
	}
	// With --targets the line is named.
	targets := filepath.Join(s.dir, "t.txt")
	writeFile(t, targets, []byte("i-0abc1234\nnot-an-id\n"))
	r := s.run("run", "host-compromise", "--targets", targets).want(t, 2)
	contains(t, "targets", r.stderr, `t.txt:2:1: target "not-an-id": input "instance_id"`)
}

// TestSummaryInWords: a skip says why in words, as plan does; a failure
// continue_on_error allows is marked so, and the run succeeds.
func TestSummaryInWords(t *testing.T) {
	s := newSandbox(t)
	p := s.run("plan", "shows").want(t, 0)
	contains(t, "plan", p.stdout, "why: inputs.terminate is false")
	r := s.run("--log-level", "warn", "run", "shows").want(t, 0)
	rows := tableRows(r.stderr)
	for step, want := range map[string]string{
		"tolerated": "tolerated  command  failed (allowed)",
		"stop":      "stop       command  skipped           0         -         inputs.terminate is false",
		"after":     `after      command  skipped           0         -         steps.look.status is "succeeded", not "failed"`,
	} {
		if got := strings.TrimRight(rows[step], " "); got != want && !strings.HasPrefix(got, want) {
			t.Errorf("row of %s:\n got  %q\n want %q", step, got, want)
		}
	}
	contains(t, "summary", r.stderr, "run run-", ": succeeded")
	if strings.Contains(r.stderr, `when "`) {
		t.Errorf("a skip quotes the raw condition:\n%s", r.stderr)
	}
	// The manifest keeps the same words.
	data, err := os.ReadFile(r.manifestPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Steps []struct {
			ID         string `json:"id"`
			SkipReason string `json:"skip_reason"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, st := range m.Steps {
		if st.ID == "stop" && st.SkipReason != "inputs.terminate is false" {
			t.Errorf("manifest skip reason of stop: got %q", st.SkipReason)
		}
	}
}

// tableRows is the summary table's rows by step id.
func tableRows(stderr string) map[string]string {
	rows := map[string]string{}
	in := false
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(l, "STEP "):
			in = true
		case in && strings.TrimSpace(l) == "":
			in = false
		case in:
			rows[strings.Fields(l)[0]] = l
		}
	}
	return rows
}

// TestApprovalQuestionWithoutTerminal: with no terminal to ask on, the run
// stops at the question (exit 3), prints it, and says how to answer.
func TestApprovalQuestionWithoutTerminal(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "asks").want(t, 3)
	id := r.resumeID(t)
	contains(t, "stderr", r.stderr,
		`step "act" asks: Really act?`,
		"no terminal to ask on: stopped there. Approve with `firebreak resume "+id+" --yes`, or answer on a terminal with `firebreak resume "+id+"`")
	if !regexp.MustCompile(`(?m)^act\s+command\s+waiting\s+0\s+-\s+asks: Really act\?$`).MatchString(r.stderr) {
		t.Errorf("the table does not show what act asks:\n%s", r.stderr)
	}
	// As a log line too, when the logs are JSON.
	r = s.run("--log-format", "json", "run", "asks").want(t, 3)
	contains(t, "json logs", r.stderr, `"status":"waiting"`, `"question":"Really act?"`)
}

// TestResumeDisplayStartsWithFinishedSteps: on a terminal, a resumed run's
// first drawing already shows the steps it keeps as succeeded.
func TestResumeDisplayStartsWithFinishedSteps(t *testing.T) {
	script := testenv.LookPath(t, "script") // util-linux: a pseudo-terminal to run under
	s := newSandbox(t)
	id := s.run("run", "asks").want(t, 3).resumeID(t)
	log := filepath.Join(s.dir, "typescript")
	cmd := exec.Command(script, "-qefc", binary+" resume "+id+" --yes --no-color", log)
	cmd.Dir, cmd.Env = s.dir, append(s.env, "TERM=xterm")
	err := cmd.Run()
	out, rerr := os.ReadFile(log)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if code := exitOf(t, err); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, out)
	}
	first, _, _ := strings.Cut(string(out), "\x1b[2F") // up over the two rows: the first redraw
	if !regexp.MustCompile(`look\s+command\s+succeeded \d`).MatchString(first) || strings.Contains(first, "look                         command            waiting") {
		t.Errorf("first drawing of the resume: want look shown succeeded, got:\n%q", first)
	}
}

// TestBatchTableNamesEachFailure: the batch's table gives each failed
// target's failing step and its error.
func TestBatchTableNamesEachFailure(t *testing.T) {
	s := newSandbox(t)
	r := s.runStdin("good\nbad\n", "run", "checks-host", "--targets", "-", "--case", "b1").want(t, 1)
	if !regexp.MustCompile(`(?m)^bad\s+run-\S+\s+failed\s+\S+manifest\.json\s+check: "test" exited with status 1`).MatchString(r.stderr) {
		t.Errorf("the batch table does not say why bad failed:\n%s", r.stderr)
	}
	if !regexp.MustCompile(`(?m)^good\s+run-\S+\s+succeeded\s+\S+manifest\.json\s*$`).MatchString(r.stderr) {
		t.Errorf("the batch table has no clean row for good:\n%s", r.stderr)
	}
}
