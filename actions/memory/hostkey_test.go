package memory

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

// laterBlock is a fingerprints block printed after boot, as anything with
// root on the host could print it to the console.
func laterBlock(fpLines string) string {
	return "[ 9999.1] something else\nec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n" + fpLines + "ec2: -----END SSH HOST KEY FINGERPRINTS-----\n"
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
		// Only what cloud-init printed at boot counts: a block printed
		// later (anything with root on the host can write to the console)
		// is refused, even when it is the only one naming the key.
		{name: "console later block", params: map[string]any{"console_output": consoleOutput(other, "") + laterBlock(mine)},
			wantErr: "only in a host key block printed later on the console (line 13)"},
		{name: "console later keys block", params: map[string]any{"console_output": consoleOutput(other, "") + "x\ny\nz\nw\nv\nu\n" +
			"-----BEGIN SSH HOST KEY KEYS-----\n" + tg.HostKey + "\n-----END SSH HOST KEY KEYS-----\n"}, wantErr: "printed later on the console"},
		{name: "console keys block long after the fingerprints", params: map[string]any{"console_output": "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n" + other +
			"-----END SSH HOST KEY FINGERPRINTS-----\n1\n2\n3\n4\n5\n6\n-----BEGIN SSH HOST KEY KEYS-----\n" + tg.HostKey + "\n-----END SSH HOST KEY KEYS-----\n"},
			wantErr: "printed later on the console (line 10)"},
		{name: "console later block does not undo the boot one", params: map[string]any{"console_output": consoleOutput(mine, "") + laterBlock(other)}, wantBy: "console-output"},
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
			_, recorded := event(ev, "insecure-host-key")
			if insecure := tc.wantBy == "insecure"; recorded != insecure || out["insecure_host_key"] != insecure {
				t.Fatalf("insecure-host-key event %v, output %v; want both %v", recorded, out["insecure_host_key"], insecure)
			}
		})
	}
}
