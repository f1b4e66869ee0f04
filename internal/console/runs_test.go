package console

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

func waitingFor(step string) func(runView) bool {
	return func(v runView) bool {
		return len(v.Pending) == 1 && v.Pending[0].Step == step && v.step(step).Status == engine.StatusWaiting
	}
}

// TestBrowserRunPageLive: the run page, open while a step waits for
// approval, shows the question; its Approve button answers it without
// leaving the page, and every step's final state and the run's end arrive
// over server-sent events (the page is never reloaded: a marker set in it
// survives). The run finishes, its case sealed.
func TestBrowserRunPageLive(t *testing.T) {
	w := newWorld(t)
	id := w.startRun("approve-then-note", nil)
	w.waitRun(id, "the question", waitingFor("ask"))
	b := w.browser()
	b.login(w.tokens.Responder)
	b.do(chromedp.Navigate(w.srv.URL+"/runs/"+id),
		chromedp.WaitVisible(chromedp.CSS(`form.approval[data-approval-step="ask"]`)))
	if got := b.text(`form.approval[data-approval-step="ask"] p`); !strings.Contains(got, "Go on with the second note?") {
		t.Errorf("the question shown: %q", got)
	}
	if got := b.eval(`document.querySelector('#dag g.node[data-step="after"]').getAttribute("class")`); got != "node st-pending" {
		t.Errorf("before approval, the DAG's after node: %q", got)
	}
	b.shot("run-waiting")
	b.eval(`window.firebreakMarker = "same page"; "ok"`)
	b.do(chromedp.Click(chromedp.CSS(`form.approval[data-approval-step="ask"] button.approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#dag g.node.st-succeeded[data-step="after"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-status.s-succeeded`)))
	if got := b.eval(`String(window.firebreakMarker)`); got != "same page" {
		t.Fatalf("the page was reloaded (marker %q): the states did not come over SSE", got)
	}
	for _, step := range []string{"before", "ask", "after"} {
		if got := b.eval(`document.querySelector('#steps tr[data-step="` + step + `"] .st').textContent`); got != "succeeded" {
			t.Errorf("step %s in the table: %q", step, got)
		}
	}
	if b.eval(`String(document.querySelector('form.approval[data-approval-step="ask"]').classList.contains("hidden"))`) != "true" {
		t.Errorf("the answered question is still shown")
	}
	b.shot("run-finished")
	b.clean()
	v := w.waitRun(id, "its end", ended)
	if v.Status != engine.RunSucceeded || v.step("after").Outputs["text"] != "after" {
		t.Errorf("run after approval: %+v", v)
	}
	if _, err := evidence.Verify(t.Context(), mustStore(t, w.evidence), v.CaseID, nil); err != nil {
		t.Errorf("the case does not verify: %v", err)
	}
}

func mustStore(t *testing.T, dir string) evidence.Store {
	t.Helper()
	s, err := evidence.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeclineByAPI: declining by the API skips the step and what needs it;
// the viewer token cannot answer; a step not waiting is a 400.
func TestDeclineByAPI(t *testing.T) {
	w := newWorld(t)
	c := w.client()
	id := w.startRun("approve-then-note", nil)
	w.waitRun(id, "the question", waitingFor("ask"))
	if _, code := w.do(c, http.MethodPost, "/api/runs/"+id+"/approve", w.tokens.Viewer, "application/json", `{"step":"ask"}`); code != http.StatusForbidden {
		t.Errorf("viewer approve: %d, want 403", code)
	}
	if body, code := w.do(c, http.MethodPost, "/api/runs/"+id+"/approve", w.tokens.Responder, "application/json", `{"step":"before"}`); code != http.StatusBadRequest || !strings.Contains(body, "no approval pending") {
		t.Errorf("approve a step not waiting: %d %s", code, body)
	}
	if body, code := w.do(c, http.MethodPost, "/api/runs/"+id+"/approve", w.tokens.Responder, "application/json", `{"step":"ask","decline":true}`); code != http.StatusOK {
		t.Fatalf("decline: %d %s", code, body)
	}
	v := w.waitRun(id, "its end", ended)
	if v.step("ask").Status != engine.StatusSkipped || v.step("after").Status != engine.StatusSkipped {
		t.Errorf("after a decline: ask %s, after %s", v.step("ask").Status, v.step("after").Status)
	}
	if !strings.Contains(v.step("after").SkipReason, "declined") {
		t.Errorf("after's skip reason: %q", v.step("after").SkipReason)
	}
}

// TestSSEManyPages: twenty pages follow one run; each gets every step's
// final state and the end, and the run is not held up by them.
func TestSSEManyPages(t *testing.T) {
	w := newWorld(t)
	id := w.startRun("approve-then-note", nil)
	w.waitRun(id, "the question", waitingFor("ask"))
	const pages = 20
	var wg sync.WaitGroup
	finals := make([]map[string]string, pages)
	ends := make([]string, pages)
	ready := make(chan struct{}, pages)
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+"/api/runs/"+id+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+w.tokens.Viewer)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				ready <- struct{}{}
				return
			}
			defer res.Body.Close()
			ready <- struct{}{}
			finals[i], ends[i] = readSSE(t, res)
		}()
	}
	for range pages {
		<-ready
	}
	if _, code := w.do(w.client(), http.MethodPost, "/api/runs/"+id+"/approve", w.tokens.Responder, "application/json", `{"step":"ask"}`); code != http.StatusOK {
		t.Fatalf("approve: %d", code)
	}
	wg.Wait()
	for i := range pages {
		if ends[i] != "succeeded" {
			t.Errorf("page %d: end %q", i, ends[i])
		}
		for _, s := range []string{"before", "ask", "after"} {
			if finals[i][s] != "succeeded" {
				t.Errorf("page %d: step %s last seen %q", i, s, finals[i][s])
			}
		}
	}
	// A run that has ended gives its states and the end at once.
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/api/runs/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens.Viewer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if final, end := readSSE(t, res); end != "succeeded" || final["after"] != "succeeded" {
		t.Errorf("events of an ended run: %v %q", final, end)
	}
}

