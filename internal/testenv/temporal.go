//go:build unix

package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Temporal is a Temporal dev server (`temporal server start-dev`) started
// for one test: a loopback gRPC port, its state in a file of the test's
// temp dir, and a namespace of its own with a random name, which is how
// the test knows the server answering is the one it started.
type Temporal struct {
	// Addr is the frontend's host:port, for client.Dial.
	Addr      string
	Namespace string
	// DB is the server's SQLite file: a Restart keeps every workflow.
	DB string

	bin      string
	port     int
	httpPort int
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *sshdLog
	mu       sync.Mutex
}

// TemporalBinary finds the temporal CLI: on PATH, else ~/go/bin/temporal
// (where `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` puts
// it). It skips the test when missing, or fails it under
// FIREBREAK_REQUIRE_INTEGRATION=1.
func TemporalBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "the temporal CLI is not installed (go install github.com/temporalio/cli/cmd/temporal@v1.5.1)")
	return ""
}

// StartTemporal starts a dev server on free loopback ports and stops it
// when the test ends.
func StartTemporal(t testing.TB) *Temporal {
	t.Helper()
	bin := TemporalBinary(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &Temporal{bin: bin, Namespace: "fbtest-" + hex.EncodeToString(b[:]), DB: filepath.Join(t.TempDir(), "temporal.db"), out: &sshdLog{}}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s.port, s.httpPort = FreePort(t), FreePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", itoa(s.port))
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
		s.Stop()
	}
	t.Fatalf("temporal dev server did not start: %v\n%s", lastErr, s.out.String())
	return nil
}

func (s *Temporal) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every port is given, so nothing binds a fixed one another test uses.
	s.cmd = exec.Command(s.bin, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--port", itoa(s.port), "--http-port", itoa(s.httpPort), "--metrics-port", "0",
		"--db-filename", s.DB, "--namespace", s.Namespace, "--log-level", "error")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.WaitDelay = 5 * time.Second
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	s.exited = exited
	cmd := s.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	return s.waitReady(90 * time.Second)
}

// waitReady waits until the server's HTTP API knows our namespace: the
// server listening there is the one this test started.
func (s *Temporal) waitReady(limit time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v1/namespaces/%s", s.httpPort, s.Namespace)
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("temporal exited before it was ready")
		default:
		}
		resp, err := c.Get(url)
		if err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body.Bytes(), []byte(s.Namespace)) {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("temporal did not answer for namespace %s within %s", s.Namespace, limit)
}

// Stop ends the server and what it started (its process group).
func (s *Temporal) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same ports and
// database: workflows, their histories and task queues survive.
func (s *Temporal) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("restarting temporal: %v\n%s", err, s.out.String())
	}
}

// Log is what the server printed.
func (s *Temporal) Log() string { return s.out.String() }
