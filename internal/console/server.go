// Package console is `firebreak serve`: the responder's console in a
// browser and its JSON API. Runs start, are followed and are answered
// through engine/session in this process; pages are html/template with
// every asset embedded, and one small script (no inline script: the CSP
// forbids it).
//
// Security: access by token (two roles, viewer and responder), compared in
// constant time; a browser logs in once and holds an HttpOnly,
// SameSite=Strict cookie, and every state-changing request made with it
// carries the session's CSRF token; API clients send Authorization: Bearer
// and need none. Every response sets a CSP without inline script and
// frame-ancestors 'none'; request bodies are size-limited; listening off
// loopback needs TLS (CheckListen).
package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/assess"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/plan"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// Config is what a Server serves from.
type Config struct {
	Tokens Tokens
	// Secure marks the session cookie Secure: set when serving TLS.
	Secure bool
	// Sessions starts, follows and lists runs.
	Sessions *session.Manager
	// Catalog finds playbooks by name.
	Catalog *loader.Catalog
	// Evidence is where new runs keep their cases; Signer signs their
	// manifests when set (SignKey is its path, recorded for a resume).
	Evidence evidence.Location
	SignKey  string
	Signer   evidence.Signer
	// OpenStore opens an evidence location (cases, verify).
	OpenStore func(ctx context.Context, loc evidence.Location) (evidence.Store, error)
	// StateDir holds the run journals (the run page of a run this process
	// did not start reads its journal) and the finding intake's records.
	StateDir string
	// Operator is who runs started here act as.
	Operator func(ctx context.Context) evidence.Operator
	Logger   *slog.Logger
	Now      func() time.Time

	// Registry is the action catalogue the plans are built with.
	Registry *engine.Registry
	// PlanOptions give a plan its permission checker (plan --check's).
	PlanOptions func(ctx context.Context) []plan.Option
	// EC2 gives the inventory a client for a region; nil: no inventory.
	EC2 func(region string) EC2
	// Regions are the regions the inventory reads; empty: every region
	// ec2:DescribeRegions gives (asked in HomeRegion).
	Regions    []string
	HomeRegion string
	// InventoryTTL is how long an inventory reading is served (0:
	// DefaultInventoryTTL); CaptureMiBps the rate of the capture time
	// estimate (0: DefaultCaptureMiBps).
	InventoryTTL time.Duration
	CaptureMiBps float64

	// Auto lets a finding start the playbooks that answer it and say
	// auto: true (serve --auto); without it every one waits for a click.
	Auto bool
	// IntakeSecret, when set, lets POST /api/findings be authenticated by
	// the HMAC-SHA256 of its body (SignatureHeader) instead of a token.
	IntakeSecret []byte
	// Assess runs the readiness checks (assess.Run); nil: no readiness.
	Assess func(ctx context.Context) (*assess.Report, error)
}

// Server is the console. Make one with New.
type Server struct {
	cfg      Config
	sessions sessions
	pages    *pages
	runs     *runTracker
	inv      *inventory
	intake   intake
	ready    readiness
	mux      *http.ServeMux
	ctx      context.Context // runs started here live as long as it
}

// Body limits: forms and API requests, and finding documents (the
// findings package reads at most 4 MiB).
const (
	maxBody        = 64 << 10
	maxFindingBody = 4 << 20
)

// New returns a Server. ctx bounds every run the console starts:
// cancelling it interrupts them (they stay resumable).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Tokens.Responder == "" {
		return nil, errors.New("console: a responder token is needed")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, pages: p, ctx: ctx, runs: newRunTracker()}
	s.sessions.now = cfg.Now
	s.ready.run = cfg.Assess
	if cfg.StateDir != "" {
		s.intake.dir = filepath.Join(cfg.StateDir, "intake")
	}
	s.inv = &inventory{ec2: cfg.EC2, regions: cfg.Regions, home: cfg.HomeRegion, ttl: cfg.InventoryTTL, rate: cfg.CaptureMiBps, now: cfg.Now}
	if s.inv.ttl <= 0 {
		s.inv.ttl = DefaultInventoryTTL
	}
	if s.inv.rate <= 0 {
		s.inv.rate = DefaultCaptureMiBps
	}
	s.routes()
	return s, nil
}

