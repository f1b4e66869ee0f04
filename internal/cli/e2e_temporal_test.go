//go:build unix

package cli

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// temporalSandbox is a sandbox whose commands reach a dev server of their
// own (FIREBREAK_TEMPORAL), with workers as separate processes.
func temporalSandbox(t *testing.T) (*sandbox, *testenv.Temporal) {
	t.Helper()
	srv := testenv.StartTemporal(t)
	s := newSandbox(t)
	s.env = append(s.env, "FIREBREAK_TEMPORAL="+srv.Addr, "FIREBREAK_TEMPORAL_NAMESPACE="+srv.Namespace,
		"FIREBREAK_TEMPORAL_HEARTBEAT=2s")
	return s, srv
}

// lines is a process's stderr, read as it comes.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func readLines(r io.Reader) *lines {
	l := &lines{ch: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.buf.WriteString(sc.Text() + "\n")
			l.mu.Unlock()
			select {
			case l.ch <- sc.Text():
			default:
			}
		}
		close(l.ch)
	}()
	return l
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLine waits for a line holding every want.
func (l *lines) waitLine(t *testing.T, wants ...string) string {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-l.ch:
			if !ok {
				t.Fatalf("output ended before a line with %q:\n%s", wants, l.String())
			}
			all := true
			for _, w := range wants {
				all = all && strings.Contains(line, w)
			}
			if all {
				return line
			}
		case <-timeout:
			t.Fatalf("no line with %q within 2 minutes:\n%s", wants, l.String())
		}
	}
}

