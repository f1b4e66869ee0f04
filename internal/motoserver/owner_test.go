package motoserver

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func needProc(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the ownership proof reads /proc (Linux)")
	}
}

func port(t *testing.T, addr net.Addr) int {
	t.Helper()
	return addr.(*net.TCPAddr).Port
}

// TestStartRefusesAnotherServersAnswer: a server already answering 200 on
// the port moto was given is not taken for moto. The stand-in moto_server
// never listens at all, so only the ownership proof can refuse it.
func TestStartRefusesAnotherServersAnswer(t *testing.T) {
	needProc(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("{}"))
	}))
	defer other.Close()
	bin := filepath.Join(t.TempDir(), "moto_server")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := startOn(t.Context(), bin, port(t, other.Listener.Addr()), nil)
	if err == nil {
		s.Stop()
		t.Fatal("startOn: accepted another server's answer as moto_server's")
	}
	if !errors.Is(err, ErrNotOurs) || !strings.Contains(err.Error(), "not held by moto_server") {
		t.Fatalf("startOn: got %v, want %v naming the socket", err, ErrNotOurs)
	}
}

// TestListensOn: the proof holds for the process that listens and for no
// other, and fails on a port nobody listens on.
func TestListensOn(t *testing.T) {
	needProc(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := port(t, l.Addr())
	if err := listensOn(os.Getpid(), p); err != nil {
		t.Errorf("the listening process: %v, want it proven", err)
	}
	child := exec.Command("sleep", "600")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	if err := listensOn(child.Process.Pid, p); !errors.Is(err, ErrNotOurs) {
		t.Errorf("another process: got %v, want %v", err, ErrNotOurs)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := port(t, free.Addr())
	free.Close()
	if err := listensOn(os.Getpid(), closed); !errors.Is(err, ErrNotOurs) {
		t.Errorf("a port nobody listens on: got %v, want %v", err, ErrNotOurs)
	}
}
