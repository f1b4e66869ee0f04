// Package testenv starts the real peers that integration tests run against:
// moto_server for AWS, OpenSSH sshd for SSH, headless chromium for the
// dashboard. Each start is private to one test and cleaned up with it.
//
// When a peer's program is missing the test is skipped, unless
// FIREBREAK_REQUIRE_INTEGRATION=1 (set by .ci/run), when it fails.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// RequireIntegration reports whether a missing peer is a failure.
func RequireIntegration() bool { return os.Getenv("FIREBREAK_REQUIRE_INTEGRATION") == "1" }

// LookPath finds a peer's program, or skips (or fails) the test.
func LookPath(t testing.TB, name string, alternatives ...string) string {
	t.Helper()
	for _, n := range append([]string{name}, alternatives...) {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, name+" not found on PATH")
	return ""
}

// Missing skips the test, or fails it under FIREBREAK_REQUIRE_INTEGRATION=1.
func Missing(t testing.TB, why string) {
	t.Helper()
	if RequireIntegration() {
		t.Fatalf("integration peer missing: %s (FIREBREAK_REQUIRE_INTEGRATION=1)", why)
	}
	t.Skipf("integration peer missing: %s", why)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func itoa(n int) string { return strconv.Itoa(n) }