// Handler is the console with its security headers and body limits.
func (s *Server) Handler() http.Handler { return s.secure(s.mux) }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	m.HandleFunc("GET /login", s.loginForm)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.need(Viewer, s.logout))
	m.HandleFunc("GET /{$}", s.need(Viewer, s.home))
	m.HandleFunc("GET /runs", s.need(Viewer, s.runsPage))
	m.HandleFunc("GET /playbooks", s.need(Viewer, s.playbooksPage))
	m.HandleFunc("GET /api/whoami", s.need(Viewer, s.apiWhoami))
	m.HandleFunc("GET /api/playbooks", s.need(Viewer, s.apiPlaybooks))
	m.HandleFunc("GET /api/runs", s.need(Viewer, s.apiRuns))
	m.HandleFunc("POST /api/runs", s.need(Responder, s.apiStartRun))
	m.HandleFunc("POST /runs", s.need(Responder, s.formStartRun))
	m.HandleFunc("GET /runs/{id}", s.need(Viewer, s.runPage))
	m.HandleFunc("GET /inventory", s.need(Viewer, s.inventoryPage))
	m.HandleFunc("GET /instances/{region}/{id}", s.need(Viewer, s.instancePage))
	m.HandleFunc("GET /api/instances", s.need(Viewer, s.apiInstances))
	m.HandleFunc("GET /plan", s.need(Viewer, s.planPage))
	m.HandleFunc("POST /api/findings", s.apiFindings)
	m.HandleFunc("GET /cases/{id}", s.need(Viewer, s.casePage))
	m.HandleFunc("GET /cases", s.need(Viewer, s.casesPage))
	m.HandleFunc("GET /readiness", s.need(Viewer, s.readinessPage))
	m.HandleFunc("GET /api/assess", s.need(Viewer, s.apiAssess))
	m.HandleFunc("POST /cases/{id}/verify", s.need(Responder, s.formVerify))
	m.HandleFunc("GET /api/cases", s.need(Viewer, s.apiCases))
	m.HandleFunc("GET /api/cases/{id}", s.need(Viewer, s.apiCase))
	m.HandleFunc("POST /api/cases/{id}/verify", s.need(Responder, s.apiVerify))
	m.HandleFunc("GET /api/findings", s.need(Viewer, s.apiFindingList))
	m.HandleFunc("GET /findings", s.need(Viewer, s.findingsPage))
	m.HandleFunc("POST /findings/{key}/start", s.need(Responder, s.formStartFinding))
	m.HandleFunc("GET /api/runs/{id}", s.need(Viewer, s.apiRun))
	m.HandleFunc("GET /api/runs/{id}/events", s.need(Viewer, s.apiEvents))
	m.HandleFunc("POST /api/runs/{id}/approve", s.need(Responder, s.apiApprove))
	m.HandleFunc("POST /runs/{id}/approve", s.need(Responder, s.formApprove))
	m.HandleFunc("POST /api/runs/{id}/resume", s.need(Responder, s.apiResume))
	m.HandleFunc("POST /runs/{id}/resume", s.need(Responder, s.formResume))
	s.mux = m
}

// csp allows this origin's script, styles and images only: no inline
// script or style, no framing, no plugins, forms posting here only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// secure sets the security headers on every response and bounds the body.
func (s *Server) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.Secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		limit := int64(maxBody)
		if r.URL.Path == "/api/findings" {
			limit = maxFindingBody
		}
		if r.ContentLength > limit {
			s.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is %d bytes: at most %d are taken", r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers an error: JSON for the API, a page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if isAPI(r) {
		writeError(w, code, msg)
		return
	}
	s.render(w, r, code, "error", s.identify(r), errorPage{Code: code, Status: http.StatusText(code), Message: msg})
}

type errorPage struct {
	Code            int
	Status, Message string
}

// Wait waits for every run this console started to end: after the
// context given to New is cancelled, they are interrupted and sealed.
func (s *Server) Wait() {
	s.runs.mu.Lock()
	var all []*tracked
	for _, tr := range s.runs.runs {
		all = append(all, tr)
	}
	s.runs.mu.Unlock()
	for _, tr := range all {
		<-tr.run.Done()
	}
}

// CheckListen refuses to listen on a non-loopback address without TLS: a
// token sent in the clear on a network is a token given away.
func CheckListen(addr string, tls bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %v (want HOST:PORT, e.g. 127.0.0.1:8700)", addr, err)
	}
	if tls || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q is not a loopback address: serving off loopback needs TLS (--tls-cert and --tls-key)", addr)
}

// Serve serves on ln (TLS when certFile is set) until ctx ends, then
// shuts down, letting requests in flight finish for a few seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:    slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return ctx }}
	if certFile != "" {
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	return nil
}