// readSSE reads an event stream to its end event: the last status of each
// step, and the run's status.
func readSSE(t *testing.T, res *http.Response) (map[string]string, string) {
	final := map[string]string{}
	sc := bufio.NewScanner(res.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			var m map[string]any
			if err := jsonUnmarshal(data, &m); err != nil {
				t.Errorf("bad event data %q: %v", data, err)
				return final, ""
			}
			if event == "end" {
				s, _ := m["status"].(string)
				return final, s
			}
			if item, _ := m["item"].(float64); item < 0 {
				final[m["step"].(string)], _ = m["status"].(string)
			}
		}
	}
	return final, ""
}

// TestResumeFromConsole: a failed run is resumed by the API; the step that
// succeeded is kept, the failed one runs again and the run succeeds. A run
// that succeeded cannot be resumed (400).
func TestResumeFromConsole(t *testing.T) {
	w := newWorld(t)
	marker := filepath.Join(t.TempDir(), "fail")
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id := w.startRun("fails-unless", map[string]any{"marker": marker})
	v := w.waitRun(id, "its end", ended)
	if v.Status != engine.RunFailed || !strings.Contains(v.step("check").Error, "exists") {
		t.Fatalf("the first run: %+v", v)
	}
	body, _ := w.get(w.client(), "/runs/"+id, w.tokens.Viewer)
	if strings.Contains(body, `id="resume"`) {
		t.Errorf("the viewer is offered Resume")
	}
	os.Remove(marker)
	if body, code := w.do(w.client(), http.MethodPost, "/api/runs/"+id+"/resume", w.tokens.Responder, "", ""); code != http.StatusAccepted {
		t.Fatalf("resume: %d %s", code, body)
	}
	v = w.waitRun(id, "the resumed run's end", func(v runView) bool { return ended(v) && v.Status != engine.RunFailed })
	if v.Status != engine.RunSucceeded || v.step("check").Status != engine.StatusSucceeded {
		t.Errorf("the resumed run: %+v", v)
	}
	if body, code := w.do(w.client(), http.MethodPost, "/api/runs/"+id+"/resume", w.tokens.Responder, "", ""); code != http.StatusBadRequest || !strings.Contains(body, "already succeeded") {
		t.Errorf("resume a succeeded run: %d %s", code, body)
	}
}

// TestRunNotStartedHere: a run another process started (here: the same
// session manager, not the console) shows from its journal; an unknown or
// malformed run id is 404 or 400.
func TestRunNotStartedHere(t *testing.T) {
	w := newWorld(t)
	pb, err := w.console.cfg.Catalog.Find("note-twice")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := evidence.ParseLocation(w.evidence)
	run, err := w.console.cfg.Sessions.Start(t.Context(), &sessionRequest{Playbook: pb, Inputs: map[string]any{"target": "host-9"}, Evidence: loc})
	if err != nil {
		t.Fatal(err)
	}
	run.Wait()
	v := w.run(run.ID)
	if v.Live || v.Status != engine.RunSucceeded || v.step("first").Status != engine.StatusSucceeded || v.step("second").Outputs["text"] != "second" {
		t.Errorf("a run from the journal: %+v", v)
	}
	body, code := w.get(w.client(), "/runs/"+run.ID, w.tokens.Viewer)
	if code != http.StatusOK || !strings.Contains(body, `class="node st-succeeded" data-step="second"`) {
		t.Errorf("its page: %d", code)
	}
	if _, code := w.get(w.client(), "/api/runs/run-20990101T000000Z-dead", w.tokens.Viewer); code != http.StatusNotFound {
		t.Errorf("unknown run: %d", code)
	}
	if _, code := w.get(w.client(), "/api/runs/..%2f..%2fetc", w.tokens.Viewer); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Errorf("a path as run id: %d", code)
	}
}
