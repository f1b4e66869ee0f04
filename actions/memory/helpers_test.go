package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// newEvidence is the evidence a capture test hands the action: artifacts
// it stores are written to dir, so tests can read them where they are.
func newEvidence(dir string) *enginetest.Evidence {
	ev := enginetest.NewEvidence()
	ev.Dir = dir
	return ev
}

// event returns the detail of the first custody event called name.
func event(ev *enginetest.Evidence, name string) (map[string]any, bool) {
	if d := ev.EventsNamed(name); len(d) > 0 {
		return d[0], true
	}
	return nil, false
}

// target is an sshd plus the parameters that reach it with a pinned key.
type target struct {
	*testenv.SSHD
	Fingerprint string
}

func startTarget(t testing.TB) *target {
	t.Helper()
	s := testenv.StartSSHD(t)
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	return &target{SSHD: s, Fingerprint: ssh.FingerprintSHA256(pub)}
}

// params returns the parameters for a capture from this target, as the
// runner would pass them after applying defaults, plus extra.
func (tg *target) params(extra map[string]any) engine.Params {
	p := engine.Params{"host": tg.Host, "port": tg.Port, "user": tg.User, "key_file": tg.ClientKey,
		"host_key": tg.Fingerprint, "sudo": false, "stall_timeout": 30 * time.Second, "compress": "none"}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// runCapture runs the action once, as the runner would.
func runCapture(t *testing.T, a engine.Action, p engine.Params) (engine.Outputs, *enginetest.Evidence, error) {
	t.Helper()
	ev := newEvidence(t.TempDir())
	out, err := a.Run(testenv.Context(t), &engine.StepInput{RunID: "run-test", CaseID: "case-test", StepID: "memory",
		Params: p, Attempt: 1, Evidence: ev})
	return out, ev, err
}

// randomFile writes size pseudo-random bytes and returns their SHA-256.
func randomFile(t testing.TB, path string, size int64, seed uint64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	src := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(src, size)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sha256sum hashes path with the coreutils tool, or returns "" when it is
// not installed.
func sha256sum(t testing.TB, path string) string {
	t.Helper()
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		return ""
	}
	out, err := exec.Command(bin, path).Output()
	if err != nil {
		t.Fatalf("sha256sum: %v", err)
	}
	return strings.Fields(string(out))[0]
}

func uris(t *testing.T, out engine.Outputs) []string {
	t.Helper()
	l, ok := out["uris"].([]any)
	if !ok {
		t.Fatalf("outputs uris = %#v, want a list", out["uris"])
	}
	var s []string
	for _, v := range l {
		s = append(s, v.(string))
	}
	return s
}

// pathFromFileURI is the inverse of fileURI.
func pathFromFileURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return strings.TrimPrefix(uri, "file://")
	}
	return filepath.FromSlash(u.Path)
}
