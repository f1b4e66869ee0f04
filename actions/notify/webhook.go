package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// postWebhook POSTs body to the webhook and classifies the answer.
func (n *notify) postWebhook(ctx context.Context, in *engine.StepInput, p *params, body []byte, out engine.Outputs) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.webhook.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", withoutURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "firebreak")
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return deliveryError(ctx, fmt.Errorf("posting to webhook %s: %w", hostOf(p), withoutURL(err)))
	}
	defer resp.Body.Close()
	// Up to 1 KiB of the answer says why a webhook refused; the rest is
	// drained so the connection can be reused.
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	out["status"] = resp.StatusCode
	if err := event(ctx, in, map[string]any{"target": p.webhook.Scheme + "://" + p.webhook.Host, "status": resp.StatusCode, "body_sha256": out["body_sha256"]}); err != nil {
		return err
	}
	return statusError(p, resp, reply)
}

// statusError says what a non-2xx answer means for the responder.
func statusError(p *params, resp *http.Response, reply []byte) error {
	code := resp.StatusCode
	why := strings.TrimSpace(string(reply))
	if why != "" {
		why = fmt.Sprintf(" (%q)", why)
	}
	switch {
	case code >= 200 && code < 300:
		return nil
	case code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout:
		return engine.Retryable(fmt.Errorf("webhook %s answered %s%s", hostOf(p), resp.Status, why))
	case code >= 300 && code < 400:
		return fmt.Errorf("webhook %s answered %s, a redirect to %s: put the final URL in webhook", hostOf(p), resp.Status, redirectHost(p, resp))
	default:
		return fmt.Errorf("webhook %s refused the message: %s%s; check the URL and headers", hostOf(p), resp.Status, why)
	}
}

// deliveryError marks a failed delivery retryable, unless the step itself
// was stopped (cancelled run): retrying that is pointless.
func deliveryError(ctx context.Context, err error) error {
	if parentStopped(ctx) {
		return err
	}
	return engine.Retryable(err)
}

// parentStopped reports whether ctx was cancelled rather than timed out.
func parentStopped(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// withoutURL drops the *url.Error around err: it quotes the whole URL,
// token and all, and the step error goes into the journal, the manifest,
// the custody log and the logs. What the caller may ask of the url.Error
// (Timeout, Temporary) stays answerable.
func withoutURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &urlFree{err: ue.Err, timeout: ue.Timeout(), temporary: ue.Temporary()}
}

// urlFree is a *url.Error without its URL.
type urlFree struct {
	err                error
	timeout, temporary bool
}

func (e *urlFree) Error() string   { return e.err.Error() }
func (e *urlFree) Unwrap() error   { return e.err }
func (e *urlFree) Timeout() bool   { return e.timeout }
func (e *urlFree) Temporary() bool { return e.temporary }

// redirectHost names a redirect's target by scheme and host only, like
// hostOf: a Location can carry the token too. A relative Location is
// resolved against the webhook.
func redirectHost(p *params, resp *http.Response) string {
	loc, err := p.webhook.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host == "" {
		return "an unreadable location"
	}
	return fmt.Sprintf("%q", loc.Scheme+"://"+loc.Host)
}

// hostOf names the webhook in errors by scheme and host only: its path and
// query often are the secret.
func hostOf(p *params) string {
	return fmt.Sprintf("%q", p.webhook.Scheme+"://"+p.webhook.Host)
}
