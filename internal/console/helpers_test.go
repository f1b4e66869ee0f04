package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopChromium()
	os.Exit(code)
}

// noteAction stores its text as an artifact and outputs it.
type noteAction struct{}

func (noteAction) Spec() engine.ActionSpec {
	return engine.ActionSpec{Name: "note", Params: []engine.Param{{Name: "text", Type: engine.TypeString, Required: true}}}
}

func (noteAction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	text, _ := in.Params["text"].(string)
	_, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: in.StepID + ".txt", Kind: "note", ContentType: "text/plain"}, strings.NewReader(text))
	return engine.Outputs{"text": text}, err
}

// failIfAction fails while the file at path exists.
type failIfAction struct{}

func (failIfAction) Spec() engine.ActionSpec {
	return engine.ActionSpec{Name: "fail-if", Params: []engine.Param{{Name: "path", Type: engine.TypeString, Required: true}}}
}

func (failIfAction) Run(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, _ := in.Params["path"].(string)
	if _, err := os.Stat(p); err == nil {
		return nil, fmt.Errorf("%s exists", p)
	}
	return engine.Outputs{}, nil
}

// world is a console over a local session backend, with the test
// playbooks and a directory evidence store.
type world struct {
	t        testing.TB
	srv      *httptest.Server
	console  *Server
	tokens   Tokens
	evidence string
	state    string
}

type option func(*Config)

func newWorld(t *testing.T, opts ...option) *world { return newTBWorld(t, opts...) }

func newBenchWorld(b *testing.B, opts ...option) *world { return newTBWorld(b, opts...) }

func newTBWorld(t testing.TB, opts ...option) *world {
	t.Helper()
	reg := engine.NewRegistry()
	return newWorldWith(t, reg, &loader.Catalog{Dirs: []string{"testdata/playbooks"}, Loader: &loader.Loader{Registry: reg}}, opts...)
}

// newWorldWith is a world over the registry and catalogue given, to which
// the test actions are added.
func newWorldWith(t testing.TB, reg *engine.Registry, cat *loader.Catalog, opts ...option) *world {
	t.Helper()
	reg.Register(noteAction{})
	reg.Register(failIfAction{})
	reg.Register(putAnalysisAction{})
	w := &world{t: t, tokens: NewTokens(), evidence: t.TempDir(), state: t.TempDir()}
	loc, err := evidence.ParseLocation(w.evidence)
	if err != nil {
		t.Fatal(err)
	}
	mgr := &session.Manager{
		Backend: &session.Local{Registry: reg, StateDir: w.state},
		Open: session.Opener{Playbook: func(src string) (*engine.Playbook, error) {
			return cat.Find(src)
		}},
		Tool: evidence.ToolRef{Name: "firebreak", Version: "test"},
	}
	cfg := Config{Tokens: w.tokens, Sessions: mgr, Catalog: cat, Evidence: loc, StateDir: w.state, Registry: reg,
		OpenStore: evidence.NewSchemes().OpenLocation,
		Operator:  func(context.Context) evidence.Operator { return evidence.Operator{UserID: "local:test@console"} }}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.console = c
	w.srv = httptest.NewServer(c.Handler())
	t.Cleanup(func() {
		cancel()
		w.srv.Close()
		c.Wait()
	})
	return w
}

// client returns an HTTP client that keeps cookies and follows no redirect.
func (w *world) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login logs c in with tok and returns the page's CSRF token.
func (w *world) login(c *http.Client, tok string) string {
	w.t.Helper()
	res, err := c.PostForm(w.srv.URL+"/login", url.Values{"token": {tok}, "next": {"/runs"}})
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("login: %s", res.Status)
	}
	return w.csrf(c, "/runs")
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// csrf reads the CSRF token of a page.
func (w *world) csrf(c *http.Client, path string) string {
	w.t.Helper()
	body, code := w.get(c, path, "")
	if code != http.StatusOK {
		w.t.Fatalf("GET %s: %d", path, code)
	}
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil || m[1] == "" {
		w.t.Fatalf("GET %s: no CSRF token in the page", path)
	}
	return m[1]
}

// get does a GET, with a Bearer token when tok is set.
func (w *world) get(c *http.Client, path, tok string) (string, int) {
	w.t.Helper()
	return w.do(c, http.MethodGet, path, tok, "", "")
}

func (w *world) do(c *http.Client, method, path, tok, contentType, body string) (string, int) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String(), res.StatusCode
}

// startRun starts playbook with inputs through the API and returns the
// run id.
func (w *world) startRun(playbook string, inputs map[string]any) string {
	w.t.Helper()
	body, _ := json.Marshal(startRequest{Playbook: playbook, Inputs: inputs})
	out, code := w.do(w.client(), http.MethodPost, "/api/runs", w.tokens.Responder, "application/json", string(body))
	if code != http.StatusCreated {
		w.t.Fatalf("POST /api/runs: %d %s", code, out)
	}
	var r startedRun
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.RunID == "" {
		w.t.Fatalf("POST /api/runs: %s (%v)", out, err)
	}
	return r.RunID
}

// run reads GET /api/runs/{id}.
func (w *world) run(id string) runView {
	w.t.Helper()
	out, code := w.get(w.client(), "/api/runs/"+id, w.tokens.Viewer)
	if code != http.StatusOK {
		w.t.Fatalf("GET /api/runs/%s: %d %s", id, code, out)
	}
	var v runView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		w.t.Fatal(err)
	}
	return v
}

// waitRun polls the run until cond holds (30 s at most).
func (w *world) waitRun(id string, what string, cond func(runView) bool) runView {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := w.run(id)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("run %s: waited 30s for %s; it is %+v", id, what, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (v runView) step(id string) *stepView {
	for _, s := range v.Steps {
		if s.ID == id {
			return s
		}
	}
	return &stepView{}
}

func ended(v runView) bool { return !v.Live && v.Status != "" && v.Status != "running" }

type sessionRequest = session.Request

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
