// Command firebreak runs declarative incident-response playbooks against
// AWS: it loads and checks a playbook, plans it, runs its steps as a DAG and
// writes an evidence manifest with a tamper-evident chain of custody.
//
// main stays thin: flags and commands are in app.go, each command in its
// own file, the action registry in registry.go.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// capture-memory: the SSH library allocates a fresh 32 KiB+ buffer per
	// packet, and at the default GOGC collecting them took a quarter of a
	// capture's CPU. GOGC 400 cuts that; the 1 GiB soft limit makes the
	// collector work harder before the heap passes it, so memory stays bounded.
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(1 << 30)

	// The first Ctrl-C or SIGTERM cancels the context: a run stops starting
	// steps, lets running ones end, seals its evidence and exits 3. Then
	// the signals are let go, so a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := execute(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
