package storetest

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// testLocker: a case held by one store is refused to another with
// ErrCaseBusy, another case is not, and unlocking (or Case.Close)
// releases it.
func testLocker(t *testing.T, open func() evidence.Store) {
	first, second := open(), open()
	l1, ok1 := first.(evidence.Locker)
	l2, _ := second.(evidence.Locker)
	if !ok1 {
		t.Skipf("%T is not an evidence.Locker", first)
	}
	ctx := t.Context()
	unlock, err := l1.Lock(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := l2.Lock(ctx, "c1"); !errors.Is(err, evidence.ErrCaseBusy) {
		if u != nil {
			u()
		}
		t.Fatalf("Lock of a held case by another store: got %v, want ErrCaseBusy", err)
	}
	other, err := l2.Lock(ctx, "c2")
	if err != nil {
		t.Fatalf("Lock of another case: %v", err)
	}
	if err := other(); err != nil {
		t.Errorf("unlock of c2: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	again, err := l2.Lock(ctx, "c1")
	if err != nil {
		t.Fatalf("Lock after the holder unlocked: %v", err)
	}
	if err := again(); err != nil {
		t.Errorf("unlock: %v", err)
	}
	if u, err := l1.Lock(ctx, "../c1"); err == nil {
		u()
		t.Error("Lock of a hostile case id: got no error")
	}

	cs, err := evidence.OpenCase(ctx, first, header("c3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.OpenCase(ctx, second, header("c3"), nil); !errors.Is(err, evidence.ErrCaseBusy) {
		t.Fatalf("OpenCase of a case open elsewhere: got %v, want ErrCaseBusy", err)
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	resumed, err := evidence.OpenCase(ctx, second, header("c3"), nil)
	if err != nil {
		t.Fatalf("OpenCase after Close: %v", err)
	}
	resumed.Close()
}

// testOpenURI: a store that reads full URIs reads its own objects' URIs,
// and a missing one is fs.ErrNotExist.
func testOpenURI(t *testing.T, open func() evidence.Store) {
	st := open()
	o, ok := st.(evidence.URIOpener)
	if !ok {
		t.Skipf("%T is not an evidence.URIOpener", st)
	}
	ctx := t.Context()
	info, err := st.Put(ctx, "c1/artifacts/memory/mem.lime", strings.NewReader("memory image"))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := o.OpenURI(ctx, info.URI)
	if err != nil {
		t.Fatalf("OpenURI(%s): %v", info.URI, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "memory image" {
		t.Errorf("OpenURI(%s) read %q, %v; want the object", info.URI, got, err)
	}
	if _, err := o.OpenURI(ctx, st.URI("c1/artifacts/memory/none.lime")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenURI of a missing object: got %v, want fs.ErrNotExist", err)
	}
}

// testCase: a store that keeps the contract holds a case: artifacts,
// custody and a manifest that another store on the backing verifies, and
// that the same case can be continued (resumed) from.
func testCase(t *testing.T, open func() evidence.Store) {
	ctx := t.Context()
	cs, err := evidence.OpenCase(ctx, open(), header("cr-conformance"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := cs.Evidence("gather")
	if _, err := ev.Put(ctx, engine.ArtifactMeta{Name: "instance.json", Kind: "instance-metadata"}, strings.NewReader(`{"InstanceId":"i-0abc"}`)); err != nil {
		t.Fatal(err)
	}
	if err := ev.Event(ctx, "aws-change", map[string]any{"call": "ec2:CreateTags"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Finish(ctx, engine.RunInterrupted, time.Date(2026, 11, 29, 10, 30, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, open(), "cr-conformance", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Checked) != 1 || rep.CustodyEntries < 3 {
		t.Errorf("Verify: problems %v, checked %v, %d custody lines; want OK, the artifact re-hashed", rep.Problems, rep.Checked, rep.CustodyEntries)
	}
	other := header("cr-conformance")
	other.RunID = "run-20261129T110000Z-ffffff"
	if _, err := evidence.OpenCase(ctx, open(), other, nil); !errors.Is(err, evidence.ErrCaseExists) {
		t.Fatalf("OpenCase of the case by another run: got %v, want ErrCaseExists", err)
	}
	again, err := evidence.OpenCase(ctx, open(), header("cr-conformance"), nil)
	if err != nil {
		t.Fatalf("OpenCase of the interrupted case by its run (a resume): %v", err)
	}
	if arts := again.Artifacts(); len(arts) != 1 || arts[0].ID != "artifacts/gather/instance.json" {
		t.Errorf("resumed case: artifacts %v, want the one stored", arts)
	}
	if _, err := again.Finish(ctx, engine.RunSucceeded, time.Date(2026, 11, 29, 10, 40, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if rep, err := evidence.Verify(ctx, open(), "cr-conformance", nil); err != nil || !rep.OK() {
		t.Errorf("Verify after the resume: %v %v", err, rep)
	}
	if _, err := evidence.OpenCase(ctx, open(), header("cr-conformance"), nil); !errors.Is(err, evidence.ErrCaseExists) {
		t.Fatalf("OpenCase of a case its run finished successfully: got %v, want ErrCaseExists", err)
	}
}

func header(caseID string) evidence.Header {
	return evidence.Header{CaseID: caseID, RunID: "run-20261129T102217Z-a1b2c3",
		Playbook:  engine.PlaybookRef{Name: "conformance", Version: "1", SHA256: strings.Repeat("ab", 32)},
		Tool:      evidence.ToolRef{Name: "firebreak", Version: "test"},
		Operator:  evidence.Operator{ARN: "local:responder@host"},
		StartedAt: time.Date(2026, 11, 29, 10, 22, 17, 0, time.UTC)}
}
