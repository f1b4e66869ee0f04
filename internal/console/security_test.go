package console

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoTokenIs401: every page and API path without a token is refused
// with 401 (a page shows the login form); with a bad token too.
func TestNoTokenIs401(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	for _, p := range []string{"/", "/runs", "/playbooks", "/api/runs", "/api/playbooks", "/api/whoami"} {
		body, code := w.get(c, p, "")
		if code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, code)
		}
		if !strings.HasPrefix(p, "/api/") && !strings.Contains(body, `name="token"`) {
			t.Errorf("GET %s without a token: no login form in the page", p)
		}
		if _, code := w.get(c, p, "not-the-token-at-all"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, code)
		}
	}
	if _, code := w.do(c, http.MethodPost, "/api/runs", "", "application/json", `{"playbook":"note-twice"}`); code != http.StatusUnauthorized {
		t.Errorf("POST /api/runs without a token: %d, want 401", code)
	}
	if _, code := w.do(c, http.MethodPost, "/api/runs", "", "application/json", `{"playbook":"note-twice"}`); code != http.StatusUnauthorized {
		t.Errorf("POST /api/runs without a token: %d, want 401", code)
	}
	// A wrong token at the login form sets no cookie.
	res, err := c.PostForm(w.srv.URL+"/login", url.Values{"token": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %s, cookies %v", res.Status, res.Cookies())
	}
}

// TestViewerCannotStart: the viewer token reads but cannot start a run,
// by the API or by the form; nothing is started.
func TestViewerCannotStart(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	if body, code := w.get(c, "/api/runs", w.tokens.Viewer); code != http.StatusOK {
		t.Fatalf("viewer GET /api/runs: %d %s", code, body)
	}
	body, code := w.do(c, http.MethodPost, "/api/runs", w.tokens.Viewer, "application/json", `{"playbook":"note-twice"}`)
	if code != http.StatusForbidden || !strings.Contains(body, "responder") {
		t.Errorf("viewer POST /api/runs: %d %s, want 403 naming the responder token", code, body)
	}
	csrf := w.login(c, w.tokens.Viewer)
	_, code = w.do(c, http.MethodPost, "/runs", "", "application/x-www-form-urlencoded",
		url.Values{"csrf": {csrf}, "playbook": {"note-twice"}}.Encode())
	if code != http.StatusForbidden {
		t.Errorf("viewer session POST /runs: %d, want 403", code)
	}
	if rows, _ := w.console.listRuns(t.Context()); len(rows) != 0 {
		t.Errorf("runs were started: %+v", rows)
	}
	// The responder token starts one.
	body, code = w.do(c, http.MethodPost, "/api/runs", w.tokens.Responder, "application/json", `{"playbook":"note-twice"}`)
	if code != http.StatusCreated || !strings.Contains(body, `"run_id": "run-`) {
		t.Errorf("responder POST /api/runs: %d %s", code, body)
	}
}

// TestCSRF: a state-changing request made with the session cookie needs
// the session's CSRF token (form field or header); Bearer requests need
// none. A refused request starts nothing.
func TestCSRF(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	csrf := w.login(c, w.tokens.Responder)
	form := url.Values{"playbook": {"note-twice"}}
	if _, code := w.do(c, http.MethodPost, "/runs", "", "application/x-www-form-urlencoded", form.Encode()); code != http.StatusForbidden {
		t.Errorf("POST /runs without a CSRF token: %d, want 403", code)
	}
	form.Set("csrf", "x"+csrf[1:])
	if _, code := w.do(c, http.MethodPost, "/runs", "", "application/x-www-form-urlencoded", form.Encode()); code != http.StatusForbidden {
		t.Errorf("POST /runs with a wrong CSRF token: %d, want 403", code)
	}
	if _, code := w.do(c, http.MethodPost, "/api/runs", "", "application/json", `{"playbook":"note-twice"}`); code != http.StatusForbidden {
		t.Errorf("POST /api/runs with the cookie and no CSRF header: %d, want 403", code)
	}
	if rows, _ := w.console.listRuns(t.Context()); len(rows) != 0 {
		t.Fatalf("a refused request started runs: %+v", rows)
	}
	form.Set("csrf", csrf)
	if _, code := w.do(c, http.MethodPost, "/runs", "", "application/x-www-form-urlencoded", form.Encode()); code != http.StatusSeeOther {
		t.Errorf("POST /runs with the CSRF token: %d, want 303", code)
	}
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/api/runs", strings.NewReader(`{"playbook":"note-twice"}`))
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("POST /api/runs with the cookie and the CSRF header: %s", res.Status)
	}
	// Logging out needs it too.
	if _, code := w.do(c, http.MethodPost, "/logout", "", "application/x-www-form-urlencoded", ""); code != http.StatusForbidden {
		t.Errorf("POST /logout without a CSRF token: %d, want 403", code)
	}
}

