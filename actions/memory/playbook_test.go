package memory_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestMemoryCapturePlaybook runs the built-in playbook through the real
// loader, runner and evidence case: four hosts (two names of one sshd,
// twice each) captured four at a time into the case's evidence store, and
// the case verifies.
func TestMemoryCapturePlaybook(t *testing.T) {
	s := testenv.StartSSHD(t)
	// The hosts' user is not root: the playbook runs dd through sudo -n.
	s.WriteScript(t, "sudo", "#!/bin/sh\n[ \"$1\" = -n ] || exit 9\nshift\nexec \"$@\"\n")
	src := filepath.Join(t.TempDir(), "mem.img")
	data := make([]byte, 6<<20)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(t.TempDir(), "known_hosts")
	hosts := fmt.Sprintf("[127.0.0.1]:%d %s\n[localhost]:%d %s\n", s.Port, s.HostKey, s.Port, s.HostKey)
	if err := os.WriteFile(known, []byte(hosts), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := engine.NewRegistry()
	memory.Register(reg, nil)
	pb, err := (&loader.Loader{Registry: reg}).LoadFile("../../playbooks/memory-capture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := loader.ResolveInputs(pb, map[string]any{
		"hosts": []any{"127.0.0.1", "localhost", "127.0.0.1", "localhost"}, "ssh_port": s.Port, "ssh_user": s.User,
		"ssh_key_file": s.ClientKey, "known_hosts": known, "method": "raw", "source": src}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Context(t)
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := &session.Manager{Backend: &session.Local{Registry: reg}}
	run, err := m.Start(ctx, &session.Request{Playbook: pb, Inputs: inputs, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	out := run.Wait()
	res, caseID := out.Result, run.CaseID
	if out.Err != nil || out.Manifest == nil {
		t.Fatalf("run: %v (sealed %v)", out.Err, out.Manifest != nil)
	}
	step, _ := res.Step("memory")
	if res.Status != engine.RunSucceeded || len(step.Items) != 4 {
		t.Fatalf("run %s, %d items (%+v), want succeeded with 4", res.Status, len(step.Items), step)
	}
	for i, it := range step.Items {
		if it.Status != engine.StatusSucceeded || it.Outputs["sha256"] != sha256Hex(data) {
			t.Errorf("item %d: %s %v, want succeeded with sha256 %s", i, it.Status, it.Outputs["sha256"], sha256Hex(data))
		}
	}
	rep, err := evidence.Verify(ctx, store, caseID, nil)
	if err != nil {
		t.Fatal(err)
	}
	images := 0
	for _, a := range rep.Checked {
		if strings.Contains(a, "memory-") {
			images++
		}
	}
	if len(rep.Problems) > 0 || images != 4 {
		t.Fatalf("verify: problems %v, %d memory images checked (%v), want none and 4", rep.Problems, images, rep.Checked)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
