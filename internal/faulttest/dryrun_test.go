package faulttest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// motoState is moto's whole model dump: any resource made, changed or
// tagged shows in it.
func motoState(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url + "/moto-api/data.json")
	if err != nil {
		t.Fatalf("reading moto's state: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("reading moto's state: status %d, %v", resp.StatusCode, err)
	}
	// moto lists every model object it made, and it makes a health-status
	// object for each answer to DescribeTargetHealth, a read: that is
	// moto's bookkeeping, not a change to the account, so it is left out.
	var state map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatalf("moto's state: %v", err)
	}
	delete(state["elbv2"], "FakeHealthStatus")
	b, err = json.Marshal(state) // map keys sorted: a stable encoding
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDryRunChangesNothing: plan --check and run --dry-run read the live
// account but make no mutating call (a recording proxy in front of moto
// counts them: zero), and the account is byte-for-byte as it was. The old
// AWS-IR parsed --dry-run and ignored it.
func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t, 1)
	w := e.world(t)
	before := motoState(t, e.moto.URL)
	c := newCLI(t, e.proxy.URL)
	for _, args := range [][]string{
		{"plan", "host-compromise", "-i", "instance_id=" + w.InstanceID, "-i", "terminate=true", "--check"},
		{"run", "host-compromise", "-i", "instance_id=" + w.InstanceID, "-i", "terminate=true", "--dry-run", "--evidence", c.evidence},
	} {
		e.proxy.Reset()
		code, out := c.run(args...)
		if code != 0 && code != 1 { // 1: the plan found problems (e.g. permissions not checkable)
			t.Fatalf("firebreak %v: exit %d, want 0 or 1\n%s", args, code, out)
		}
		calls := e.proxy.Calls()
		if len(calls) == 0 {
			t.Fatalf("firebreak %v: the proxy saw no call; the check did not read the account", args)
		}
		if n := e.proxy.Mutations(); n != 0 {
			for _, call := range calls {
				if call.Mutating && call.Forwarded && !call.DryRun {
					t.Errorf("firebreak %v made a mutating call: %s %s", args, call.Service, call.Operation)
				}
			}
			t.Fatalf("firebreak %v: %d mutating call(s), want 0", args, n)
		}
		dry := 0
		for _, call := range calls {
			if call.DryRun {
				dry++
			}
		}
		t.Logf("firebreak %v: %d calls (%d of them DryRun permission checks), exit %d", args, len(calls), dry, code)
	}
	if after := motoState(t, e.moto.URL); !bytes.Equal(before, after) {
		t.Errorf("moto's state changed under plan --check / run --dry-run (%d bytes before, %d after)", len(before), len(after))
	}
}
