package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed web
var webFS embed.FS

// pages are the parsed templates: each page with the layout.
type pages struct {
	t map[string]*template.Template
}

var funcs = template.FuncMap{
	"since": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return ""
		}
		return d.Round(time.Millisecond * 10).String()
	},
	"bytes": humanBytes,
	"lower": strings.ToLower,
	"list":  func(s ...string) []string { return s },
	"hexaddr": func(p *uint64) string {
		if p == nil {
			return ""
		}
		return fmt.Sprintf("0x%x", *p)
	},
	"mib": func(n int64) string {
		if n >= 1024 {
			return fmt.Sprintf("%.1f GiB", float64(n)/1024)
		}
		return fmt.Sprintf("%d MiB", n)
	},
	"secs": func(n int64) string { return (time.Duration(n) * time.Second).String() },
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(webFS, "web/pages/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, n := range names {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(webFS, "web/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		name := strings.TrimSuffix(n[len("web/pages/"):], ".html")
		p.t[name] = t
	}
	return p, nil
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(webFS, "web/static") // a fixed, embedded path
	return http.FileServerFS(sub)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// view is what every page gets: who is looking, the CSRF token for its
// forms, and the page's own data.
type view struct {
	Title    string
	Role     string
	LoggedIn bool
	CanAct   bool // the responder role
	CSRF     string
	Data     any
}

var titles = map[string]string{
	"login": "Log in", "error": "Error", "home": "Console", "runs": "Runs", "run": "Run",
	"playbooks": "Playbooks", "inventory": "Inventory", "instance": "Instance", "findings": "Findings",
	"case": "Case", "plan": "Plan", "cases": "Cases", "readiness": "Readiness",
}

// render writes page name with data, rendered in full before anything is
// sent: a template error is a 500, never half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, c caller, data any) {
	t, ok := s.pages.t[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	v := view{Title: titles[name], Role: c.role.String(), LoggedIn: c.role != NoRole, CanAct: c.role >= Responder, Data: data}
	if c.ws != nil {
		v.CSRF = c.ws.csrf
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.cfg.Logger.Error("rendering a console page", "page", name, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type apiErr struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiErr{Error: msg})
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// decodeJSON reads the request's JSON body into v: one object, no unknown
// fields. A body over the limit says so.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fmt.Errorf("the request body is over %d bytes", maxBody)
		}
		return fmt.Errorf("the body is not the JSON object expected: %v", err)
	}
	return nil
}
