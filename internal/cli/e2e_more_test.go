package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestApprovalWithoutTerminalStopsResumable(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "asks").want(t, 3)
	runID := r.resumeID(t)
	mpath := r.manifestPath(t)
	m := readManifest(t, mpath)
	status := map[string]string{}
	for _, st := range m.Steps {
		status[st.ID] = st.Status
	}
	if status["look"] != "succeeded" || status["act"] == "succeeded" {
		t.Fatalf("steps before approval: got %v, want look succeeded and act not run", status)
	}
	s.run("resume", runID, "--yes").want(t, 0)
	m = readManifest(t, mpath)
	if m.Status != "succeeded" {
		t.Errorf("after resume --yes: got status %q, want succeeded", m.Status)
	}
	s.run("verify", mpath).want(t, 0)
}

func TestPlanCheckFindsProblems(t *testing.T) {
	s := newSandbox(t)
	r := s.run("plan", "missing-tool").want(t, 0) // without --check nothing is looked up
	contains(t, "plan", r.stdout, "exec firebreak-no-such-program-here --help")
	r = s.run("plan", "missing-tool", "--check").want(t, 1)
	contains(t, "plan --check", r.stdout, "problem:", "firebreak-no-such-program-here")
	contains(t, "plan --check", r.stderr, "the run would fail")
	s.run("run", "missing-tool", "--dry-run").want(t, 1)
}

func TestJSONLogsOneObjectPerLine(t *testing.T) {
	s := newSandbox(t)
	r := s.run("--log-format", "json", "run", "local-check").want(t, 0)
	var statuses []string
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("stderr line is not one JSON object: %q: %v", sc.Text(), err)
		}
		if rec["step"] == "hello" {
			statuses = append(statuses, rec["status"].(string))
		}
	}
	if strings.Join(statuses, ",") != "running,succeeded" {
		t.Errorf("hello's state changes: got %v, want [running succeeded]", statuses)
	}
	// Failures, interruptions and errors keep stderr one object a line.
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "fails"}, 1, `"status":"failed"`},
		{[]string{"run", "asks"}, 3, "firebreak resume"},
		{[]string{"plan", "missing-tool", "--check"}, 1, "the check found 1 problem"},
		{[]string{"plan", "no-such-playbook"}, 2, `"level":"ERROR"`},
	} {
		r := s.run(append([]string{"--log-format", "json"}, tt.args...)...).want(t, tt.code)
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("%v: stderr line is not JSON: %q", tt.args, line)
			}
		}
		contains(t, strings.Join(tt.args, " "), r.stderr, tt.want)
	}
}

// TestLiveDisplayOnTerminal runs under script(1), which gives the binary a
// real pseudo-terminal: the steps are then redrawn in place.
func TestLiveDisplayOnTerminal(t *testing.T) {
	script := testenv.LookPath(t, "script") // util-linux: a pseudo-terminal to run under
	s := newSandbox(t)
	log := filepath.Join(s.dir, "typescript")
	cmdline := binary + " run fails --no-color"
	cmd := exec.Command(script, "-qefc", cmdline, log)
	cmd.Dir, cmd.Env = s.dir, append(s.env, "TERM=xterm")
	err := cmd.Run()
	out, rerr := os.ReadFile(log)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if code := exitOf(t, err); code != 1 {
		t.Fatalf("got exit %d, want 1 (a step fails)\n%s", code, out)
	}
	text := string(out)
	// Drawn at the start and redrawn in place: the cursor goes back up
	// over the three rows.
	contains(t, "terminal output", text, "\x1b[2K", "\x1b[3F", "bad", "failed", "skipped", "succeeded", "STEP", "manifest: ")
	if strings.Contains(text, "level=INFO") {
		t.Errorf("terminal output holds log lines; want only the live display:\n%s", text)
	}
}

func TestYesApprovesAndInputsFile(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "asks", "--yes").want(t, 0)
	if m := readManifest(t, r.manifestPath(t)); m.Status != "succeeded" {
		t.Errorf("run --yes: got status %q, want succeeded", m.Status)
	}
	inputs := filepath.Join(s.dir, "inputs.yaml")
	writeFile(t, inputs, []byte("greeting: howdy\nhost: from-file\n"))
	r = s.run("plan", "local-check", "--inputs-file", inputs, "-i", "host=from-flag", "--format", "json").want(t, 0)
	var p struct{ Inputs map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	if p.Inputs["greeting"] != "howdy" || p.Inputs["host"] != "from-flag" {
		t.Errorf("inputs: got %v, want greeting from the file and host from -i", p.Inputs)
	}
	writeFile(t, inputs, []byte("greeting: [unclosed\n"))
	r = s.run("plan", "local-check", "--inputs-file", inputs).want(t, 2)
	contains(t, "bad inputs file", r.stderr, "inputs.yaml")
}

// TestApprovalPromptOnTerminal answers an approve step's question on a
// pseudo-terminal, yes then no.
func TestApprovalPromptOnTerminal(t *testing.T) {
	script := testenv.LookPath(t, "script") // util-linux: a pseudo-terminal to run under
	for _, tt := range []struct {
		answer string
		acted  bool
	}{{"y", true}, {"n", false}} {
		t.Run(tt.answer, func(t *testing.T) {
			s := newSandbox(t)
			log := filepath.Join(s.dir, "typescript")
			cmd := exec.Command(script, "-qefc", binary+" run asks --no-color", log)
			cmd.Dir, cmd.Env = s.dir, append(s.env, "TERM=xterm")
			cmd.Stdin = strings.NewReader(tt.answer + "\n")
			err := cmd.Run()
			out, _ := os.ReadFile(log)
			code := exitOf(t, err)
			contains(t, "terminal", string(out), `step "act" asks: Really act? [y/N]`)
			m := manifestLine.FindStringSubmatch(strings.ReplaceAll(string(out), "\r", ""))
			if m == nil {
				t.Fatalf("no manifest line (exit %d):\n%s", code, out)
			}
			man := readManifest(t, strings.TrimSpace(m[1]))
			acted := false
			for _, st := range man.Steps {
				acted = acted || (st.ID == "act" && st.Status == "succeeded")
			}
			if acted != tt.acted {
				t.Errorf("answer %q: act succeeded = %v, want %v (exit %d, status %s)\n%s", tt.answer, acted, tt.acted, code, man.Status, out)
			}
			if tt.acted && code != 0 {
				t.Errorf("answer y: got exit %d, want 0", code)
			}
		})
	}
}
