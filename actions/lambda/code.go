package lambda

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// errCodeElsewhere marks code that is not downloaded: it is held
// somewhere firebreak does not fetch from (a container image in ECR, a
// location outside AWS or outside the configured endpoint). The case
// records it as a gap.
var errCodeElsewhere = errors.New("the code is not downloaded")

// codeFetcher downloads a function's deployment package from the
// pre-signed URL GetFunction gives.
type codeFetcher struct {
	client *http.Client
	// endpoint, when set, is the only host code may come from (an
	// endpoint override: tests, private endpoints); else only AWS's own.
	endpoint *url.URL
}

// allowed says why the location may not be fetched, or "".
func (f *codeFetcher) allowed(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("the code location %q is not a URL", loc)
	}
	host := u.Hostname()
	if f.endpoint != nil {
		if u.Host != f.endpoint.Host {
			return fmt.Sprintf("the code location's host %q is not the configured endpoint %q: nothing is fetched from anywhere else", host, f.endpoint.Host)
		}
		return ""
	}
	if u.Scheme != "https" || !strings.HasSuffix(host, ".amazonaws.com") {
		return fmt.Sprintf("the code location %s://%s is not an https address of AWS", u.Scheme, host)
	}
	return ""
}

// store downloads the code at loc into the case, at most max bytes, and
// checks it against codeSHA256 (Lambda's base64 SHA-256 of the package).
// The artifact is kept even when the hash differs: what was served is
// evidence too; the error says so.
func (f *codeFetcher) store(ctx context.Context, in *engine.StepInput, loc, codeSHA256 string, max int64, src map[string]string) (engine.Artifact, error) {
	if why := f.allowed(loc); why != "" {
		return engine.Artifact{}, fmt.Errorf("%w: %s", errCodeElsewhere, why)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return engine.Artifact{}, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return engine.Artifact{}, engine.Retryable(fmt.Errorf("downloading the code: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return engine.Artifact{}, fmt.Errorf("downloading the code: HTTP %s (a pre-signed location expires after 10 minutes: run the step again)", resp.Status)
	}
	lr := &limited{r: resp.Body, n: max}
	art, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: engine.ArtifactName("function-code", ".zip", in), Kind: "function-code",
		ContentType: "application/zip", Source: src}, lr)
	if err != nil {
		return art, fmt.Errorf("storing the code: %w", err)
	}
	if want := hexOf(codeSHA256); want != "" && art.SHA256 != "" && want != art.SHA256 {
		return art, fmt.Errorf("the code downloaded (sha256 %s) is not the code Lambda says is deployed (sha256 %s): both are recorded", art.SHA256, want)
	}
	return art, nil
}

// hexOf turns Lambda's base64 SHA-256 into the hex artifacts carry.
func hexOf(b64 string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != 32 {
		return ""
	}
	return hex.EncodeToString(b)
}

// limited reads at most n bytes and fails past them, so an endless answer
// cannot fill the evidence store (a store refuses a failed Put whole).
type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, fmt.Errorf("the code is larger than max_code_bytes")
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		return k, fmt.Errorf("the code is larger than max_code_bytes")
	}
	return k, err
}
