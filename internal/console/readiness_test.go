package console

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/assess"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// TestReadinessOnMoto: the readiness page and GET /api/assess show the
// assess checks run against moto, grouped by family, each failure with its
// remediation; the severity filter keeps that severity only.
func TestReadinessOnMoto(t *testing.T) {
	m := newMotoWorld(t, "us-east-1")
	clients := awsapi.NewClients(m.cfg)
	m.console.ready.run = func(ctx context.Context) (*assess.Report, error) {
		return assess.Run(ctx, assess.Options{Clients: clients, Regions: []string{"us-east-1"}})
	}
	body, code := m.get(m.client(), "/api/assess", m.tokens.Viewer)
	if code != http.StatusOK {
		t.Fatalf("GET /api/assess: %d %s", code, body)
	}
	var rep assess.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	var failed *assess.Result
	for i, r := range rep.Results {
		if r.Status == assess.Fail && r.Remediation != "" {
			failed = &rep.Results[i]
		}
	}
	if len(rep.Results) == 0 || failed == nil {
		t.Fatalf("assess on moto: %d results, none failed with a remediation", len(rep.Results))
	}
	page, code := m.get(m.client(), "/readiness", m.tokens.Viewer)
	if code != http.StatusOK || !strings.Contains(page, `data-family="`+failed.Family+`"`) || !strings.Contains(page, failed.CheckID) {
		t.Errorf("the readiness page lacks %s (%s): %d", failed.CheckID, failed.Family, code)
	}
	high, _ := m.get(m.client(), "/readiness?severity=high", m.tokens.Viewer)
	sev := regexp.MustCompile(`</div></td><td>(high|medium|low)</td>`).FindAllStringSubmatch(high, -1)
	if len(sev) == 0 {
		t.Fatal("no result rows with severity high")
	}
	for _, s := range sev {
		if s[1] != "high" {
			t.Errorf("severity=high shows a %s result", s[1])
		}
	}
}
