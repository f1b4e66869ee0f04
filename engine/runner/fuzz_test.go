package runner

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadJournal: whatever a journal holds (a crash, a disk error, an
// edit), LoadJournal answers with a state or an error, never a panic.
func FuzzLoadJournal(f *testing.F) {
	header := `{"kind":"run","time":"2026-11-29T10:00:00Z","header":{"run_id":"run-f","playbook":{"name":"p"},"started_at":"2026-11-29T10:00:00Z"}}` + "\n"
	for _, seed := range []string{
		"",
		header,
		header + `{"kind":"step","step":"a","status":"running","attempt":1}` + "\n",
		header + `{"kind":"step","step":"a","status":"succeeded","outputs":{"x":1}}` + "\n" + `{"kind":"end","status":"succeeded"}` + "\n",
		header + `{"kind":"step","step":"f","status":"running","count":3}` + "\n" + `{"kind":"item","step":"f","index":2,"key":"\"z\"","status":"succeeded"}` + "\n",
		header + `{"kind":"item","step":"f","index":-1}` + "\n",
		header + `{"kind":"step","step":"f","count":99999999}` + "\n",
		header + `{"kind":"resume"}` + "\n" + `{"kind":"st`,
		`{"kind":"step"}` + "\n",
		"\n\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := JournalPath(dir, "run-f")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := LoadJournal(dir, "run-f")
		if err == nil && st.Header.RunID == "" {
			t.Errorf("a state without a run header: %+v", st)
		}
	})
}
