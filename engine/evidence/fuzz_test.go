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
	})
}
