package memory

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// consoleOutput is EC2 console text as cloud-init prints it, around the
// given fingerprint lines and keys.
func consoleOutput(fpLines, keyLines string) string {
	return "[    0.000000] Linux version 6.1.0\ncloud-init: running modules\n" +
		"ec2: #############################################################\n" +
		"ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n" + fpLines +
		"ec2: -----END SSH HOST KEY FINGERPRINTS-----\n" +
		"ec2: #############################################################\n" +
		"-----BEGIN SSH HOST KEY KEYS-----\n" + keyLines + "-----END SSH HOST KEY KEYS-----\n" +
		"Amazon Linux 2023\nlogin:\n"
}

// fingerprintLine is `ssh-keygen -lf pub` with an ec2: prefix, the real shape.
func fingerprintLine(t *testing.T, pubFile string) string {
	t.Helper()
	out, err := exec.Command(testenv.LookPath(t, "ssh-keygen"), "-lf", pubFile).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v", err)
	}
	return "ec2: " + strings.TrimSpace(string(out)) + "\n"
}

func TestHostKeyVerification(t *testing.T) {
	tg := startTarget(t)
	dir := t.TempDir()
	otherPub := testenv.GenerateKey(t, filepath.Join(dir, "other"), "ed25519", "")
	other := fingerprintLine(t, filepath.Join(dir, "other.pub"))
	otherFP := strings.Fields(other)[2]
	mine := fingerprintLine(t, tg.HostKeyFile+".pub")
	hostPattern := fmt.Sprintf("[%s]:%d", tg.Host, tg.Port)
	known := func(line string) string {
		p := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		params  map[string]any
		wantErr string // "" = accepted
		wantBy  string
	}{
		{name: "pinned", params: map[string]any{"host_key": tg.Fingerprint}, wantBy: "pinned"},
		{name: "pinned other key", params: map[string]any{"host_key": otherFP}, wantErr: "does not match the pinned host_key"},
		{name: "console fingerprints", params: map[string]any{"console_output": consoleOutput(other+mine, "")}, wantBy: "console-output"},
		{name: "console keys block", params: map[string]any{"console_output": consoleOutput("", otherPub+"\n"+tg.HostKey+" root@ip-10-0-0-1\n")}, wantBy: "console-output"},
		{name: "console other keys", params: map[string]any{"console_output": consoleOutput(other, otherPub+"\n")}, wantErr: "does not match the fingerprints in console_output"},
		{name: "console without block", params: map[string]any{"console_output": "Linux version 6.1\nlogin:\n"}, wantErr: "holds no SSH host key fingerprints"},
		{name: "known_hosts", params: map[string]any{"known_hosts": known(hostPattern + " " + tg.HostKey + "\n")}, wantBy: "known-hosts"},
		{name: "unknown", params: map[string]any{"known_hosts": known("")}, wantErr: "is unknown"},
		{name: "changed", params: map[string]any{"known_hosts": known(hostPattern + " " + otherPub + "\n")}, wantErr: "has CHANGED"},
		{name: "insecure", params: map[string]any{"insecure_host_key": true, "known_hosts": known("")}, wantBy: "insecure"},
	}
	src := filepath.Join(t.TempDir(), "small.img")
	randomFile(t, src, 4096, 2)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tg.params(map[string]any{"method": "raw", "source": src, "sinks": []any{"file://" + t.TempDir()}})
			delete(p, "host_key")
			for k, v := range tc.params {
				p[k] = v
			}
			out, ev, err := runCapture(t, New(Options{}), p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if engine.IsRetryable(err) {
					t.Errorf("a host key refusal is marked retryable: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("capture: %v", err)
			}
			if out["host_key_verified_by"] != tc.wantBy || out["host_key_fingerprint"] != tg.Fingerprint {
				t.Fatalf("verified by %v with %v, want %s with %s", out["host_key_verified_by"], out["host_key_fingerprint"], tc.wantBy, tg.Fingerprint)
			}
			_, recorded := ev.event("insecure-host-key")
			if insecure := tc.wantBy == "insecure"; recorded != insecure || out["insecure_host_key"] != insecure {
				t.Fatalf("insecure-host-key event %v, output %v; want both %v", recorded, out["insecure_host_key"], insecure)
			}
		})
	}
}

// TestHostWithSeveralKeyTypes: a real host has ed25519, ECDSA and RSA host
// keys and Go would negotiate ECDSA; a pin or known_hosts line of any one
// type is still accepted, and a wrong one still refused.
func TestHostWithSeveralKeyTypes(t *testing.T) {
	s := testenv.StartSSHD(t, testenv.WithHostKeyTypes("ecdsa", "rsa"))
	fp := func(pub string) string {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
		if err != nil {
			t.Fatal(err)
		}
		return ssh.FingerprintSHA256(k)
	}
	other := testenv.GenerateKey(t, filepath.Join(t.TempDir(), "other"), "ed25519", "")
	pattern := fmt.Sprintf("[%s]:%d ", s.Host, s.Port)
	known := func(line string) string {
		p := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(p, []byte(pattern+line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		policy  hostKeyPolicy
		wantFP  string
		wantErr string
	}{
		{name: "pin ed25519", policy: hostKeyPolicy{Pinned: fp(s.HostKey)}, wantFP: fp(s.HostKey)},
		{name: "pin ecdsa", policy: hostKeyPolicy{Pinned: fp(s.ExtraHostKeys["ecdsa"])}, wantFP: fp(s.ExtraHostKeys["ecdsa"])},
		{name: "pin rsa", policy: hostKeyPolicy{Pinned: fp(s.ExtraHostKeys["rsa"])}, wantFP: fp(s.ExtraHostKeys["rsa"])},
		{name: "pin unknown", policy: hostKeyPolicy{Pinned: fp(other)}, wantErr: "does not match the pinned host_key"},
		{name: "known ed25519 only", policy: hostKeyPolicy{KnownHosts: known(s.HostKey)}, wantFP: fp(s.HostKey)},
		{name: "known rsa only", policy: hostKeyPolicy{KnownHosts: known(s.ExtraHostKeys["rsa"])}, wantFP: fp(s.ExtraHostKeys["rsa"])},
		{name: "known changed", policy: hostKeyPolicy{KnownHosts: known(other)}, wantErr: "has CHANGED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := endpoint{Host: s.Host, Port: s.Port, User: s.User, KeyFile: s.ClientKey, HostKey: tc.policy}
			c, err := dial(testenv.Context(t), dialConfig{Target: e})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if c.HostKey.Fingerprint != tc.wantFP {
				t.Fatalf("accepted %s, want %s", c.HostKey.Fingerprint, tc.wantFP)
			}
		})
	}
}

// TestPinWinsOverInsecure: insecure_host_key never switches off a pin the
// responder gave.
func TestPinWinsOverInsecure(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key := signer.PublicKey()
	for _, tc := range []struct {
		name, pin, wantBy string
		wantErr           bool
	}{
		{name: "wrong pin", pin: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", wantErr: true},
		{name: "right pin", pin: ssh.FingerprintSHA256(key), wantBy: "pinned"},
		{name: "no pin", wantBy: "insecure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &hostKeyResult{}
			cb, err := hostKeyPolicy{Pinned: tc.pin, Insecure: true}.callback(res)
			if err != nil {
				t.Fatal(err)
			}
			err = cb("target:22", nil, key)
			if (err != nil) != tc.wantErr || !tc.wantErr && res.VerifiedBy != tc.wantBy {
				t.Fatalf("error = %v, verified by %q; want error %v, %q", err, res.VerifiedBy, tc.wantErr, tc.wantBy)
			}
		})
	}
}
