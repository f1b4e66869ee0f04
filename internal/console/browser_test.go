package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// browser is a chromium tab on the world's console that records every
// console error, uncaught exception, failed load and dialog the pages
// cause.
type browser struct {
	t   testing.TB
	w   *world
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func (w *world) browser() *browser {
	w.t.Helper()
	ctx := testenv.Chromium(w.t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	w.t.Cleanup(cancel)
	b := &browser{t: w.t, w: w, ctx: ctx}
	if err := chromedp.Listen(ctx, b.event); err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (b *browser) event(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		p = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			p += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
			p = fmt.Sprintf("console.%s", e.Type)
			for _, a := range e.Args {
				p += " " + string(a.Value) + a.Description
			}
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			p = fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	case *page.EventJavascriptDialogOpening:
		p = "a dialog opened: " + e.Message
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

// clean fails the test on anything the pages logged as an error; a page
// whose status the test expects (401, 403) logs its load as one, so the
// test names what it allows.
func (b *browser) clean(allow ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, p := range b.problems {
		for _, a := range allow {
			if strings.Contains(p, a) {
				b.t.Logf("browser (allowed): %s", p)
				continue next
			}
		}
		b.t.Errorf("browser: %s", p)
	}
	b.problems = nil
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return s
}

// login logs in through the login page with tok.
func (b *browser) login(tok string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.w.srv.URL+"/login"),
		chromedp.SetValue(chromedp.CSS("#token"), tok),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("header.top nav")))
}

// shot writes a screenshot of the page to $FIREBREAK_SCREENSHOTS, or the
// test's temp dir, named name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("FIREBREAK_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// TestBrowserPages: in chromium, the login page, the 401 without a token,
// and every page after logging in render with no console error; the
// session cookie cannot be read by script; a playbook description with a
// script element shows as text and runs nothing.
func TestBrowserPages(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.do(chromedp.Navigate(w.srv.URL + "/runs"))
	if got := b.text("h1"); got != "Log in" {
		t.Errorf("/runs without a token shows %q", got)
	}
	b.clean("401")
	b.login(w.tokens.Responder)
	if got := b.eval(`document.cookie`); got != "" {
		t.Errorf("script can read the cookie: %q", got)
	}
	b.do(chromedp.Navigate(w.srv.URL + "/playbooks"))
	desc := b.text("#playbooks")
	if !strings.Contains(desc, `<script>alert("playbook")</script>`) {
		t.Errorf("the playbook description is not shown as text: %q", desc)
	}
	if n := b.eval(`String(document.querySelectorAll("main script").length)`); n != "0" {
		t.Errorf("%s script elements in the page's content", n)
	}
	b.shot("playbooks")
	for _, p := range []string{"/", "/runs", "/cases", "/findings", "/inventory", "/readiness"} {
		b.do(chromedp.Navigate(w.srv.URL + p))
	}
	b.clean()
}
