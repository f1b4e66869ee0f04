package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine/runner"
)

// approver answers approve steps: --yes approves all; on a terminal the
// responder is asked; otherwise nobody can answer and the run stops there,
// resumable.
func (st *cliState) approver(yes bool, d display) runner.Approver {
	if yes {
		return runner.AutoApprove
	}
	if !isTerminal(st.stdin) || !isTerminal(st.stderr) {
		return nil
	}
	in := bufio.NewReader(st.stdin)
	return runner.ApproverFunc(func(ctx context.Context, stepID, question string) (bool, error) {
		st.promptMu.Lock() // concurrent --targets runs ask one at a time
		defer st.promptMu.Unlock()
		resume := d.pause()
		defer resume()
		fmt.Fprintf(st.stderr, "\nstep %q asks: %s [y/N] ", stepID, question)
		answer := make(chan string, 1)
		go func() {
			line, _ := in.ReadString('\n')
			answer <- strings.ToLower(strings.TrimSpace(line))
		}()
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case a := <-answer:
			return a == "y" || a == "yes", nil
		}
	})
}
