package evidence

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

func testHeader(caseID string) Header {
	return Header{
		CaseID: caseID, RunID: "run-20261129T102217Z-a1b2c3",
		Playbook:  engine.PlaybookRef{Name: "host-compromise", Version: "1.2.0", SHA256: strings.Repeat("ab", 32), Source: "builtin:host-compromise"},
		Tool:      ToolRef{Name: "firebreak", Version: "0.1.0"},
		Operator:  Operator{ARN: "arn:aws:iam::123456789012:user/responder", Account: "123456789012"},
		Inputs:    map[string]any{"instance_id": "i-0abc12345678", "capture_memory": true, "count": 3},
		StartedAt: time.Date(2026, 11, 29, 10, 22, 17, 0, time.UTC),
	}
}

func testSigner(t *testing.T) (*Ed25519Signer, ed25519.PublicKey) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sign.pem")
	pub, err := GenerateEd25519Key(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadEd25519Signer(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, pub
}

// buildCase runs a small case to its manifest: two stored artifacts, a
// recorded snapshot, step records, events.
func buildCase(t *testing.T, store Store, caseID string, signer Signer) *Manifest {
	t.Helper()
	return buildCaseAs(t, store, caseID, signer, engine.RunSucceeded)
}

// buildCaseAs is buildCase ending with status: interrupted for a case
// that a resume continues (a succeeded one is never reopened).
func buildCaseAs(t *testing.T, store Store, caseID string, signer Signer, status engine.RunStatus) *Manifest {
	t.Helper()
	ctx := context.Background()
	c, err := OpenCase(ctx, store, testHeader(caseID), signer)
	if err != nil {
		t.Fatal(err)
	}
	ev := c.Evidence("gather")
	if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: "instance.json", Kind: "instance-metadata", ContentType: "application/json",
		Source: map[string]string{"instance_id": "i-0abc12345678"}}, strings.NewReader(`{"InstanceId":"i-0abc12345678"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: "console.txt", Kind: "console-output"}, strings.NewReader("boot log\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Evidence("disks").Record(ctx, engine.Artifact{Kind: "snapshot", URI: "arn:aws:ec2:us-east-1::snapshot/snap-0123", Size: 8 << 30,
		Source: map[string]string{"snapshot_id": "snap-0123", "volume_id": "vol-0456"}, Complete: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Evidence("isolate").Event(ctx, "ec2.isolated", map[string]any{"group": "sg-1"}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 29, 10, 22, 18, 0, time.UTC)
	c.SetStep(engine.StepRecord{ID: "gather", Action: "collect-metadata", Status: engine.StatusRunning, StartedAt: &start, Attempts: 1})
	c.SetStep(engine.StepRecord{ID: "isolate", Action: "isolate", Status: engine.StatusSkipped, SkipReason: "when is false"})
	c.SetStep(engine.StepRecord{ID: "gather", Action: "collect-metadata", Status: engine.StatusSucceeded, StartedAt: &start,
		FinishedAt: &start, Attempts: 1, Outputs: engine.Outputs{"platform": "linux", "volume_ids": []any{"vol-0456"}}})
	m, err := c.Finish(ctx, status, start.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCaseManifest(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	signer, pub := testSigner(t)
	m := buildCase(t, store, "cr-1", signer)
	if got := []string{m.Steps[0].ID, m.Steps[1].ID}; len(m.Steps) != 2 || got[0] != "gather" || got[1] != "isolate" {
		t.Fatalf("steps = %+v, want gather then isolate (first-seen order)", m.Steps)
	}
	if m.Steps[0].Status != engine.StatusSucceeded {
		t.Fatalf("gather status = %q, want the latest record (succeeded)", m.Steps[0].Status)
	}
	var ids []string
	for _, a := range m.Artifacts {
		ids = append(ids, a.ID)
	}
	want := "artifacts/gather/instance.json artifacts/gather/console.txt recorded/disks/snapshot"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("artifacts = %s, want %s", got, want)
	}
	a := m.Artifacts[0]
	if a.SHA256 == "" || a.Size != 31 || !a.Complete || a.Source["instance_id"] != "i-0abc12345678" || a.URI != store.URI("cr-1/artifacts/gather/instance.json") {
		t.Fatalf("artifact = %+v", a)
	}
	// case.opened, 2 stored, 1 recorded, 1 event, case.finished
	if m.Custody.Entries != 6 || m.Signature == nil || m.Signature.KeyID != Fingerprint(pub) {
		t.Fatalf("custody = %+v, signature = %+v", m.Custody, m.Signature)
	}
	lines, _, err := loadCustody(context.Background(), store, "cr-1/custody.jsonl")
	if err != nil || len(lines) != 6 {
		t.Fatalf("custody: %d lines, %v", len(lines), err)
	}
	for _, l := range lines {
		if l.Entry.Actor != "arn:aws:iam::123456789012:user/responder" {
			t.Fatalf("custody line %d actor = %q, want the operator ARN", l.No, l.Entry.Actor)
		}
	}
	if e := lines[4].Entry; e.Event != "ec2.isolated" || e.Step != "isolate" || e.Detail["group"] != "sg-1" || e.Prev != lineHash(lines[3].Raw) {
		t.Fatalf("custody line 5 = %+v", e)
	}
	if a := lines[1].Entry.Artifact; a == nil || a.URI != m.Artifacts[0].URI || a.SHA256 != m.Artifacts[0].SHA256 {
		t.Fatalf("custody line 2 artifact = %+v, want uri and sha256 of %s", a, m.Artifacts[0].ID)
	}
	rep, err := Verify(context.Background(), store, "cr-1", pub)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Checked) != 2 || len(rep.NotRehashable) != 1 {
		t.Fatalf("Verify of a clean case: %+v", rep)
	}
	if want := "artifact recorded/disks/snapshot (snapshot): no hash recorded (snapshot_id snap-0123, volume_id vol-0456)"; rep.NotRehashable[0] != want {
		t.Fatalf("not re-hashable = %q, want %q", rep.NotRehashable[0], want)
	}
}

func TestCaseConcurrentPutsAndEventsKeepTheChain(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	ctx := context.Background()
	c, err := OpenCase(ctx, store, testHeader("cr-par"), nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Go(func() {
			ev := c.Evidence(fmt.Sprintf("step%d", w%4)) // shared steps: names collide
			for i := range each {
				_, err := ev.Put(ctx, engine.ArtifactMeta{Name: "out.txt"}, strings.NewReader(fmt.Sprintf("w%d i%d", w, i)))
				errs <- err
				errs <- ev.Event(ctx, "tick", map[string]any{"w": w, "i": i})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := c.Finish(ctx, "succeeded", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != workers*each || m.Custody.Entries != 1+2*workers*each+1 {
		t.Fatalf("got %d artifacts and %d custody entries, want %d and %d", len(m.Artifacts), m.Custody.Entries, workers*each, 2+2*workers*each)
	}
	seen := map[string]bool{}
	for _, a := range m.Artifacts {
		if seen[a.ID] {
			t.Fatalf("artifact id %q given twice: evidence overwritten", a.ID)
		}
		seen[a.ID] = true
	}
	rep, err := Verify(ctx, store, "cr-par", nil)
	if err != nil || !rep.OK() || len(rep.Checked) != workers*each {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
}

func TestCaseResumeContinuesTheChain(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	signer, pub := testSigner(t)
	first := buildCaseAs(t, store, "cr-res", signer, engine.RunInterrupted)
	ctx := context.Background()
	h := testHeader("cr-res")
	h.StartedAt = time.Time{} // a resume does not know the original start
	c, err := OpenCase(ctx, store, h, signer)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Artifacts()); got != len(first.Artifacts) {
		t.Fatalf("resumed case has %d artifacts, want %d from the custody log", got, len(first.Artifacts))
	}
	a, err := c.Evidence("gather").Put(ctx, engine.ArtifactMeta{Name: "instance.json"}, strings.NewReader("again"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "artifacts/gather/instance-2.json" {
		t.Fatalf("second instance.json got id %q, want a suffixed one (never overwrite)", a.ID)
	}
	c.SetStep(engine.StepRecord{ID: "memory", Action: "capture-memory", Status: engine.StatusSucceeded})
	m, err := c.Finish(ctx, "succeeded", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !m.StartedAt.Equal(first.StartedAt) || len(m.Steps) != 3 || m.Custody.Entries != first.Custody.Entries+3 {
		t.Fatalf("resumed manifest: started %v steps %d entries %d; want %v, 3, %d",
			m.StartedAt, len(m.Steps), m.Custody.Entries, first.StartedAt, first.Custody.Entries+3)
	}
	rep, err := Verify(ctx, store, "cr-res", pub)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify after resume: %v %+v", err, rep)
	}
}

// TestOpenCaseRefusesAnotherRun: a case continues only for the run its
// custody log opened with: same run id, playbook and inputs (numbers as
// JSON gives them back count as the same).
func TestOpenCaseRefusesAnotherRun(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	buildCaseAs(t, store, "cr-other", nil, engine.RunInterrupted)
	tests := []struct {
		name string
		edit func(*Header)
		want string // "" = continued
	}{
		{"same run", func(*Header) {}, ""},
		{"numbers from a journal", func(h *Header) { h.Inputs["count"] = float64(3) }, ""},
		{"another instance", func(h *Header) { h.Inputs["instance_id"] = "i-0fff00000000" }, `other values of input(s) ["instance_id"]`},
		{"an input added", func(h *Header) { h.Inputs["terminate"] = true }, `input(s) ["terminate"]`},

		{"another playbook", func(h *Header) { h.Playbook.SHA256 = strings.Repeat("cd", 32) }, "playbook sha256 abababababab..., not cdcdcdcdcdcd..."},
	}
	for _, tt := range tests {
		h := testHeader("cr-other")
		h.Inputs = maps.Clone(h.Inputs)
		tt.edit(&h)
		c, err := OpenCase(context.Background(), store, h, nil)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want the case continued", tt.name, err)
			} else {
				c.Close()
			}
			continue
		}
		if !errors.Is(err, engine.ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrInvalidInput holding %q", tt.name, err, tt.want)
		}
	} // Another run id is another run's case: refused as one (CheckOpen too,
	// before anything is recorded).
	h := testHeader("cr-other")
	h.RunID = "run-other"
	for name, open := range map[string]func() error{
		"OpenCase":  func() error { _, err := OpenCase(context.Background(), store, h, nil); return err },
		"CheckOpen": func() error { return CheckOpen(context.Background(), store, h, nil) },
	} {
		if err := open(); !errors.Is(err, ErrCaseExists) || !strings.Contains(err.Error(), `run "run-20261129T102217Z-a1b2c3" started it`) {
			t.Errorf("another run, %s: got %v, want ErrCaseExists naming the run that started it", name, err)
		}
	}
}

func TestOpenCaseRefusesABrokenChain(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	buildCase(t, store, "cr-brk", nil)
	p := filepath.Join(store.Root(), "cr-brk", "custody.jsonl")
	editLines(t, p, func(l []string) []string { return append(l[:2], l[3:]...) })
	_, err := OpenCase(context.Background(), store, testHeader("cr-brk"), nil)
	if err == nil || !strings.Contains(err.Error(), "custody line 3: seq 4 follows seq 2") || !strings.Contains(err.Error(), "cannot be continued") {
		t.Fatalf("OpenCase on a broken chain: got %v", err)
	}
}

func TestOpenCaseRejectsHostileCaseID(t *testing.T) {
	t.Parallel()
	store, _ := NewDirStore(t.TempDir())
	for _, id := range []string{"../x", "a/b", "", ".hidden", `a\b`} {
		if _, err := OpenCase(context.Background(), store, testHeader(id), nil); err == nil {
			t.Errorf("OpenCase(%q): got no error", id)
		}
	}
}

func TestNewCaseID(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 10, 22, 17, 0, time.FixedZone("x", 3600))
	id := NewCaseID(now)
	if !strings.HasPrefix(id, "cr-20261129T092217Z-") || len(id) != len("cr-20261129T102217Z-7d5f") || CheckCaseID(id) != nil {
		t.Fatalf("NewCaseID = %q", id)
	}
	if a, b, c := NewCaseID(now), NewCaseID(now), NewCaseID(now); a == b && b == c {
		t.Fatalf("NewCaseID gives the same id again and again")
	}
}

func TestSanitizeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"../../etc/passwd": "_.._etc_passwd", "a b.json": "a_b.json", "": "artifact", "...": "artifact", "ok-1.txt": "ok-1.txt"} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func editLines(t *testing.T, path string, f func([]string) []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(f(lines), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
