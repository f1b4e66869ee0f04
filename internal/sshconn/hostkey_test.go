package sshconn

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

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
		policy  HostKeyPolicy
		wantFP  string
		wantErr string
	}{
		{name: "pin ed25519", policy: HostKeyPolicy{Pinned: fp(s.HostKey)}, wantFP: fp(s.HostKey)},
		{name: "pin ecdsa", policy: HostKeyPolicy{Pinned: fp(s.ExtraHostKeys["ecdsa"])}, wantFP: fp(s.ExtraHostKeys["ecdsa"])},
		{name: "pin rsa", policy: HostKeyPolicy{Pinned: fp(s.ExtraHostKeys["rsa"])}, wantFP: fp(s.ExtraHostKeys["rsa"])},
		{name: "pin unknown", policy: HostKeyPolicy{Pinned: fp(other)}, wantErr: "does not match the pinned host_key"},
		{name: "known ed25519 only", policy: HostKeyPolicy{KnownHosts: known(s.HostKey)}, wantFP: fp(s.HostKey)},
		{name: "known rsa only", policy: HostKeyPolicy{KnownHosts: known(s.ExtraHostKeys["rsa"])}, wantFP: fp(s.ExtraHostKeys["rsa"])},
		{name: "known changed", policy: HostKeyPolicy{KnownHosts: known(other)}, wantErr: "has CHANGED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Endpoint{Host: s.Host, Port: s.Port, User: s.User, KeyFile: s.ClientKey, HostKey: tc.policy}
			c, err := Dial(testenv.Context(t), DialConfig{Target: e})
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
			res := &HostKeyResult{}
			cb, err := HostKeyPolicy{Pinned: tc.pin, Insecure: true}.callback(res)
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
