package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestRetries: only errors marked retryable are retried, up to Retries.
func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		retries      int
		failures     int // attempts that fail before one succeeds
		retryable    bool
		wantAttempts int
		wantStatus   engine.StepStatus
	}{
		{"retryable, then success", 3, 2, true, 3, engine.StatusSucceeded},
		{"retryable, exhausted", 2, 10, true, 3, engine.StatusFailed},
		{"not retryable", 5, 10, false, 1, engine.StatusFailed},
		{"no retries", 0, 10, true, 1, engine.StatusFailed},
		{"no failure", 3, 0, true, 1, engine.StatusSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var seen []int
			act := &fnAction{spec: engine.ActionSpec{Name: "flaky"}, run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
				seen = append(seen, in.Attempt) // attempts of one step never overlap
				if in.Attempt > tt.failures {
					return engine.Outputs{}, nil
				}
				if tt.retryable {
					return nil, engine.Retryable(errors.New("throttled"))
				}
				return nil, errors.New("bad parameter")
			}}
			s := step("s", "flaky")
			s.Retries = tt.retries
			sl := &noSleep{}
			res, err := Run(context.Background(), Config{Registry: registry(act), Playbook: playbook(s), Sleep: sl.sleep})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			got, _ := res.Step("s")
			if got.Attempts != tt.wantAttempts || got.Status != tt.wantStatus || len(seen) != tt.wantAttempts {
				t.Errorf("got %s after %d attempts (action saw %v), want %s after %d", got.Status, got.Attempts, seen, tt.wantStatus, tt.wantAttempts)
			}
			if len(sl.waits) != tt.wantAttempts-1 {
				t.Errorf("waited %d times, want %d", len(sl.waits), tt.wantAttempts-1)
			}
		})
	}
}

// TestBackoff: the waits grow by the factor up to the cap, and with jitter
// each lies in [w/2, w).
func TestBackoff(t *testing.T) {
	t.Parallel()
	for _, jitter := range []bool{false, true} {
		act := &fnAction{spec: engine.ActionSpec{Name: "flaky"}, run: func(context.Context, *engine.StepInput) (engine.Outputs, error) {
			return nil, engine.Retryable(errors.New("503"))
		}}
		s := step("s", "flaky")
		s.Retries = 6
		s.Backoff = engine.Backoff{Initial: time.Second, Max: 10 * time.Second, Factor: 2, Jitter: jitter}
		sl := &noSleep{}
		if _, err := Run(context.Background(), Config{Registry: registry(act), Playbook: playbook(s), Sleep: sl.sleep}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		want := []time.Duration{1, 2, 4, 8, 10, 10}
		if len(sl.waits) != len(want) {
			t.Fatalf("jitter %v: waits %v, want %d of them", jitter, sl.waits, len(want))
		}
		for i, w := range want {
			w *= time.Second
			got := sl.waits[i]
			if (!jitter && got != w) || (jitter && (got < w/2 || got >= w)) {
				t.Errorf("jitter %v: wait %d = %v, want %v (with jitter in [%v, %v))", jitter, i, got, w, w/2, w)
			}
		}
	}
}

// TestBackoffJitterSpreads: jittered waits are not all the same.
func TestBackoffJitterSpreads(t *testing.T) {
	t.Parallel()
	b := engine.Backoff{Initial: time.Second, Factor: 2, Max: time.Minute, Jitter: true}
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[Backoff(b, 3)] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 jittered waits gave %d distinct values, want spread", len(seen))
	}
	if got := Backoff(engine.Backoff{}, 1); got < time.Second || got >= 2*time.Second {
		t.Errorf("zero backoff's first wait = %v, want the default's [1s, 2s)", got)
	}
}

// TestStepTimeout: a step that hits its timeout fails with a message that
// says so; it is retried only when the action marks the error retryable.
func TestStepTimeout(t *testing.T) {
	t.Parallel()
	for _, retryable := range []bool{false, true} {
		act := &fnAction{spec: engine.ActionSpec{Name: "slow"}, run: func(ctx context.Context, _ *engine.StepInput) (engine.Outputs, error) {
			<-ctx.Done() // never answers: only the timeout ends it
			if retryable {
				return nil, engine.Retryable(ctx.Err())
			}
			return nil, ctx.Err()
		}}
		s := step("s", "slow")
		s.Timeout, s.Retries = time.Millisecond, 2
		res, err := Run(context.Background(), Config{Registry: registry(act), Playbook: playbook(s), Sleep: (&noSleep{}).sleep})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		got, _ := res.Step("s")
		wantAttempts := 1
		if retryable {
			wantAttempts = 3
		}
		if got.Status != engine.StatusFailed || got.Attempts != wantAttempts {
			t.Errorf("retryable %v: %s after %d attempts, want failed after %d", retryable, got.Status, got.Attempts, wantAttempts)
		}
		if !strings.Contains(got.Error, `step "s" timed out after 1ms`) {
			t.Errorf("error = %q, want it to say the step timed out", got.Error)
		}
	}
}
