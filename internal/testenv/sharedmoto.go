package testenv

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/firebreak-ir/firebreak/internal/motoserver"
)

// shared is the one moto_server a test binary reuses across its tests.
// Starting moto_server costs seconds of Python start-up (tens of seconds on
// a loaded CI machine); a package whose tests each build their own world
// pays that once instead of once per test. Every StartMoto resets it, so
// each test still starts from an empty account.
var shared struct {
	mu sync.Mutex
	// byEnv holds one server per set of MOTO_* settings: a test that sets
	// one (MOTO_IAM_LOAD_MANAGED_POLICIES, say) gets a server started
	// with it, as it would have with a server of its own.
	byEnv map[string]*motoserver.Server
}

// motoEnv is the MOTO_* part of the environment, which moto_server reads at
// start.
func motoEnv() string {
	var kv []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "MOTO_") {
			kv = append(kv, e)
		}
	}
	slices.Sort(kv)
	return strings.Join(kv, "\x00")
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
	key := motoEnv()
	if srv := shared.byEnv[key]; srv != nil {
		return srv, true, nil
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
	if shared.byEnv == nil {
		shared.byEnv = map[string]*motoserver.Server{}
	}
	shared.byEnv[key] = st.srv
	return st.srv, true, nil
}
