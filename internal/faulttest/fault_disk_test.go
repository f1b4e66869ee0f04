package faulttest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestFullEvidenceDisk runs host-compromise with its evidence on a tmpfs too
// small for it: the run fails with the store's full-disk error, the case it
// had written still verifies, and once the disk is grown resume finishes
// it. The store-level cases (a Put or an Append that does not fit) are in
// engine/evidence (TestDirStoreFullDisk, TestCaseOnFullDisk).
func TestFullEvidenceDisk(t *testing.T) {
	e := newEnv(t, 0)
	want := e.baseline(t)
	w := e.world(t)
	c := newCLI(t, e.proxy.URL)
	testenv.MountTmpfs(t, c.evidence, "40k")
	caseID := "case-full"
	code, out := c.run("run", "host-compromise", "-i", "instance_id="+w.InstanceID, "--evidence", c.evidence, "--case", caseID)
	t.Logf("exit %d\n%s", code, out)
	if code == 0 {
		t.Fatalf("run on a full disk: exit 0, want a failure")
	}
	if !strings.Contains(out, `is full`) {
		t.Errorf("output does not say the evidence dir is full")
	}
	custodyPath := c.evidence + "/" + caseID + "/custody.jsonl"
	stored, err := os.ReadFile(custodyPath)
	if err != nil || len(stored) == 0 {
		t.Fatalf("custody log after the failed run: %v (%d bytes)", err, len(stored))
	}
	if _, err := os.Stat(c.evidence + "/" + caseID + "/manifest.json"); err == nil {
		verify(t, c.store(), caseID)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=8m", c.evidence).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v %s", err, out)
	}
	if code, out := c.run("resume", c.runID()); code != 0 {
		t.Fatalf("resume after freeing space: exit %d, want 0\n%s", code, out)
	}
	after, err := os.ReadFile(custodyPath)
	if err != nil || !strings.HasPrefix(string(after), string(stored)) {
		t.Errorf("custody log after resume does not start with what was stored before the disk filled (%v)", err)
	}
	e.wantEndState(t, w, caseID, want)
	// The events the full disk swallowed stay a recorded gap: verify says
	// so, and nothing else.
	rep, err := evidence.Verify(testenv.Context(t), c.store(), caseID, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for _, p := range rep.Problems {
		if !strings.Contains(p, "could not be recorded") {
			t.Errorf("verify after resume: %s; want only the recorded custody gap", p)
		}
	}
}
