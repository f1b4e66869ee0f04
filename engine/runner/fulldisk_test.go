package runner

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// fullDisk is a journal file whose write number failAt writes half its
// bytes and fails with ENOSPC, as a full disk does; later writes succeed
// again (space came back).
type fullDisk struct {
	*os.File
	writes, failAt int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	f.writes++
	if f.writes != f.failAt {
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:len(p)/2])
	return n, syscall.ENOSPC
}

// TestJournalFullDiskStaysResumable: a write that fails half-way is cut
// off and nothing is written after it, so the journal loads and the run
// resumes to the end once space is back.
func TestJournalFullDiskStaysResumable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newCounter(nil)
	cfg := Config{Registry: registry(c.action("do")), Playbook: playbook(step("a", "do"), step("b", "do", "a"), step("c", "do", "b")),
		StateDir: dir, RunID: "run-full"}
	r, err := newRun(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.jr, err = createJournal(dir, cfg.RunID); err != nil {
		t.Fatal(err)
	}
	r.jr.f = &fullDisk{File: r.jr.f.(*os.File), failAt: 2}
	r.header = r.newHeader()
	if err := r.jr.add(&entry{Kind: kindRun, Time: r.header.StartedAt, Header: &r.header}); err != nil {
		t.Fatal(err)
	}
	res, err := r.execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || res.Status != engine.RunInterrupted {
		t.Fatalf("Run: got %v (status %s), want the journal's no-space error and interrupted", err, res.Status)
	}
	st, err := LoadJournal(dir, cfg.RunID)
	if err != nil || st.TornTail || st.Status != engine.RunInterrupted {
		t.Fatalf("LoadJournal after a full disk: got %v (torn %v, status %v), want a whole journal of an interrupted run", err, st != nil && st.TornTail, st)
	}
	res, err = Resume(context.Background(), cfg)
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: got %v, %v; want succeeded", res, err)
	}
	if st, err := LoadJournal(dir, cfg.RunID); err != nil || st.Status != engine.RunSucceeded {
		t.Errorf("LoadJournal after resume: got %v, %v; want succeeded", st, err)
	}
}
