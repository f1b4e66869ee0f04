package sshconn

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// target is an sshd plus the fingerprint of its host key.
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

// endpoint reaches the target with its key pinned.
func (tg *target) endpoint() Endpoint {
	return Endpoint{Host: tg.Host, Port: tg.Port, User: tg.User, KeyFile: tg.ClientKey,
		HostKey: HostKeyPolicy{Pinned: tg.Fingerprint}}
}

// whoami dials with cfg and runs a command, proving the session works.
func whoami(t *testing.T, cfg DialConfig) (string, error) {
	t.Helper()
	c, err := Dial(testenv.Context(t), cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	out, err := Remote{Conn: c}.Output(testenv.Context(t), "echo firebreak-ok", nil)
	return strings.TrimSpace(out), err
}

func TestKeyTypesAndPassphrase(t *testing.T) {
	tg := startTarget(t)
	dir := t.TempDir()
	tests := []struct {
		name, typ, passphrase, env string
		wantErr                    string
	}{
		{name: "ecdsa", typ: "ecdsa"},
		{name: "rsa", typ: "rsa"},
		{name: "ed25519 with passphrase", typ: "ed25519", passphrase: "correct horse", env: "FB_TEST_PASSPHRASE"},
		{name: "passphrase not given", typ: "ed25519", passphrase: "secret", wantErr: "set key_passphrase_env"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			tg.Authorize(t, testenv.GenerateKey(t, key, tc.typ, tc.passphrase))
			if tc.env != "" {
				t.Setenv(tc.env, tc.passphrase)
			}
			e := tg.endpoint()
			e.KeyFile, e.PassphraseEnv = key, tc.env
			got, err := whoami(t, DialConfig{Target: e})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != "firebreak-ok" {
				t.Fatalf("got %q, %v; want firebreak-ok", got, err)
			}
		})
	}
}

func TestAgentAuth(t *testing.T) {
	tg := startTarget(t)
	agentBin := testenv.LookPath(t, "ssh-agent")
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command(agentBin, "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command(testenv.LookPath(t, "ssh-add"), tg.ClientKey)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	e := tg.endpoint()
	e.KeyFile = ""
	if got, err := whoami(t, DialConfig{Target: e}); err != nil || got != "firebreak-ok" {
		t.Fatalf("through ssh-agent: got %q, %v", got, err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := whoami(t, DialConfig{Target: e}); err == nil || !strings.Contains(err.Error(), "no ssh-agent") {
		t.Fatalf("without agent or key: error = %v, want one naming the missing agent", err)
	}
}

func TestJumpHost(t *testing.T) {
	bastion := startTarget(t)
	tg := startTarget(t)
	tg.Authorize(t, mustRead(t, bastion.ClientKey+".pub"))
	j := bastion.endpoint()
	e := tg.endpoint()
	e.KeyFile = bastion.ClientKey
	c, err := Dial(testenv.Context(t), DialConfig{Target: e, Jump: &j})
	if err != nil {
		t.Fatalf("dial through jump: %v", err)
	}
	defer c.Close()
	if c.JumpKey.Fingerprint != bastion.Fingerprint || c.HostKey.Fingerprint != tg.Fingerprint {
		t.Fatalf("keys: jump %s target %s, want %s and %s", c.JumpKey.Fingerprint, c.HostKey.Fingerprint, bastion.Fingerprint, tg.Fingerprint)
	}
	// The target's own host key is still checked behind the bastion.
	e.HostKey.Pinned = bastion.Fingerprint
	if _, err := whoami(t, DialConfig{Target: e, Jump: &j}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong target key behind jump: error = %v, want a mismatch", err)
	}
}

func TestDialHonoursContext(t *testing.T) {
	tg := startTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(ctx, DialConfig{Target: tg.endpoint()}); err == nil {
		t.Fatal("dial with a cancelled context succeeded")
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
