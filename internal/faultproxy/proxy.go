// Package faultproxy is a fault-injecting HTTP reverse proxy for tests and
// benchmarks: it stands in front of moto_server (the SDK reaches it through
// AWS_ENDPOINT_URL or BaseEndpoint) and, by rules on service and operation,
// adds latency, answers with each service's real throttling and server
// errors, drops connections and drips slow answers. It records every call,
// so tests can assert what reached AWS and how often.
//
// Randomness comes from one seeded generator, so a failing seed replays the
// same sequence of draws (the order in which concurrent calls draw is up to
// the scheduler).
package faultproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	// URL is where clients send their requests, e.g. http://127.0.0.1:41234.
	URL string

	target    string
	srv       *http.Server
	transport *http.Transport

	mu      sync.Mutex
	rules   []Rule
	buckets []bucket
	rng     *rand.Rand
	seq     int
	calls   []*Call
	changed chan struct{}
}

// Start listens on a free loopback port and forwards to target (the
// backend's base URL), applying rules. Close stops it.
func Start(target string, seed uint64, rules ...Rule) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fault proxy: listening on loopback: %w", err)
	}
	p := &Proxy{
		URL:       "http://" + l.Addr().String(),
		target:    strings.TrimSuffix(target, "/"),
		transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true},
		rules:     rules,
		buckets:   make([]bucket, len(rules)),
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		changed:   make(chan struct{}),
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// SetRules replaces the rules for the calls that arrive from now on.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.buckets = rules, make([]bucket, len(rules))
}

// Close stops listening and drops open connections.
func (p *Proxy) Close() {
	_ = p.srv.Close()
	p.transport.CloseIdleConnections()
}

// decide draws the call's fault and sums its latency under the lock, so
// the seeded sequence of draws is not torn by concurrent calls.
func (p *Proxy) decide(c *Call) (Fault, time.Duration, time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fault, latency, slow := None, time.Duration(0), 2*time.Second
	now := time.Now()
	for i, r := range p.rules {
		if !r.matches(c) {
			continue
		}
		latency += r.Latency
		if r.RatePerSecond > 0 && !p.buckets[i].take(r, now) && fault == None {
			fault = Throttle
		}
		if x := p.rng.Float64(); fault == None {
			if fault = r.pick(x); fault == SlowRead && r.SlowReadTime > 0 {
				slow = r.SlowReadTime
			}
		}
	}
	return fault, latency, slow, p.rng.IntN(2) == 1
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "fault proxy: reading the request: "+err.Error(), http.StatusBadGateway)
		return
	}
	c := classify(r, body)
	c.Start = time.Now()
	p.begin(&c)
	fault, latency, slow, coin := p.decide(&c)
	if !sleep(r.Context(), latency) {
		p.end(&c, fault, 0, false)
		return
	}
	protocol := "query"
	if r.Header.Get("X-Amz-Target") != "" {
		protocol = "json"
	}
	switch fault {
	case Throttle:
		p.end(&c, fault, writeAnswer(w, r, throttleAnswer(&c, protocol)), false)
		return
	case ServerError:
		p.end(&c, fault, writeAnswer(w, r, serverErrorAnswer(&c, protocol, coin)), false)
		return
	case Drop:
		hangUp(w)
		p.end(&c, fault, 0, false)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "fault proxy: backend: "+err.Error(), http.StatusBadGateway)
		p.end(&c, fault, http.StatusBadGateway, false)
		return
	}
	defer resp.Body.Close()
	if fault == DropAfter {
		_, _ = io.Copy(io.Discard, resp.Body)
		hangUp(w)
		p.end(&c, fault, 0, true)
		return
	}
	p.relay(w, resp, fault == SlowRead, slow)
	p.end(&c, fault, resp.StatusCode, true)
}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Transfer-Encoding")
	out.Host = r.Host // as signed
	out.ContentLength = int64(len(body))
	return p.transport.RoundTrip(out)
}

// relay copies the backend's answer to the client, dripped over slowFor
// in small pieces when slow.
func (p *Proxy) relay(w http.ResponseWriter, resp *http.Response, slow bool, slowFor time.Duration) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if !slow {
		_, _ = io.Copy(w, resp.Body)
		return
	}
	data, _ := io.ReadAll(resp.Body)
	const pieces = 20
	step := max(1, (len(data)+pieces-1)/pieces)
	flusher, _ := w.(http.Flusher)
	for len(data) > 0 {
		n := min(step, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return
		}
		data = data[n:]
		if flusher != nil {
			flusher.Flush()
		}
		time.Sleep(slowFor / pieces)
	}
}

func writeAnswer(w http.ResponseWriter, r *http.Request, a errorAnswer) int {
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(a.status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, a.body)
	}
	return a.status
}

// hangUp closes the client's connection without a word.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a reset, as a broken middlebox sends
	}
	_ = conn.Close()
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
