package faulttest

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Distinctive credentials: if any of these bytes reach a log, the journal,
// the custody log, the manifest or an artifact, the scan finds them.
const (
	secretKey    = "fbSecretKEY0123456789abcdefghijklmnopqrSTUV"
	sessionToken = "fbSessionTOKEN//FwoGZXIvYXdzEJr//////////wEaDFakeFakeFakeToken0123456789"
)

// leaks returns the files under dirs that hold any needle, plain or base64.
func leaks(t *testing.T, needles []string, dirs ...string) []string {
	t.Helper()
	var forms [][]byte
	for _, n := range needles {
		forms = append(forms, []byte(n), []byte(base64.StdEncoding.EncodeToString([]byte(n))))
	}
	var found []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, f := range forms {
				if bytes.Contains(data, f) {
					found = append(found, p)
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scanning %s: %v", dir, err)
		}
	}
	return found
}

// TestCredentialsNeverWritten runs host-compromise through the binary with
// distinctive AWS credentials in its environment and debug logging, then
// scans its stderr, state dir (journal, invocation) and evidence (custody
// log, manifest, every artifact): the secret key and the session token
// appear nowhere.
func TestCredentialsNeverWritten(t *testing.T) {
	e := newEnv(t, 0)
	w := e.world(t)
	c := newCLI(t, e.proxy.URL, "AWS_SECRET_ACCESS_KEY="+secretKey, "AWS_SESSION_TOKEN="+sessionToken)
	code, out := c.run("--log-level", "debug", "run", "host-compromise", "-i", "instance_id="+w.InstanceID,
		"--evidence", c.evidence, "--case", "case-secrets")
	if code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", code, tail(out, 30))
	}
	stderr := filepath.Join(t.TempDir(), "stderr.log")
	if err := os.WriteFile(stderr, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	needles := []string{secretKey, sessionToken}
	// The scan itself must be able to find what it looks for.
	if got := leaks(t, needles, filepath.Dir(stderr)); len(got) != 0 {
		t.Errorf("credentials in the run's output (%s)", got)
	}
	control := t.TempDir()
	os.WriteFile(filepath.Join(control, "planted"), []byte("x"+base64.StdEncoding.EncodeToString([]byte(sessionToken))), 0o600)
	if got := leaks(t, needles, control); len(got) != 1 {
		t.Fatalf("scan of a planted token: found %v, want the planted file", got)
	}
	if got := leaks(t, needles, c.state, c.evidence); len(got) != 0 {
		t.Errorf("credentials written to %v", got)
	}
	if n := len(leaks(t, []string{"case-secrets"}, c.evidence)); n < 3 {
		t.Fatalf("evidence holds %d files naming the case, want the manifest, custody log and artifacts: the scan looked at nothing", n)
	}
}
