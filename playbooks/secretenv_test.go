package playbooks_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestCommandNeverInheritsSecrets: whatever an input says, a command step
// is refused the AWS credential variables and any variable another step
// names as holding a secret (capture-memory's key_passphrase_env), so a
// program that prints its environment cannot copy them into the evidence.
// Not parallel: it sets firebreak's own environment.
func TestCommandNeverInheritsSecrets(t *testing.T) {
	secrets := map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIAFIREBREAKLEAKTEST",
		"AWS_SECRET_ACCESS_KEY":       "leak-me-not-secret-key",
		"AWS_SESSION_TOKEN":           "leak-me-not-session-token",
		"AWS_SECURITY_TOKEN":          "leak-me-not-security-token",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "/leak/me/not/token-file",
		"FB_TEST_KEY_PASS":            "leak-me-not-passphrase",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("FB_TEST_PLAIN", "plain-value")
	tests := []struct {
		name    string
		vars    []any
		wantErr string // "" = the step succeeds
	}{
		{"aws secret key", []any{"AWS_SECRET_ACCESS_KEY"}, `inherit_env: "AWS_SECRET_ACCESS_KEY" holds AWS credentials`},
		{"aws key id", []any{"FB_TEST_PLAIN", "AWS_ACCESS_KEY_ID"}, `"AWS_ACCESS_KEY_ID" holds AWS credentials`},
		{"session token", []any{"AWS_SESSION_TOKEN"}, `"AWS_SESSION_TOKEN" holds AWS credentials`},
		{"security token", []any{"AWS_SECURITY_TOKEN"}, `"AWS_SECURITY_TOKEN" holds AWS credentials`},
		{"web identity", []any{"AWS_WEB_IDENTITY_TOKEN_FILE"}, `"AWS_WEB_IDENTITY_TOKEN_FILE" holds AWS credentials`},
		{"lower case", []any{"aws_secret_access_key"}, `"aws_secret_access_key" holds AWS credentials`},
		{"another step's secret", []any{"FB_TEST_KEY_PASS"}, `inherit_env: "FB_TEST_KEY_PASS" holds a secret (key_passphrase_env of step "mem")`},
		{"plain", []any{"FB_TEST_PLAIN"}, ""},
	}
	data, err := os.ReadFile(filepath.Join("testdata", "leak-env.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runPlaybookBytes(t, "leak-env.yaml", data, map[string]any{"vars": tt.vars}, nil)
			s := r.step(t, "print")
			if tt.wantErr == "" {
				if s.Status != engine.StatusSucceeded {
					t.Fatalf("print: %s (%s), want succeeded", s.Status, s.Error)
				}
				if !strings.Contains(r.artifact(t, "print", "stdout.txt"), "FB_TEST_PLAIN=plain-value") {
					t.Errorf("stdout lacks the plain variable passed through")
				}
			} else if s.Status != engine.StatusFailed || !strings.Contains(s.Error, tt.wantErr) {
				t.Errorf("print: %s %q, want failed with %q", s.Status, s.Error, tt.wantErr)
			}
			leaked(t, r.dir, secrets)
		})
	}
}

// leaked fails when any secret value appears in any file under dir.
func leaked(t *testing.T, dir string, secrets map[string]string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for k, v := range secrets {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s: holds the value of %s", p, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
