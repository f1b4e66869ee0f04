package testenv

import (
	"context"
	"os/exec"
	"runtime"
	"sync"

	"github.com/firebreak-ir/firebreak/internal/motoserver"
)

// shared is the one moto_server a test binary reuses across its tests.
// Starting moto_server costs seconds of Python start-up (tens of seconds on
// a loaded CI machine); a package whose tests each build their own world
// pays that once instead of once per test. Every StartMoto resets it, so
// each test still starts from an empty account.
var shared struct {
	mu  sync.Mutex
	srv *motoserver.Server
}

// sharedServer returns the binary's moto_server, starting it on first use.
// ok is false where the server's life cannot be tied to the test binary's
// (see bindToProcess); StartMoto then starts one per test.
func sharedServer() (srv *motoserver.Server, ok bool, err error) {
	if !canBind {
		return nil, false, nil
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		return shared.srv, true, nil
	}
	// The server is started from a goroutine locked to its own OS thread
	// that never returns: the parent-death signal is tied to the thread
	// that forked, so that thread lives as long as the process, and the
	// server is killed when the test binary exits, however it exits.
	type started struct {
		srv *motoserver.Server
		err error
	}
	ch := make(chan started)
	go func() {
		runtime.LockOSThread()
		srv, err := motoserver.StartWith(context.Background(), func(c *exec.Cmd) { bindToProcess(c) })
		ch <- started{srv, err}
		select {}
	}()
	st := <-ch
	if st.err != nil {
		return nil, true, st.err
	}
	shared.srv = st.srv
	return st.srv, true, nil
}
