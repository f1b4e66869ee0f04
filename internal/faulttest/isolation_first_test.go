package faulttest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestIsolationFirst runs host-compromise behind the recording proxy with
// 100 ms a call and reads the calls' order and count (never their
// duration: the benchmark measures speed):
//   - isolate does not wait for collect-metadata: it starts before gather ends;
//   - the pre-isolation state goes into prev tags in one CreateTags call per
//     distinct tag set (the instance's, the volumes' flag, each distinct
//     group list of the ENIs), made at once, all before the first change
//     to the instance;
//   - the host leaves its Auto Scaling group before any ENI moves;
//   - the ENIs move at once: both conversion moves start before either ends;
//   - collect-metadata reads at once: its console output, image and volume
//     reads overlap;
//   - and the end state is the full isolation, as before.
func TestIsolationFirst(t *testing.T) {
	e := newEnv(t, 0, faultproxy.Rule{Latency: 100 * time.Millisecond})
	w := e.world(t)
	e.proxy.Reset()
	r := runHost(t, e.proxied, w)
	if r.res.Status != engine.RunSucceeded {
		t.Fatalf("run: got %s, want succeeded", r.res.Status)
	}
	wantContained(t, readState(t, testenv.Context(t), e.check, w, r.caseID))
	gather, _ := r.res.Step("gather")
	iso, _ := r.res.Step("isolate")
	if gather.FinishedAt == nil || iso.StartedAt == nil || !iso.StartedAt.Before(*gather.FinishedAt) {
		t.Errorf("isolate started at %v, gather finished at %v: isolate must not wait for gather", iso.StartedAt, gather.FinishedAt)
	}

	calls := e.proxy.Calls()
	swaps := ops(calls, "ModifyNetworkInterfaceAttribute")
	if len(swaps) != 2*len(w.ENIIDs) {
		t.Fatalf("%d ModifyNetworkInterfaceAttribute calls, want %d (each ENI into conversion, then isolation)", len(swaps), 2*len(w.ENIIDs))
	}
	firstChange := firstStart(calls, func(c faultproxy.Call) bool {
		return c.Mutating && (c.Operation == "ModifyInstanceAttribute" || c.Operation == "DetachInstances" ||
			c.Operation == "SetInstanceProtection" || c.Operation == "ModifyNetworkInterfaceAttribute" ||
			c.Operation == "DisassociateIamInstanceProfile" || c.Operation == "DeregisterTargets")
	})
	var prevTags []faultproxy.Call
	for _, c := range ops(calls, "CreateTags") {
		if c.Start.Before(firstChange) {
			prevTags = append(prevTags, c)
		}
	}
	groupSets := map[string]bool{}
	for _, gs := range w.GroupsByENI {
		s := slices.Clone(gs)
		slices.Sort(s)
		groupSets[strings.Join(s, ",")] = true
	}
	if want := 2 + len(groupSets); len(prevTags) != want {
		t.Errorf("%d CreateTags calls before the first change, want %d (the instance, the volumes, each distinct group list)", len(prevTags), want)
	}
	for _, c := range prevTags {
		if !c.End.Before(firstChange) && !c.End.Equal(firstChange) {
			t.Errorf("prev-tag CreateTags #%d ended after the first change started", c.Seq)
		}
	}
	if !overlapAll(prevTags) {
		t.Errorf("the prev-tag CreateTags calls were made one after another, want them at once: %v", spans(prevTags))
	}
	detach := ops(calls, "DetachInstances")
	if len(detach) == 0 || detach[len(detach)-1].End.After(swaps[0].Start) {
		t.Errorf("DetachInstances %v must end before the first ENI move starts at %v", spans(detach), swaps[0].Start)
	}
	if !overlapAll(swaps[:len(w.ENIIDs)]) {
		t.Errorf("the ENIs' conversion moves were made one after another, want them at once: %v", spans(swaps))
	}
	reads := slices.Concat(ops(calls, "GetConsoleOutput"), ops(calls, "DescribeImages"), ops(calls, "DescribeVolumes"))
	if len(reads) < 3 || !overlapAny(reads) {
		t.Errorf("collect-metadata's reads were made one after another, want them at once: %v", spans(reads))
	}
}

func ops(calls []faultproxy.Call, op string) []faultproxy.Call {
	var out []faultproxy.Call
	for _, c := range calls {
		if c.Operation == op {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b faultproxy.Call) int { return a.Start.Compare(b.Start) })
	return out
}

func firstStart(calls []faultproxy.Call, match func(faultproxy.Call) bool) time.Time {
	var t time.Time
	for _, c := range calls {
		if match(c) && (t.IsZero() || c.Start.Before(t)) {
			t = c.Start
		}
	}
	return t
}

// overlapAll: every call started before every other ended (they were in
// flight together at the last start).
func overlapAll(cs []faultproxy.Call) bool {
	if len(cs) < 2 {
		return true
	}
	var lastStart, firstEnd time.Time
	for i, c := range cs {
		if i == 0 || c.Start.After(lastStart) {
			lastStart = c.Start
		}
		if i == 0 || c.End.Before(firstEnd) {
			firstEnd = c.End
		}
	}
	return lastStart.Before(firstEnd)
}

// overlapAny: some two calls were in flight together.
func overlapAny(cs []faultproxy.Call) bool {
	for i, a := range cs {
		for _, b := range cs[i+1:] {
			if a.Start.Before(b.End) && b.Start.Before(a.End) {
				return true
			}
		}
	}
	return false
}

func spans(cs []faultproxy.Call) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Operation+" "+c.Start.Format("15:04:05.000")+"-"+c.End.Format("15:04:05.000"))
	}
	return out
}
