package faultproxy

import (
	"context"
	"math/rand/v2"
	"time"
)

// Call is one request the proxy saw, as the tests assert on it.
type Call struct {
	Seq       int // order of arrival, from 1
	Service   string
	Operation string
	Mutating  bool
	// DryRun is true for an EC2 call sent with DryRun=true: AWS checks
	// the permission and changes nothing, so it does not count as a mutation.
	DryRun bool
	Method string
	Path   string
	Bucket string // S3 only
	Key    string // S3 only
	Fault  Fault
	Status int // what the client was answered; 0 for a dropped connection
	// Forwarded is true when the backend saw the call (it took effect).
	Forwarded  bool
	Start, End time.Time
}

// Calls returns every call seen so far, in arrival order.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, 0, len(p.calls))
	for _, c := range p.calls {
		out = append(out, *c)
	}
	return out
}

// Mutations counts the mutating calls the backend saw, DryRun checks aside.
func (p *Proxy) Mutations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.Mutating && c.Forwarded && !c.DryRun {
			n++
		}
	}
	return n
}

// Reset forgets the calls seen so far and numbers the next one 1 again
// (the rules and the draws go on).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls, p.seq = nil, 0
}

// WaitFor blocks until match, given every call seen so far in arrival
// order, returns true (calls are recorded as they arrive, before they are
// answered, and again when they end), or ctx ends. It returns the calls match saw. Tests use it to
// kill a process at a chosen point of a run.
func (p *Proxy) WaitFor(ctx context.Context, match func(seen []Call) bool) ([]Call, error) {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		if seen := p.Calls(); match(seen) {
			return seen, nil
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-changed:
		}
	}
}

// begin records a new call and wakes every WaitFor.
func (p *Proxy) begin(c *Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	c.Seq = p.seq
	p.calls = append(p.calls, c)
	close(p.changed)
	p.changed = make(chan struct{})
}

// end fills in how the call ended and wakes every WaitFor.
func (p *Proxy) end(c *Call, fault Fault, status int, forwarded bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.Fault, c.Status, c.Forwarded, c.End = fault, status, forwarded, time.Now()
	close(p.changed)
	p.changed = make(chan struct{})
}

// Settled blocks until every call seen so far has ended (its End is set),
// or ctx ends, and returns them. A client can hold the whole answer a
// moment before the proxy has noted how the call ended; a test reads
// Fault, Status, Forwarded, End or Mutations after Settled.
func (p *Proxy) Settled(ctx context.Context) ([]Call, error) {
	return p.WaitFor(ctx, func(seen []Call) bool {
		for _, c := range seen {
			if c.End.IsZero() {
				return false
			}
		}
		return true
	})
}

// Reseed restarts the random draws from seed.
func (p *Proxy) Reseed(seed uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
