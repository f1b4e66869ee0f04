// Package motoserver starts moto_server, the local AWS emulator, on a free
// loopback port. The tests use it through internal/testenv; `firebreak demo`
// uses it directly so that the demo never reaches real AWS.
package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// ErrNotInstalled: moto_server is not on PATH.
var ErrNotInstalled = errors.New("moto_server not found on PATH (pip install 'moto[server]')")

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL string
	cmd *exec.Cmd
	out *lockedBuffer
}

// Start runs moto_server on a free port of 127.0.0.1 and waits until it
// answers. Call Stop when done.
func Start(ctx context.Context) (*Server, error) { return StartWith(ctx, nil) }

// StartWith is Start with prepare called on the command before it starts
// (tests use it to tie the server's life to their process).
func StartWith(ctx context.Context, prepare func(*exec.Cmd)) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	return startBin(ctx, bin, prepare)
}

// StartBin is Start with the moto_server at bin (one Install made).
func StartBin(ctx context.Context, bin string) (*Server, error) { return startBin(ctx, bin, nil) }

func startBin(ctx context.Context, bin string, prepare func(*exec.Cmd)) (*Server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		var s *Server
		if s, lastErr = startOn(ctx, bin, port, prepare); lastErr == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("moto_server did not start: %w", lastErr)
}

// startOn runs bin as moto_server on port and waits until that process
// answers there.
func startOn(ctx context.Context, bin string, port int, prepare func(*exec.Cmd)) (*Server, error) {
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), out: &lockedBuffer{}}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if prepare != nil {
		prepare(s.cmd)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting moto_server: %w", err)
	}
	if err := s.waitReady(ctx, port, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits until the port answers and the socket listening there
// is the child's own. The port was free a moment ago, but anything may
// take it before moto binds it (another test's moto among them: moto then
// exits, and the 200 would come from a server the test does not own).
func (s *Server) waitReady(ctx context.Context, port int, limit time.Duration) error {
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return listensOn(s.cmd.Process.Pid, port)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("moto_server exited; output:\n%s", s.out.String())
		case <-deadline.C:
			return fmt.Errorf("not ready after %v; output:\n%s", limit, s.out.String())
		case <-tick.C:
		}
	}
}

// Stop kills the server. It is safe to call more than once.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
}

// Reset drops every resource the server holds.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", bytes.NewReader(nil))
	if err != nil {
		return fmt.Errorf("resetting moto: %w", err)
	}
	resp.Body.Close()
	return nil
}

// Output returns what the server has printed so far.
func (s *Server) Output() string { return s.out.String() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
