package awsapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// fakeClock is a clock a limiter's sleep moves forward.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return nil
}

func fakeLimiters(ceiling float64) (*Limiters, *fakeClock) {
	c := &fakeClock{t: time.Unix(1_000_000, 0)}
	l := NewLimiters(ceiling)
	l.now, l.sleep = c.now, c.sleep
	return l, c
}

// TestLimiterNeverExceedsItsLimit: 100 calls asked for at once start at
// most ceiling in any window, and the run takes the time that rate sets.
func TestLimiterNeverExceedsItsLimit(t *testing.T) {
	l, clock := fakeLimiters(5)
	lim := l.get(LimitKey{Service: "EC2", Category: "describe"})
	start := clock.t
	var starts []time.Time
	for range 100 {
		if err := lim.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, clock.t)
	}
	for i := range starts {
		n := 0
		for _, s := range starts[i:] {
			if s.Sub(starts[i]) < limitWindow {
				n++
			}
		}
		if n > 5 {
			t.Fatalf("%d calls started within %v of call %d, want at most 5", n, limitWindow, i)
		}
	}
	// 100 calls, 5 a window: the last starts 19 windows after the first.
	if got := clock.t.Sub(start); got != 19*limitWindow {
		t.Errorf("100 calls at 5 a window took %v, want %v", got, 19*limitWindow)
	}
}

// TestLimiterAIMD: a throttling answer halves the limit (once a window),
// answers without one add one a window, up to the ceiling, never below 1.
func TestLimiterAIMD(t *testing.T) {
	l, clock := fakeLimiters(16)
	k := LimitKey{Service: "EC2", Category: "mutating"}
	lim := l.get(k)
	step := func() { clock.t = clock.t.Add(limitWindow) }
	lim.answered(true)
	lim.answered(true) // same window: no second halving
	if got := l.Limit(k); got != 8 {
		t.Fatalf("after a throttle: limit %v, want 8", got)
	}
	for _, want := range []float64{4, 2, 1, 1} {
		step()
		lim.answered(true)
		if got := l.Limit(k); got != want {
			t.Fatalf("limit %v, want %v", got, want)
		}
	}
	lim.answered(false) // same window as the last throttle: no change yet
	if got := l.Limit(k); got != 1 {
		t.Fatalf("right after a throttle: limit %v, want 1", got)
	}
	for want := 2.0; want <= 16; want++ {
		step()
		lim.answered(false)
		lim.answered(false)
		if got := l.Limit(k); got != want {
			t.Fatalf("recovering: limit %v, want %v", got, want)
		}
	}
	step()
	lim.answered(false)
	if got := l.Limit(k); got != 16 {
		t.Errorf("limit %v above the ceiling 16", got)
	}
}

// TestLimitersKeys: one limiter per account, region, service and category,
// shared by every caller that names the same.
func TestLimitersKeys(t *testing.T) {
	l := NewLimiters(0)
	a := LimitKey{Account: "111", Region: "us-east-1", Service: "EC2", Category: "describe"}
	same := a
	if l.get(a) != l.get(same) {
		t.Errorf("the same key got two limiters")
	}
	for _, b := range []LimitKey{{Account: "222", Region: "us-east-1", Service: "EC2", Category: "describe"},
		{Account: "111", Region: "eu-west-1", Service: "EC2", Category: "describe"},
		{Account: "111", Region: "us-east-1", Service: "EC2", Category: "mutating"},
		{Account: "111", Region: "us-east-1", Service: "IAM"}} {
		if l.get(a) == l.get(b) {
			t.Errorf("%v and %v share a limiter", a, b)
		}
	}
	if l.Ceiling() != DefaultAPIRate || ProcessLimiters(0) != ProcessLimiters(DefaultAPIRate) {
		t.Errorf("the default ceiling is not DefaultAPIRate, or the process has two registries for it")
	}
}

func TestEC2Category(t *testing.T) {
	for op, want := range map[string]string{"DescribeInstances": "describe", "GetConsoleOutput": "describe",
		"ModifyNetworkInterfaceAttribute": "mutating", "CreateTags": "mutating", "AuthorizeSecurityGroupEgress": "mutating",
		"RunInstances": "mutating", "ConfirmProductInstance": "other"} {
		if got := EC2Category(op); got != want {
			t.Errorf("%s: got %s, want %s", op, got, want)
		}
	}
}

func TestIsThrottle(t *testing.T) {
	if !isThrottle(&smithy.GenericAPIError{Code: "RequestLimitExceeded"}) || isThrottle(&smithy.GenericAPIError{Code: "InvalidGroup.NotFound"}) || isThrottle(errors.New("x")) {
		t.Errorf("isThrottle: RequestLimitExceeded must be one, a not-found and a plain error not")
	}
}
