package evidence

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerify feeds Verify arbitrary manifests and custody logs: whatever
// an attacker leaves in a case dir, Verify reports, never panics.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"schema":"firebreak/manifest/v1","case_id":"c","artifacts":[{"id":"../../etc/passwd","uri":"file:///etc/hostname","sha256":"00"}],"signature":{"algorithm":"ed25519","public_key":"AAAA","value":"!!"}}`),
		[]byte("{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"event\":\"artifact.stored\",\"detail\":{\"artifact\":{\"id\":\"x\"}}}\n"))
	f.Add([]byte(`{"custody":{"entries":-1},"signature":{"algorithm":"ed25519","public_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","value":""}}`), []byte("\n\n{}\nnot json\n"))
	f.Add([]byte(`[]`), []byte(`{"detail":{"artifact":"x"},"event":"artifact.recorded"}`))
	f.Add([]byte("{\"schema\":\"firebreak/manifest/v1\",\"case_id\":\"c\\n\\u001b[2KOK\",\"status\":\"\\r\",\"steps\":[{\"id\":\"a\\u202e\",\"status\":\"failed\",\"items\":[{\"status\":\"x\"}]}],"+
		"\"signature\":{\"algorithm\":\"\\u001b]0;\\u0007\",\"key_id\":\"\\n\"}}"),
		[]byte("{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"event\":\"case.opened\",\"detail\":{\"header\":{\"case_id\":\"c\\n\"}}}\n"+
			"{\"seq\":2,\"event\":\"step.failed\",\"step\":\"a\\u202e\",\"detail\":{\"item\":0,\"error\":\"\\u001b\"}}\n"+
			"{\"seq\":3,\"event\":\"case.finished\",\"detail\":{\"status\":7,\"finished_at\":\"x\",\"manifest_sha256\":[]}}\n"))
	f.Fuzz(func(t *testing.T, manifest, custody []byte) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "c"), 0o700)
		os.WriteFile(filepath.Join(dir, "c", "manifest.json"), manifest, 0o600)
		os.WriteFile(filepath.Join(dir, "c", "custody.jsonl"), custody, 0o600)
		store, _ := NewDirStore(dir)
		rep, err := Verify(context.Background(), store, "c", nil)
		if err == nil && rep.OK() && !bytes.Contains(manifest, []byte(ManifestSchema)) {
			t.Fatalf("a manifest without the schema id verified OK")
		}
		if err != nil {
			return
		}
		// Whatever the case says reaches a terminal escaped.
		for _, s := range append(append(append(append(rep.Problems, rep.Checked...), rep.NotRehashable...), rep.Unrecorded...), rep.Signature, rep.CaseID, rep.Folder) {
			if s != Printable(s) {
				t.Fatalf("report line %q is not printable as it is", s)
			}
		}
	})
}
