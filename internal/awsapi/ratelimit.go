package awsapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// The fleet-wide rate limiter. AWS throttles each account's requests per
// region and service (EC2 per API and kind of API, with token buckets: a
// non-mutating Describe* API holds 100 tokens and gets 20 back a second,
// mutating ones fewer; "Request throttling for the Amazon EC2 API" in the
// EC2 developer guide). One limiter per account, region, service and, for
// EC2, kind of call (describe, mutating, the rest) is shared by every step
// and every target of the process, so a fleet of targets cannot add up to
// more than the ceiling however many run at once.
//
// Each limiter lets at most its current limit of calls start in any
// window of limitWindow. The limit starts at the ceiling, halves on a
// throttling answer (at most once a window) and climbs back by one call
// per window of calls answered without one (AIMD, as TCP does), never
// above the ceiling or below one. It holds every attempt, retries too: the
// SDK's own retries (standard mode, no client-side retry quota) sit above it.

// DefaultAPIRate is the ceiling of each limiter, in calls a second, when
// --api-rate is not given: well under what AWS documents for the EC2 APIs
// (20 a second for a Describe* API once its bucket of 100 is spent), so
// that a run leaves room for the account's other callers.
const DefaultAPIRate = 10

// limitWindow is the window a limiter counts calls in: a second and a
// tenth, so that calls released a second apart and delayed differently on
// the way (up to 100 ms) cannot make AWS count one too many in a second of
// its own. The sustained rate is the ceiling / 1.1.
const limitWindow = 1100 * time.Millisecond

// LimitKey names one limiter.
type LimitKey struct {
	Account  string // the account, or the access key when the credentials do not say
	Region   string
	Service  string // the SDK's service id: "EC2", "IAM", "Auto Scaling", ...
	Category string // EC2: "describe", "mutating" or "other"; "" for other services
}

// Limiters is the process's registry of limiters, made on first use. It
// is safe for concurrent use.
type Limiters struct {
	ceiling float64
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	mu      sync.Mutex
	by      map[LimitKey]*limiter
}

// NewLimiters returns a registry whose limiters allow at most ceiling
// calls a second each (0: DefaultAPIRate).
func NewLimiters(ceiling float64) *Limiters {
	if ceiling <= 0 {
		ceiling = DefaultAPIRate
	}
	return &Limiters{ceiling: ceiling, now: time.Now, sleep: sleepCtx, by: map[LimitKey]*limiter{}}
}

var (
	processMu sync.Mutex
	process   = map[float64]*Limiters{}
)

// ProcessLimiters is the process-wide registry of limiters with this
// ceiling (0: DefaultAPIRate): every configuration LoadConfig makes with it
// shares its limiters, whatever step or target uses it.
func ProcessLimiters(ceiling float64) *Limiters {
	if ceiling <= 0 {
		ceiling = DefaultAPIRate
	}
	processMu.Lock()
	defer processMu.Unlock()
	l, ok := process[ceiling]
	if !ok {
		l = NewLimiters(ceiling)
		process[ceiling] = l
	}
	return l
}

// Ceiling is the most calls a second any one limiter allows.
func (l *Limiters) Ceiling() float64 { return l.ceiling }

func (l *Limiters) get(k LimitKey) *limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.by[k]
	if !ok {
		lim = &limiter{ceiling: l.ceiling, limit: l.ceiling, now: l.now, sleep: l.sleep}
		l.by[k] = lim
	}
	return lim
}

// Limit is the current limit of k's limiter (calls a window), for tests
// and reports.
func (l *Limiters) Limit(k LimitKey) float64 {
	lim := l.get(k)
	lim.mu.Lock()
	defer lim.mu.Unlock()
	return lim.limit
}

// limiter is one sliding-window limiter with an AIMD limit.
type limiter struct {
	ceiling float64
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	mu       sync.Mutex
	limit    float64     // calls a window now, in [1, ceiling]
	started  []time.Time // the calls started in the last window, oldest first
	adjusted time.Time   // the last change of limit
}

// wait blocks until a call may start under the limit, or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		cut := 0
		for cut < len(l.started) && !l.started[cut].After(now.Add(-limitWindow)) {
			cut++
		}
		l.started = l.started[cut:]
		if len(l.started) < int(l.limit) {
			l.started = append(l.started, now)
			l.mu.Unlock()
			return nil
		}
		// The call that frees a place: the one limit places back.
		free := l.started[len(l.started)-int(l.limit)].Add(limitWindow).Sub(now)
		l.mu.Unlock()
		if err := l.sleep(ctx, free); err != nil {
			return err
		}
	}
}

// answered adjusts the limit to how the call was answered.
func (l *limiter) answered(throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	switch {
	case throttled && now.Sub(l.adjusted) >= limitWindow:
		l.limit = max(1, l.limit/2)
		l.adjusted = now
	case !throttled && l.limit < l.ceiling && now.Sub(l.adjusted) >= limitWindow:
		l.limit = min(l.ceiling, l.limit+1)
		l.adjusted = now
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// EC2Category is how EC2 meters operation: "describe" for the
// non-mutating Describe*, Get*, List* and Search* calls, "mutating" for
// the calls that change something, "other" for the rest.
func EC2Category(operation string) string {
	for _, p := range []string{"Describe", "Get", "List", "Search"} {
		if strings.HasPrefix(operation, p) {
			return "describe"
		}
	}
	for _, p := range []string{"Create", "Delete", "Modify", "Authorize", "Revoke", "Associate", "Disassociate", "Replace",
		"Attach", "Detach", "Run", "Terminate", "Start", "Stop", "Reboot", "Copy", "Register", "Deregister", "Enable",
		"Disable", "Reset", "Import", "Allocate", "Release", "Assign", "Unassign", "Update", "Put", "Apply", "Cancel"} {
		if strings.HasPrefix(operation, p) {
			return "mutating"
		}
	}
	return "other"
}

// LimitRate makes every client made from cfg wait for lim's limiter of its
// account, region, service and category before each attempt of a call,
// and tell it how the attempt was answered.
func LimitRate(cfg *aws.Config, lim *Limiters) {
	creds := cfg.Credentials
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(rateMiddleware{lim: lim, creds: creds}, "Retry", middleware.After)
	})
}

type rateMiddleware struct {
	lim   *Limiters
	creds aws.CredentialsProvider
}

func (rateMiddleware) ID() string { return "firebreak/RateLimit" }

func (m rateMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	k := LimitKey{Region: awsmiddleware.GetRegion(ctx), Service: awsmiddleware.GetServiceID(ctx), Account: m.account(ctx)}
	if k.Service == "EC2" {
		k.Category = EC2Category(awsmiddleware.GetOperationName(ctx))
	}
	l := m.lim.get(k)
	if err := l.wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, err := next.HandleFinalize(ctx, in)
	l.answered(isThrottle(err))
	return out, md, err
}

// account is the account the credentials name, else their access key (one
// limiter per set of credentials), else "".
func (m rateMiddleware) account(ctx context.Context) string {
	if m.creds == nil {
		return ""
	}
	c, err := m.creds.Retrieve(ctx)
	if err != nil {
		return ""
	}
	if c.AccountID != "" {
		return c.AccountID
	}
	return c.AccessKeyID
}

// isThrottle: the answer was one of the throttling errors the SDK knows.
func isThrottle(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[api.ErrorCode()]
	return ok
}
