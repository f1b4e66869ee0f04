// Command firebreak runs declarative incident-response playbooks against
// AWS: it loads and checks a playbook, plans it, runs its steps as a DAG and
// writes an evidence manifest with a tamper-evident chain of custody.
//
// main stays thin: the command line lives in internal/cli. This binary is
// the one responders ship; it links nothing made for tests or the demo
// (cmd/firebreak-lab adds those).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/firebreak-ir/firebreak/internal/cli"
)

func main() {
	setGC()
	ctx, stop := signalContext()
	code := cli.Execute(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// setGC tunes the collector for capture-memory: the SSH library allocates
// a fresh 32 KiB+ buffer per packet, and at the default GOGC collecting them
// took a quarter of a capture's CPU. GOGC 400 cuts that; the 1 GiB soft
// limit makes the collector work harder before the heap passes it, so
// memory stays bounded. actions/memory's capture benchmark sets the same.
func setGC() {
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(1 << 30)
}

// signalContext is cancelled by the first Ctrl-C or SIGTERM: a run stops
// starting steps, lets running ones end, seals its evidence and exits 3.
// Then the signals are let go, so a second one ends the process at once.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
