package faulttest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// hostFaults are the faults host-compromise must come through: 20%
// throttling, 5% server errors, 1% connections dropped before the call
// reaches AWS.
var hostFaults = faultproxy.Rule{Throttle: 0.20, ServerError: 0.05, Drop: 0.01}

var mutating = true

// faultProfiles are the kinds of trouble host-compromise is run through.
// lost answers are the hard case: AWS acted, the client never heard, and
// the SDK sends the same call again.
var faultProfiles = []struct {
	name  string
	rule  faultproxy.Rule
	exact bool // the Create* calls that reach AWS are exactly the fault-free run's
}{
	{"throttling+5xx+drops", hostFaults, true},
	{"lost-answers", faultproxy.Rule{Mutating: &mutating, DropAfter: 0.2}, false},
}

// forwardedCreates counts, per operation, the Create*/Put*/Attach*-style
// calls that reached AWS: the calls that would make a second copy of
// something if an action repeated itself.
func forwardedCreates(calls []faultproxy.Call) map[string]int {
	got := map[string]int{}
	for _, c := range calls {
		if c.Forwarded && c.Mutating && strings.HasPrefix(c.Operation, "Create") {
			got[c.Service+":"+c.Operation]++
		}
	}
	return got
}

func faultShares(calls []faultproxy.Call) string {
	n := map[faultproxy.Fault]int{}
	for _, c := range calls {
		n[c.Fault]++
	}
	var parts []string
	for _, f := range slices.Sorted(maps.Keys(n)) {
		name := string(f)
		if name == "" {
			name = "none"
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, n[f]))
	}
	return strings.Join(parts, " ")
}

// TestHostCompromiseUnderFaults runs host-compromise fault-free on one
// world and under hostFaults on another, on the same moto: the faulty run
// succeeds and leaves the same end state, with nothing made twice.
func TestHostCompromiseUnderFaults(t *testing.T) {
	seeds := seedsFor(t, 1)
	e := newEnv(t, 0)
	ctx := testenv.Context(t)
	calm := e.world(t)
	base := runHost(t, e.proxied, calm)
	if base.res.Status != engine.RunSucceeded {
		t.Fatalf("fault-free run: got %s, want succeeded", base.res.Status)
	}
	want := readState(t, ctx, e.check, calm, base.caseID)
	wantContained(t, want)
	wantCreates := forwardedCreates(e.proxy.Calls())
	for _, fp := range faultProfiles {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/seed=%d", fp.name, seed), func(t *testing.T) {
				hostUnderFaults(t, e, seed, fp.rule, fp.exact, want, wantCreates, base.makespan())
			})
		}
	}
}

func hostUnderFaults(t *testing.T, e *env, seed uint64, rule faultproxy.Rule, exact bool, want endState, wantCreates map[string]int, baseMakespan time.Duration) {
	t.Helper()
	ctx := testenv.Context(t)
	e.proxy.SetRules()
	w := e.world(t)
	e.proxy.Reset()
	e.proxy.Reseed(seed)
	e.proxy.SetRules(rule)
	// A new process would start with a fresh retryer: so does this run.
	cfg := e.proxied.Copy()
	r := runHost(t, cfg, w)
	calls := e.proxy.Calls()
	e.proxy.SetRules()
	t.Logf("%d calls: %s; makespan %v (fault-free %v)", len(calls), faultShares(calls), r.makespan(), baseMakespan)
	if r.res.Status != engine.RunSucceeded {
		t.Fatalf("run under faults: got %s, want succeeded", r.res.Status)
	}
	got := readState(t, ctx, e.check, w, r.caseID)
	wantContained(t, got)
	if !got.equal(want) {
		t.Errorf("end state under faults differs from the fault-free one\ngot:\n%v\nwant:\n%v", got, want)
	}
	if gc := forwardedCreates(calls); exact && !maps.Equal(gc, wantCreates) {
		t.Errorf("Create* calls that reached AWS: got %v, want the fault-free run's %v", gc, wantCreates)
	}
	faulted := 0
	for _, c := range calls {
		if c.Fault != faultproxy.None {
			faulted++
		}
	}
	if faulted == 0 {
		t.Errorf("no call was faulted: the test proves nothing")
	}
	verify(t, r.store, r.caseID)
}
