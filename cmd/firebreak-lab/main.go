// Command firebreak-lab is firebreak plus the commands that bring their own
// world: `demo` (host-compromise against a compromised instance on a local
// AWS emulator, then verify) and `bench` (figures against same-run
// baselines). It links the moto launcher, the demo fixture and the fault
// proxy, which the responder's binary (cmd/firebreak) does not.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/firebreak-ir/firebreak/internal/cli"
	"github.com/firebreak-ir/firebreak/internal/lab"
)

func main() {
	// The collector as cmd/firebreak sets it, so bench measures the
	// shipped binary's settings.
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(1 << 30)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Execute(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, lab.Commands()...)
	stop()
	os.Exit(code)
}
