package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Role is what a token lets its holder do.
type Role int

const (
	// NoRole is an unknown token or none.
	NoRole Role = iota
	// Viewer reads every page and every GET of the API.
	Viewer
	// Responder also starts, approves, resumes and verifies.
	Responder
)

func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Responder:
		return "responder"
	}
	return "none"
}

// Tokens are the two access tokens; an empty one grants nothing.
type Tokens struct {
	Viewer, Responder string
}

// minTokenLen is the shortest token accepted from a file: a guessable
// token is no access control.
const minTokenLen = 16

// NewTokens returns two random tokens.
func NewTokens() Tokens {
	return Tokens{Viewer: randomToken(), Responder: randomToken()}
}

// ReadTokens reads a token file: one "ROLE TOKEN" a line (responder or
// viewer), blank lines and # comments ignored. At least the responder
// token is needed; each token is at least 16 characters.
func ReadTokens(path string) (Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Tokens{}, err
	}
	var t Tokens
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		role, tok, ok := strings.Cut(line, " ")
		tok = strings.TrimSpace(tok)
		if !ok || tok == "" {
			return Tokens{}, fmt.Errorf("%s:%d: want ROLE TOKEN (responder or viewer)", path, i+1)
		}
		if len(tok) < minTokenLen {
			return Tokens{}, fmt.Errorf("%s:%d: the %s token is shorter than %d characters", path, i+1, role, minTokenLen)
		}
		switch role {
		case "responder":
			t.Responder = tok
		case "viewer":
			t.Viewer = tok
		default:
			return Tokens{}, fmt.Errorf("%s:%d: unknown role %q: want responder or viewer", path, i+1, role)
		}
	}
	if t.Responder == "" {
		return Tokens{}, fmt.Errorf("%s: no responder token", path)
	}
	if t.Viewer == t.Responder {
		return Tokens{}, fmt.Errorf("%s: the viewer and responder tokens are the same", path)
	}
	return t, nil
}

// role is the role tok grants, comparing in constant time.
func (t Tokens) role(tok string) Role {
	if tok == "" {
		return NoRole
	}
	resp := t.Responder != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(t.Responder)) == 1
	view := t.Viewer != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(t.Viewer)) == 1
	switch {
	case resp:
		return Responder
	case view:
		return Viewer
	}
	return NoRole
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookieName is the browser session's cookie.
const cookieName = "firebreak_session"

// sessionTTL is how long a browser session lasts after its login.
const sessionTTL = 12 * time.Hour

// webSession is a logged-in browser: its role and its CSRF token.
type webSession struct {
	role    Role
	csrf    string
	expires time.Time
}

// sessions are the logged-in browsers, by session id. The id lives only
// in an HttpOnly, SameSite=Strict cookie; the CSRF token is given to the
// page (a meta element and each form) and must come back with every
// state-changing request.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*webSession
	now func() time.Time
}

func (s *sessions) create(role Role) (id string, ws *webSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*webSession{}
	}
	now := s.now()
	for k, v := range s.m { // drop the expired
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	id = randomToken()
	ws = &webSession{role: role, csrf: randomToken(), expires: now.Add(sessionTTL)}
	s.m[id] = ws
	return id, ws
}

func (s *sessions) get(id string) (*webSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, ok := s.m[id]
	if !ok || s.now().After(ws.expires) {
		delete(s.m, id)
		return nil, false
	}
	return ws, true
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// caller is who made a request: the role, and the session when it came
// with the cookie (nil for a Bearer token).
type caller struct {
	role Role
	sid  string
	ws   *webSession
}

var errCSRF = errors.New("missing or wrong CSRF token: reload the page and try again")

// identify finds the caller of r: the Authorization: Bearer token first,
// else the session cookie.
func (s *Server) identify(r *http.Request) caller {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return caller{}
		}
		return caller{role: s.cfg.Tokens.role(strings.TrimSpace(tok))}
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return caller{}
	}
	ws, ok := s.sessions.get(c.Value)
	if !ok {
		return caller{}
	}
	return caller{role: ws.role, sid: c.Value, ws: ws}
}

// checkCSRF checks the CSRF token of a state-changing request made with
// the session cookie: the X-CSRF-Token header (the page's script) or the
// csrf form field. A Bearer request needs none: a browser never adds the
// header on its own.
func checkCSRF(r *http.Request, c caller) error {
	if c.ws == nil {
		return nil
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.ws.csrf)) != 1 {
		return errCSRF
	}
	return nil
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// need wraps h: the caller must hold at least role min, and a
// state-changing request with the cookie must carry its CSRF token.
// Without access: 401; with too little: 403.
func (s *Server) need(min Role, h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.identify(r)
		if c.role == NoRole {
			if isAPI(r) {
				writeError(w, http.StatusUnauthorized, "a token is needed: Authorization: Bearer TOKEN, or log in")
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			s.render(w, r, http.StatusUnauthorized, "login", caller{}, loginPage{Next: r.URL.Path})
			return
		}
		if c.role < min {
			s.fail(w, r, http.StatusForbidden, fmt.Sprintf("the %s token cannot do this: it needs the %s token", c.role, min))
			return
		}
		if !safeMethod(r.Method) {
			if err := checkCSRF(r, c); err != nil {
				s.fail(w, r, http.StatusForbidden, err.Error())
				return
			}
		}
		h(w, r, c)
	}
}

type loginPage struct {
	Next, Error string
}

// login takes the token from the login form and sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	role := s.cfg.Tokens.role(strings.TrimSpace(r.PostFormValue("token")))
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		next = "/"
	}
	if role == NoRole {
		s.render(w, r, http.StatusUnauthorized, "login", caller{}, loginPage{Next: next, Error: "That token is not valid."})
		return
	}
	id, _ := s.sessions.create(role)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", caller{}, loginPage{Next: "/"})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c caller) {
	if c.sid != "" {
		s.sessions.drop(c.sid)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
