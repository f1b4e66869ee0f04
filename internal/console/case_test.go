package console

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/firebreak-ir/firebreak/actions/analysis"
	"github.com/firebreak-ir/firebreak/actions/ec2"
	"github.com/firebreak-ir/firebreak/engine"
)

const hostilePath = `/tmp/<img src=x onerror=alert(2)>`

// putAnalysisAction stores what analyze-disk, analyze-memory and
// find-related store, in their documented shapes (the Go types the
// actions encode), for the case page to read.
type putAnalysisAction struct{}

func (putAnalysisAction) Spec() engine.ActionSpec { return engine.ActionSpec{Name: "put-analysis"} }

func (putAnalysisAction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	var tl strings.Builder
	for _, e := range []analysis.TimelineEntry{
		{Time: "2020-10-27T05:15:31Z", Activity: "m.c.", Path: "/etc/passwd", Size: 1024, Mode: "r/rrw-r--r--", Inode: "12", Partition: 2},
		{Time: "2020-10-27T05:16:02Z", Activity: ".a..", Path: "/home/eve/.cache/x", Deleted: true, Size: 4096, Mode: "d/drwxr-xr-x", Inode: "77", Partition: 2},
		{Time: "2020-10-28T09:00:00Z", Activity: "macb", Path: hostilePath, Size: 3, Mode: "r/rrw-------", Inode: "91", Partition: 2},
	} {
		b, _ := json.Marshal(e)
		tl.Write(append(b, '\n'))
	}
	if _, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: "timeline.jsonl", Kind: "timeline"}, strings.NewReader(tl.String())); err != nil {
		return nil, err
	}
	phys := uint64(0x1000040)
	rep := analysis.YaraReport{Target: "memory.lime", Rules: map[string]string{"indicators": "indicators"}, Count: 1,
		Matches: []analysis.YaraMatch{{Rule: "finding_indicators", Namespace: "indicators", String: "$d0", Offset: 4160, Length: 14,
			Data: "c2.example.net", Indicator: "c2.example.net", PhysicalAddress: &phys}}}
	b, _ := json.Marshal(rep)
	if _, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: "memory.yara.json", Kind: "yara-matches"}, strings.NewReader(string(b))); err != nil {
		return nil, err
	}
	rel := map[string]any{"instance_id": "i-0a1b2c3d4e5f67890", "criteria": []string{"role", "security_group"}, "count": 2,
		"related": []ec2.RelatedInstance{
			{InstanceID: "i-0000000000000aaaa", Name: "web-2", State: "running", PrivateIP: "10.0.1.7", Reasons: []ec2.Reason{{Criterion: "role", Value: "web-role"}}},
			{InstanceID: "i-0000000000000bbbb", Name: hostileName, State: "stopped", PrivateIP: "10.0.1.8", Reasons: []ec2.Reason{{Criterion: "security_group", Value: "sg-1"}}},
		}}
	b, _ = json.Marshal(rel)
	_, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: "related-instances.json", Kind: "related-instances"}, strings.NewReader(string(b)))
	return engine.Outputs{}, err
}

// TestBrowserCasePage: the case page shows the disk timeline (deleted
// entries marked, filtered by path, by time and to the deleted only), the
// YARA matches with their physical address, and the related instances
// with a way to run a playbook on them; hostile names are text. Verify
// reports the case verified, then, after an artifact is edited on disk,
// names that artifact.
func TestBrowserCasePage(t *testing.T) {
	w := newWorld(t)
	id := w.startRun("analysis-case", nil)
	v := w.waitRun(id, "its end", ended)
	if v.Status != engine.RunSucceeded {
		t.Fatalf("run: %+v", v)
	}
	b := w.browser()
	b.login(w.tokens.Responder)
	page := w.srv.URL + "/cases/" + v.CaseID
	b.do(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("table.timeline")))
	if n := b.eval(`String(document.querySelectorAll("table.timeline tbody tr").length)`); n != "3" {
		t.Errorf("%s timeline rows, want 3", n)
	}
	if got := b.text("table.timeline tr.deleted td.path"); !strings.Contains(got, "/home/eve/.cache/x") {
		t.Errorf("the deleted row: %q", got)
	}
	if got := b.eval(`String(Array.from(document.querySelectorAll("table.timeline td.path")).map(e => e.textContent).join("|"))`); !strings.Contains(got, hostilePath) {
		t.Errorf("the hostile path is not text: %q", got)
	}
	if got := b.text("table.yara tbody tr"); !strings.Contains(got, "0x1000040") || !strings.Contains(got, "c2.example.net") {
		t.Errorf("YARA row: %q", got)
	}
	if got := b.text(`#related tr[data-instance="i-0000000000000bbbb"] td.name`); got != hostileName {
		t.Errorf("related name: %q", got)
	}
	if n := b.eval(`String(document.querySelectorAll("form.related input.pick").length)`); n != "2" {
		t.Errorf("%s related instances to pick", n)
	}
	if n := b.eval(`String(document.querySelectorAll("#custody tbody tr").length)`); n == "0" {
		t.Errorf("no custody lines shown")
	}
	b.shot("case")
	b.do(chromedp.Navigate(page+"?deleted=1"), chromedp.WaitVisible(chromedp.CSS("table.timeline")))
	if n := b.eval(`String(document.querySelectorAll("table.timeline tbody tr").length)`); n != "1" {
		t.Errorf("deleted only: %s rows", n)
	}
	b.do(chromedp.Navigate(page+"?path=passwd"), chromedp.WaitVisible(chromedp.CSS("table.timeline")))
	if n := b.eval(`String(document.querySelectorAll("table.timeline tbody tr").length)`); n != "1" {
		t.Errorf("path passwd: %s rows", n)
	}
	b.do(chromedp.Navigate(page+"?from=2020-10-28"), chromedp.WaitVisible(chromedp.CSS("table.timeline")))
	if n := b.eval(`String(document.querySelectorAll("table.timeline tbody tr").length)`); n != "1" {
		t.Errorf("from 2020-10-28: %s rows", n)
	}
	b.do(chromedp.Navigate(page), chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#verify-report")))
	if got := b.text("#verify-report"); !strings.Contains(got, "Verified") {
		t.Errorf("Verify of an untouched case: %q", got)
	}
	// Tamper with the YARA report on disk.
	tampered := filepath.Join(w.evidence, v.CaseID, "artifacts", "disk", "memory.yara.json")
	if err := os.WriteFile(tampered, []byte(`{"matches":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Navigate(page), chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#problems")))
	if got := b.text("#problems"); !strings.Contains(got, "memory.yara.json") {
		t.Errorf("Verify after tampering: %q", got)
	}
	b.shot("case-tampered")
	b.clean()
	// The API says the same.
	out, code := w.do(w.client(), "POST", "/api/cases/"+v.CaseID+"/verify", w.tokens.Responder, "", "")
	if code != 200 || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "memory.yara.json") {
		t.Errorf("POST /api/cases/{id}/verify: %d %s", code, out)
	}
	if _, code := w.do(w.client(), "POST", "/api/cases/"+v.CaseID+"/verify", w.tokens.Viewer, "", ""); code != 403 {
		t.Errorf("viewer verify: %d", code)
	}
	if _, code := w.get(w.client(), "/api/cases/cr-20990101T000000Z-dead", w.tokens.Viewer); code != 404 {
		t.Errorf("unknown case: %d", code)
	}
}
