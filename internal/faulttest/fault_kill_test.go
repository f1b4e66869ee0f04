package faulttest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// slowCalls gives every call enough latency that a step is still running
// when the test kills the process.
var slowCalls = faultproxy.Rule{Latency: 150 * time.Millisecond}

// killPoint is where in a run the process is killed: when match first
// holds for a call the proxy has seen (the calls so far, in order).
type killPoint struct {
	name  string
	step  string // the step running at that point; "" when it depends on the seed
	match func(seen []faultproxy.Call) bool
}

// nth holds once the proxy has seen op n times: the n-1 before it were
// answered (the run makes one call at a time at these points).
func nth(op string, n int) func([]faultproxy.Call) bool {
	return func(seen []faultproxy.Call) bool {
		k := 0
		for _, c := range seen {
			if c.Operation == op {
				k++
			}
		}
		return k >= n
	}
}

// afterCreateSnapshots holds at the first DescribeSnapshots after a
// CreateSnapshots: the set exists, the wait for it has begun.
func afterCreateSnapshots(seen []faultproxy.Call) bool {
	created := false
	for _, c := range seen {
		created = created || c.Operation == "CreateSnapshots"
		if created && c.Operation == "DescribeSnapshots" {
			return true
		}
	}
	return false
}

func killPoints(seed uint64) []killPoint {
	k := 3 + rand.New(rand.NewPCG(seed, 42)).IntN(45) // a fault-free run makes about 70 calls
	return []killPoint{
		{"inside-isolate", "isolate", nth("ModifyNetworkInterfaceAttribute", 2)},
		{"between-create-and-wait", "disks", afterCreateSnapshots},
		{fmt.Sprintf("call-%d", k), "", func(seen []faultproxy.Call) bool { return len(seen) >= k }},
	}
}

// liveRun is `firebreak run host-compromise` running in its own process.
type liveRun struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan int
}

// startCLIRun starts `firebreak run host-compromise` on an instance through
// the slowed proxy and returns once point is reached.
func startCLIRun(t *testing.T, e *env, c *cli, caseID, instanceID string, point killPoint) *liveRun {
	t.Helper()
	e.proxy.Reset()
	e.proxy.SetRules(slowCalls)
	cmd, out := c.command("run", "host-compromise", "-i", "instance_id="+instanceID, "--evidence", c.evidence, "--case", caseID)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &liveRun{cmd: cmd, out: out, done: make(chan int, 1)}
	go func() { r.done <- exitCode(t, cmd.Wait()) }()
	reached := make(chan struct{})
	go func() {
		_, _ = e.proxy.WaitFor(testenv.Context(t), point.match)
		close(reached)
	}()
	select {
	case <-reached:
	case code := <-r.done:
		t.Fatalf("run ended (exit %d) before %s\n%s", code, point.name, out)
	}
	seen := e.proxy.Calls()
	t.Logf("%s: at call %d %s:%s", point.name, len(seen), seen[len(seen)-1].Service, seen[len(seen)-1].Operation)
	return r
}

// stop sends sig and returns the exit code (-1 when the signal killed it).
func (r *liveRun) stop(t *testing.T, e *env, sig os.Signal) int {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	code := <-r.done
	e.proxy.SetRules()
	t.Logf("run stopped by %v: exit %d\n%s", sig, code, r.out)
	return code
}

// TestKilledRunIsFinishedByResume kills `firebreak run` with SIGKILL at
// chosen and random points; `firebreak resume` finishes it with the end
// state of an uninterrupted run, a case that verifies, and a custody log
// that shows the interruption.
func TestKilledRunIsFinishedByResume(t *testing.T) {
	e := newEnv(t, 0)
	want := e.baseline(t)
	for _, seed := range seedsFor(t, 1) {
		for _, point := range killPoints(seed) {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, point.name), func(t *testing.T) {
				w := e.world(t)
				c := newCLI(t, e.proxy.URL)
				caseID := "case-kill-" + point.name
				startCLIRun(t, e, c, caseID, w.InstanceID, point).stop(t, e, syscall.SIGKILL)
				if code, out := c.run("resume", c.runID()); code != 0 {
					t.Fatalf("resume: exit %d, want 0\n%s", code, out)
				}
				e.wantEndState(t, w, caseID, want)
				verify(t, c.store(), caseID)
				wantInterruption(t, custody(t, c.evidence, caseID), point.step)
			})
		}
	}
}

// TestTerminatedRunStopsCleanly sends SIGTERM inside isolate: the run ends
// with exit 3, every step it started has ended in the custody log, the
// interrupted case verifies, and resume finishes it.
func TestTerminatedRunStopsCleanly(t *testing.T) {
	e := newEnv(t, 0)
	want := e.baseline(t)
	w := e.world(t)
	c := newCLI(t, e.proxy.URL)
	caseID := "case-term"
	point := killPoints(1)[0]
	if code := startCLIRun(t, e, c, caseID, w.InstanceID, point).stop(t, e, syscall.SIGTERM); code != 3 {
		t.Fatalf("run after SIGTERM: exit %d, want 3 (interrupted)", code)
	}
	log := custody(t, c.evidence, caseID)
	open := map[string]bool{}
	for _, en := range log {
		switch en.Event {
		case "step.started":
			open[en.Step] = true
		case "step.succeeded", "step.failed", "step.cancelled", "step.skipped":
			delete(open, en.Step)
		}
	}
	if len(open) != 0 {
		t.Errorf("steps started and never ended after SIGTERM: %v\n%v", open, events(log))
	}
	verify(t, c.store(), caseID)
	if code, out := c.run("resume", c.runID()); code != 0 {
		t.Fatalf("resume: exit %d, want 0\n%s", code, out)
	}
	e.wantEndState(t, w, caseID, want)
	verify(t, c.store(), caseID)
}

// wantInterruption checks that the custody log shows the run resumed after
// step (when known) had started and not ended.
func wantInterruption(t *testing.T, log []evidence.Entry, step string) {
	t.Helper()
	resumed := slices.IndexFunc(log, func(e evidence.Entry) bool { return e.Event == "run.resumed" })
	if resumed < 0 {
		t.Fatalf("custody log has no run.resumed entry:\n%v", events(log))
	}
	if step == "" {
		return
	}
	started, ended := false, false
	for _, en := range log[:resumed] {
		if en.Step == step && en.Event == "step.started" {
			started = true
		}
		if en.Step == step && (en.Event == "step.succeeded" || en.Event == "step.failed") {
			ended = true
		}
	}
	if !started || ended {
		t.Errorf("custody before run.resumed: step %s started %v, ended %v; want started and not ended\n%v", step, started, ended, events(log))
	}
}

func events(log []evidence.Entry) []string {
	var out []string
	for _, e := range log {
		out = append(out, e.Event+":"+e.Step)
	}
	return out
}
