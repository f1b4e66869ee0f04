package testenv

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromium is the one headless browser of a test binary: starting it
// costs a second or more, a tab almost nothing.
var chromium struct {
	once     sync.Once
	dir      string
	browser  context.Context
	cancel   []context.CancelFunc
	startErr error
}

// Chromium returns a context for a new tab of a headless chromium shared
// by the test binary, closed when the test ends. The browser starts on
// first use, sandbox off (tests run as root in CI), with a fresh profile
// and no network of its own (no sync, updates or background requests).
// Call StopChromium from TestMain. Chromium missing skips the test, or
// fails it under FIREBREAK_REQUIRE_INTEGRATION=1.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := LookPath(t, "chromium", "chromium-browser")
	chromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "firebreak-chromium-")
		if err != nil {
			chromium.startErr = err
			return
		}
		chromium.dir = dir
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.WindowSize(1280, 900),
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		chromium.cancel = []context.CancelFunc{bcancel, acancel}
		// Start the browser now, with its first (blank) tab.
		if err := chromedp.Do(bctx); err != nil {
			chromium.startErr = err
			return
		}
		chromium.browser = bctx
	})
	if chromium.startErr != nil {
		t.Fatalf("starting chromium: %v", chromium.startErr)
	}
	ctx, cancel := chromedp.NewContext(chromium.browser)
	t.Cleanup(cancel)
	return ctx
}

// StopChromium stops the browser Chromium started, if any.
func StopChromium() {
	for _, c := range chromium.cancel {
		c()
	}
	if chromium.dir != "" {
		os.RemoveAll(chromium.dir)
	}
}
