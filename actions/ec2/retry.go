package ec2

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// backoff bounds retry: waits start at base and double up to max (with
// jitter), and no new try starts once budget has passed since the first.
type backoff struct {
	base, max, budget time.Duration
}

// settleBackoff covers EC2's eventual consistency: a resource just created
// can read as NotFound for a while (AWS documents up to about a minute).
var settleBackoff = backoff{base: 250 * time.Millisecond, max: 5 * time.Second, budget: 60 * time.Second}

// retry calls fn until it succeeds, fails with an error again rejects, the
// budget is spent, or ctx ends; it returns fn's last error (joined with the
// cause when ctx ended).
func retry(ctx context.Context, b backoff, again func(error) bool, fn func() error) error {
	start, delay := time.Now(), b.base
	for {
		err := fn()
		if err == nil || !again(err) || time.Since(start)+delay > b.budget {
			return err
		}
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, context.Cause(ctx))
		case <-t.C:
		}
		delay = min(delay*2, b.max)
	}
}

// transient accepts errors worth another try: throttling, 5xx, timeouts.
func transient(err error) bool { return engine.IsRetryable(awsapi.Classify(err)) }

// pendingOrTransient also accepts NotFound, for a call on a resource this
// run has just created (eventual consistency).
func pendingOrTransient(err error) bool { return awsapi.IsNotFound(err) || transient(err) }
