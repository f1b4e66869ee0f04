package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	fbevidence "github.com/firebreak-ir/firebreak/engine/evidence"
)

// openCase opens a real case in a local evidence store.
func openCase(t testing.TB) (*fbevidence.DirStore, *fbevidence.Case) {
	t.Helper()
	store, err := fbevidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatalf("NewDirStore: %v", err)
	}
	c, err := fbevidence.OpenCase(t.Context(), store, fbevidence.Header{CaseID: "cr-20261129T101500Z-ab12", RunID: "run-1"}, nil)
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	return store, c
}

func TestUploadLogStoresTheJournalsCompleteLines(t *testing.T) {
	t.Parallel()
	store, c := openCase(t)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	complete := `{"seq":1,"event":"run.started"}` + "\n" + `{"seq":2,"event":"step.started","step":"log"}` + "\n"
	// A record the runner is half-way through writing must not be copied.
	if err := os.WriteFile(journal, []byte(complete+`{"seq":3,"ev`), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := engine.NewRegistry()
	Register(reg)
	a, _ := reg.Lookup("upload-log")
	in := &engine.StepInput{RunID: "run-1", CaseID: "cr-20261129T101500Z-ab12", StepID: "log", RunLogPath: journal, Evidence: c.Evidence("log")}
	out, err := a.Run(t.Context(), in)
	if err != nil {
		t.Fatalf("upload-log: %v", err)
	}
	arts := out["artifacts"].([]any)
	if len(arts) != 1 {
		t.Fatalf("outputs.artifacts: got %v, want one", arts)
	}
	sum := sha256.Sum256([]byte(complete))
	if got := arts[0].(map[string]any)["sha256"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256: got %v, want that of the two complete lines", got)
	}
	r, err := store.Open(t.Context(), "cr-20261129T101500Z-ab12/artifacts/log/journal.jsonl")
	if err != nil {
		t.Fatalf("opening the stored journal: %v", err)
	}
	defer r.Close()
	got, _ := io.ReadAll(r)
	if string(got) != complete {
		t.Errorf("stored journal: got %q, want %q", got, complete)
	}
	if _, err := c.Finish(t.Context(), "succeeded", time.Now()); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	rep, err := fbevidence.Verify(t.Context(), store, "cr-20261129T101500Z-ab12", nil)
	if err != nil || len(rep.Problems) != 0 || len(rep.Checked) != 1 {
		t.Errorf("verify: got %+v (err %v), want the journal checked and no problem", rep, err)
	}
}

func TestUploadLogErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name   string
		in     engine.StepInput
		params engine.Params
		want   string
	}{
		{name: "no journal", want: "upload-log: no log to upload: this run keeps no journal (no state dir); give path: explicitly"},
		{name: "missing file", in: engine.StepInput{RunLogPath: filepath.Join(dir, "nope.jsonl")}, want: `upload-log: opening "` + filepath.Join(dir, "nope.jsonl") + `": `},
		{name: "directory", params: engine.Params{"path": dir}, want: `upload-log: "` + dir + `" is not a regular file`},
		{name: "same name twice", params: engine.Params{"paths": []any{"/a/x.log", "/b/x.log"}}, want: `upload-log: two logs named "x.log"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c := openCase(t)
			in := tt.in
			in.Params, in.Evidence, in.StepID = tt.params, c.Evidence("log"), "log"
			_, err := (&uploadLog{}).Run(t.Context(), &in)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got error %v, want it to start %q", err, tt.want)
			}
		})
	}
}
