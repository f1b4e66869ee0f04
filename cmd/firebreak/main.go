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
	"syscall"
)

func main() {
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