// startProc starts firebreak with args in the background; the test kills
// it at the end if it is still there.
func (s *sandbox) startProc(args ...string) (*exec.Cmd, *lines) {
	s.t.Helper()
	cmd := s.command(args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, readLines(stderr)
}

func (s *sandbox) startWorker() (*exec.Cmd, *lines) {
	s.t.Helper()
	cmd, out := s.startProc("worker", "--max-concurrent", "4")
	out.waitLine(s.t, "serving task queue")
	return cmd, out
}

// TestTemporalRunApproveRuns: run --temporal hands the steps to a worker
// process and shows them as a local run does; an approve step waits until
// `firebreak approve` answers it; `runs --temporal` lists the run; the
// case verifies.
func TestTemporalRunApproveRuns(t *testing.T) {
	s, _ := temporalSandbox(t)
	s.startWorker()
	run, out := s.startProc("run", "asks", "--evidence", filepath.Join(s.dir, "evidence"))
	line := out.waitLine(t, "waits for approval", "firebreak approve")
	f := strings.Fields(line[strings.Index(line, "firebreak approve"):])
	if len(f) < 4 {
		t.Fatalf("no run id in %q", line)
	}
	runID, step := f[2], strings.TrimSuffix(f[3], "`")
	if step != "act" {
		t.Fatalf("waiting step %q, want act", step)
	}
	runs := s.run("runs").want(t, 0)
	contains(t, "runs --temporal", runs.stdout, runID, "asks", "running")
	s.run("approve", runID, "look").want(t, 2) // not waiting
	s.run("approve", runID, "act").want(t, 0)
	if err := run.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	stderr := out.String()
	r := result{stderr: stderr}
	s.run("verify", r.manifestPath(t)).want(t, 0)
	m := readManifest(t, r.manifestPath(t))
	if m.Status != "succeeded" || len(m.Steps) != 2 {
		t.Fatalf("manifest: %s with %d steps, want succeeded with 2", m.Status, len(m.Steps))
	}
	runs = s.run("runs", "--format", "json").want(t, 0)
	contains(t, "runs after", runs.stdout, runID, `"succeeded"`)
	s.run("approve", "--temporal", "", runID, "act").want(t, 2) // no cluster: a usage error
}

// TestTemporalWorkerKilledMidStep: SIGKILL the worker running a step; the
// other worker runs it again once the first stops heartbeating, the run
// ends as an uninterrupted one, and the one custody chain, appended by
// both workers and the session, shows the lost worker and verifies.
func TestTemporalWorkerKilledMidStep(t *testing.T) {
	s, _ := temporalSandbox(t)
	a, _ := s.startWorker()
	b, _ := s.startWorker()
	marker := filepath.Join(s.dir, "marker")
	run, out := s.startProc("run", "blocks", "-i", "marker="+marker, "--evidence", filepath.Join(s.dir, "evidence"))
	out.waitLine(t, "step=wait", "status=running")
	holder := waitChildOf(t, "sleep", a.Process.Pid, b.Process.Pid)
	if err := syscall.Kill(holder, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	writeFile(t, marker, nil) // the step's next attempt returns at once
	if err := run.Wait(); err != nil {
		t.Fatalf("run after the worker was killed: %v\n%s", err, out.String())
	}
	r := result{stderr: out.String()}
	s.run("verify", r.manifestPath(t)).want(t, 0)
	m := readManifest(t, r.manifestPath(t))
	if m.Status != "succeeded" {
		t.Fatalf("manifest status %s, want succeeded", m.Status)
	}
	custody, err := os.ReadFile(filepath.Join(filepath.Dir(r.manifestPath(t)), "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "custody", string(custody), `"step.worker_lost"`, `"step.succeeded"`)
}

// waitChildOf waits for a process named name whose parent is one of
// parents, and returns that parent: the worker running the step.
func waitChildOf(t *testing.T, name string, parents ...int) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, d := range dirs {
			b, err := os.ReadFile(d)
			if err != nil {
				continue
			}
			st := string(b)
			open, end := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
			if open < 0 || end < 0 || st[open+1:end] != name {
				continue
			}
			f := strings.Fields(st[end+1:])
			if len(f) < 2 {
				continue
			}
			ppid, _ := strconv.Atoi(f[1])
			for _, p := range parents {
				if ppid == p {
					return p
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s under %v", name, parents)
	return 0
}

// TestTemporalInterruptResume: Ctrl-C of the starter interrupts the run
// on Temporal as it does a local one (exit 3, the case sealed interrupted,
// a resume hint); resume --temporal continues it in the same case,
// keeping the step that succeeded.
func TestTemporalInterruptResume(t *testing.T) {
	s, _ := temporalSandbox(t)
	s.startWorker()
	marker := filepath.Join(s.dir, "marker")
	r := s.interrupt(syscall.SIGINT, "wait", "run", "blocks", "-i", "marker="+marker, "--evidence", filepath.Join(s.dir, "evidence"))
	r.want(t, 3)
	mpath := r.manifestPath(t)
	if m := readManifest(t, mpath); m.Status != "interrupted" {
		t.Fatalf("manifest after Ctrl-C: %s, want interrupted", m.Status)
	}
	s.run("verify", mpath).want(t, 0)
	runID := r.resumeID(t)
	contains(t, "runs", s.run("runs").want(t, 0).stdout, runID, "interrupted")
	writeFile(t, marker, nil)
	res := s.run("resume", runID).want(t, 0)
	if got := res.manifestPath(t); got != mpath {
		t.Fatalf("resume sealed %s, want the same case's %s", got, mpath)
	}
	m := readManifest(t, mpath)
	if m.Status != "succeeded" {
		t.Fatalf("manifest after resume: %s", m.Status)
	}
	s.run("verify", mpath).want(t, 0)
	custody, err := os.ReadFile(filepath.Join(filepath.Dir(mpath), "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// first ran once: kept by the resume, not run again.
	if n := strings.Count(string(custody), `"event":"step.started","step":"first"`); n != 1 {
		t.Errorf("first started %d times, want once (kept by the resume)\n%s", n, custody)
	}
	contains(t, "custody", string(custody), `"run.resumed"`, `"step.cancelled"`)
	s.run("resume", runID).want(t, 0) // already succeeded: nothing to do
}

// pollsPlaybook has a step that waits until its marker file exists.
const pollsPlaybook = `name: polls
version: 1.0.0
inputs:
  marker: {type: string, required: true}
steps:
  - id: first
    action: command
    with: {argv: [echo, before]}
  - id: wait
    action: command
    needs: [first]
    with:
      argv: [sh, -c, "while [ ! -e \"$1\" ]; do sleep 0.2; done", sh, "${{ inputs.marker }}"]
  - id: last
    action: command
    needs: [wait]
    with: {argv: [echo, after]}
`

// TestTemporalServerRestartMidRun: the Temporal server stops and starts
// again (same database) while a step runs; the worker and the starter
// reconnect and the run finishes.
func TestTemporalServerRestartMidRun(t *testing.T) {
	s, srv := temporalSandbox(t)
	s.startWorker()
	marker := filepath.Join(s.dir, "marker")
	pb := filepath.Join(s.dir, "polls.yaml")
	writeFile(t, pb, []byte(pollsPlaybook))
	run, out := s.startProc("run", pb, "-i", "marker="+marker, "--evidence", filepath.Join(s.dir, "evidence"))
	out.waitLine(t, "step=wait", "status=running")
	srv.Restart(t)
	writeFile(t, marker, nil)
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run across a server restart: %v\n%s", err, out.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("the run did not end within 3 minutes of the restart\n%s", out.String())
	}
	r := result{stderr: out.String()}
	s.run("verify", r.manifestPath(t)).want(t, 0)
	if m := readManifest(t, r.manifestPath(t)); m.Status != "succeeded" {
		t.Fatalf("manifest: %s", m.Status)
	}
}
