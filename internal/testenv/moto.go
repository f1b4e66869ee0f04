package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Moto is a moto_server started for one test.
type Moto struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL    string
	Region string
	cmd    *exec.Cmd
	out    *lockedBuffer
}

// StartMoto starts moto_server on a free loopback port and stops it when
// the test ends. It also sets AWS_ENDPOINT_URL, dummy credentials and
// AWS_REGION for the test (t.Setenv), so code reading the standard chain
// reaches this server and nothing else.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	bin := LookPath(t, "moto_server")
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		m := &Moto{URL: "http://127.0.0.1:" + itoa(port), Region: "us-east-1", out: &lockedBuffer{}}
		m.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", itoa(port))
		m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("starting moto_server: %v", err)
		}
		if lastErr = m.waitReady(20 * time.Second); lastErr == nil {
			t.Cleanup(m.stop)
			m.setEnv(t)
			return m
		}
		m.stop()
	}
	t.Fatalf("moto_server did not start: %v", lastErr)
	return nil
}

func (m *Moto) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if m.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v; output:\n%s", limit, m.out.String())
}

func (m *Moto) stop() {
	if m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
	}
}

func (m *Moto) setEnv(t testing.TB) {
	if tt, ok := t.(interface{ Setenv(k, v string) }); ok {
		tt.Setenv("AWS_ENDPOINT_URL", m.URL)
		tt.Setenv("AWS_ACCESS_KEY_ID", "testing")
		tt.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
		tt.Setenv("AWS_SESSION_TOKEN", "testing")
		tt.Setenv("AWS_REGION", m.Region)
		tt.Setenv("AWS_DEFAULT_REGION", m.Region)
		tt.Setenv("AWS_CONFIG_FILE", "/dev/null")
		tt.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	}
}

// Reset drops every resource moto holds (POST /moto-api/reset).
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(m.URL+"/moto-api/reset", "application/json", bytes.NewReader(nil))
	if err != nil {
		t.Fatalf("resetting moto: %v", err)
	}
	resp.Body.Close()
}

// Config returns an SDK config that reaches this server with dummy
// credentials. Tests use it to set up and inspect state through the SDK.
func (m *Moto) Config() aws.Config {
	return aws.Config{
		Region:           m.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", "testing"),
		BaseEndpoint:     aws.String(m.URL),
		RetryMaxAttempts: 1,
	}
}

// Context returns a context cancelled when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
