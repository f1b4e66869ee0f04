package evidence

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestGenerateEd25519KeyRefusesOverwrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k.pem")
	if _, err := GenerateEd25519Key(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	_, err := GenerateEd25519Key(path)
	if err == nil || !strings.Contains(err.Error(), "is never overwritten") {
		t.Fatalf("second GenerateEd25519Key: got %v, want a refusal", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("the key file changed")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode = %v, want 0600", fi.Mode().Perm())
	}
}

// TestOpenSSLKeys checks the key files openssl writes load, and that a
// signature verifies with the public key openssl exports.
func TestOpenSSLKeys(t *testing.T) {
	t.Parallel()
	bin := testenv.LookPath(t, "openssl")
	dir := t.TempDir()
	key, pubPath := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	for _, args := range [][]string{
		{"genpkey", "-algorithm", "ed25519", "-out", key},
		{"pkey", "-in", key, "-pubout", "-out", pubPath},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v %s", args, err, out)
		}
	}
	s, err := LoadEd25519Signer(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadEd25519PublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := s.Sign([]byte("manifest"))
	if sig.KeyID != Fingerprint(pub) || !pub.Equal(s.Public()) {
		t.Fatalf("openssl's public key %s is not the signer's %s", Fingerprint(pub), sig.KeyID)
	}
	if _, err := LoadEd25519PublicKey(key); err != nil {
		t.Fatalf("a private key file should give its public half: %v", err)
	}
}

func TestLoadSignerRejectsOtherKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	_, err := LoadEd25519Signer(notPEM)
	if err == nil || !strings.Contains(err.Error(), "openssl genpkey -algorithm ed25519") {
		t.Fatalf("non-PEM key: got %v", err)
	}
	if bin, lerr := exec.LookPath("openssl"); lerr == nil {
		ec := filepath.Join(dir, "ec.pem")
		if out, err := exec.Command(bin, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec).CombinedOutput(); err != nil {
			t.Fatalf("openssl: %v %s", err, out)
		}
		if _, err := LoadEd25519Signer(ec); err == nil || !strings.Contains(err.Error(), "not ed25519") {
			t.Fatalf("ECDSA key: got %v, want a refusal", err)
		}
	}
}