// TestCookieAndHeaders: the session cookie is HttpOnly and SameSite=Strict;
// every response, a 401 and a static file too, sets the CSP (no inline
// script, frame-ancestors 'none') and the other headers.
func TestCookieAndHeaders(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	res, err := c.PostForm(w.srv.URL+"/login", url.Values{"token": {w.tokens.Viewer}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Name != cookieName {
		t.Errorf("session cookie: %+v", cookies)
	}
	if cookies[0].Secure {
		t.Errorf("the cookie is Secure without TLS: the browser would never send it")
	}
	if v := res.Header.Values("Set-Cookie"); len(v) != 1 || !strings.Contains(v[0], "HttpOnly") || !strings.Contains(v[0], "SameSite=Strict") {
		t.Errorf("Set-Cookie: %q", v)
	}
	for _, p := range []string{"/", "/login", "/static/app.js", "/api/runs"} {
		for _, tok := range []string{"", w.tokens.Viewer} {
			req, _ := http.NewRequest(http.MethodGet, w.srv.URL+p, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
				if !strings.Contains(got, want) {
					t.Errorf("GET %s: CSP %q lacks %q", p, got, want)
				}
			}
			if strings.Contains(got, "unsafe-inline") || strings.Contains(got, "unsafe-eval") {
				t.Errorf("GET %s: CSP allows inline script: %q", p, got)
			}
			if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: headers %v", p, res.Header)
			}
		}
	}
}

// TestNoInlineScript: no page has an inline script or event handler
// attribute: the CSP would block it, and it would be a place for
// injected script to hide.
func TestNoInlineScript(t *testing.T) {
	files, err := filepath.Glob("web/pages/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pages: %v", err)
	}
	files = append(files, "web/layout.html")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ToLower(string(data))
		if i := strings.Index(s, "<script"); i >= 0 && !strings.HasPrefix(s[i:], `<script src="/static/`) {
			t.Errorf("%s: an inline script", f)
		}
		for _, attr := range []string{" onclick=", " onload=", " onerror=", " onsubmit=", " onchange=", " oninput=", "javascript:", " style="} {
			if strings.Contains(s, attr) {
				t.Errorf("%s: %q (blocked by the CSP)", f, strings.TrimSpace(attr))
			}
		}
	}
}

// TestBodyLimit: a body over the limit is refused with 413 and starts
// nothing, whether it says its length or not.
func TestBodyLimit(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	big := `{"playbook":"note-twice","inputs":{"target":"` + strings.Repeat("a", maxBody) + `"}}`
	if _, code := w.do(c, http.MethodPost, "/api/runs", w.tokens.Responder, "application/json", big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized POST /api/runs: %d, want 413", code)
	}
	// Chunked, with no Content-Length: the reader stops at the limit.
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/api/runs", struct{ *strings.Reader }{strings.NewReader(big)})
	req.Header.Set("Authorization", "Bearer "+w.tokens.Responder)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized chunked POST /api/runs: %s", res.Status)
	}
	if rows, _ := w.console.listRuns(t.Context()); len(rows) != 0 {
		t.Errorf("an oversized request started runs: %+v", rows)
	}
}

// TestPlaybookByNameOnly: a run request naming a file is refused: the API
// loads only the catalogue's playbooks.
func TestPlaybookByNameOnly(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	for _, name := range []string{"testdata/playbooks/note-twice.yaml", "../console/testdata/playbooks/note-twice.yaml", "/etc/passwd"} {
		body, code := w.do(c, http.MethodPost, "/api/runs", w.tokens.Responder, "application/json", `{"playbook":"`+name+`"}`)
		if code != http.StatusBadRequest || !strings.Contains(body, "not a file") {
			t.Errorf("POST /api/runs playbook %q: %d %s", name, code, body)
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, tt := range []struct {
		addr string
		tls  bool
		ok   bool
	}{
		{"127.0.0.1:8700", false, true},
		{"[::1]:8700", false, true},
		{"localhost:8700", false, true},
		{"127.0.0.2:0", false, true},
		{"0.0.0.0:8700", false, false},
		{":8700", false, false},
		{"10.1.2.3:8700", false, false},
		{"10.1.2.3:8700", true, true},
		{":8700", true, true},
		{"nocolon", false, false},
	} {
		err := CheckListen(tt.addr, tt.tls)
		if (err == nil) != tt.ok {
			t.Errorf("CheckListen(%q, tls=%v): %v", tt.addr, tt.tls, err)
		}
		if err != nil && tt.ok == false && !strings.Contains(err.Error(), tt.addr) {
			t.Errorf("CheckListen(%q): the error does not name the address: %v", tt.addr, err)
		}
	}
}

func TestReadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "tokens")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tok, err := ReadTokens(write("# tokens\nresponder 0123456789abcdef-resp\n\nviewer 0123456789abcdef-view\n"))
	if err != nil || tok.Responder != "0123456789abcdef-resp" || tok.Viewer != "0123456789abcdef-view" {
		t.Fatalf("ReadTokens: %+v %v", tok, err)
	}
	if tok.role("0123456789abcdef-resp") != Responder || tok.role("0123456789abcdef-view") != Viewer || tok.role("") != NoRole || tok.role("0123456789abcdef-res") != NoRole {
		t.Errorf("roles wrong")
	}
	for s, want := range map[string]string{
		"viewer 0123456789abcdef-view\n": "no responder token",
		"responder short\n":              ":1: the responder token is shorter",
		"admin 0123456789abcdef-resp\n":  `:1: unknown role "admin"`,
		"responder\n":                    ":1: want ROLE TOKEN",
		"responder 0123456789abcdef-same\nviewer 0123456789abcdef-same\n": "are the same",
	} {
		if _, err := ReadTokens(write(s)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadTokens(%q): %v, want %q", s, err, want)
		}
	}
}
