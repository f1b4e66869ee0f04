package cli

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeBinary: serve prints its URL and token on a line each; the
// token opens the API, no token gets 401; SIGTERM ends it with exit 0.
// Off loopback without TLS it refuses to start (exit 2), and a token file
// with a short token is refused.
func TestServeBinary(t *testing.T) {
	s := newSandbox(t)
	cmd := s.command("serve", "--addr", "127.0.0.1:0", "--evidence", filepath.Join(s.dir, "evidence"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	got := map[string]string{}
	for len(got) < 3 && lines.Scan() {
		k, v, _ := strings.Cut(lines.Text(), ": ")
		got[k] = v
	}
	url, token := got["console"], got["token"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || len(token) < 32 || got["viewer token"] == "" || got["viewer token"] == token {
		t.Fatalf("serve printed %q\nstderr: %s", got, errb.String())
	}
	go io.Copy(io.Discard, out)
	get := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, url+"api/playbooks", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code := get(token); code != http.StatusOK {
		t.Errorf("the printed token: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}

	r := s.run("serve", "--addr", "0.0.0.0:0").want(t, 2)
	contains(t, "off loopback", r.stderr, "not a loopback address", "--tls-cert")
	tf := filepath.Join(s.dir, "tokens")
	os.WriteFile(tf, []byte("responder short\n"), 0o600)
	r = s.run("serve", "--addr", "127.0.0.1:0", "--token-file", tf).want(t, 2)
	contains(t, "short token", r.stderr, "shorter than 16")
}
