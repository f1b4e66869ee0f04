package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/chromedp/chromedp"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

var intakeSecret = []byte("0123456789abcdef-intake-secret")

func withAuto(c *Config) { c.Auto, c.IntakeSecret = true, intakeSecret }

func readFinding(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/findings/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// postFinding posts body with the responder token and decodes the answer.
func (w *world) postFinding(body string) ([]intakeResult, int, string) {
	w.t.Helper()
	out, code := w.do(w.client(), http.MethodPost, "/api/findings", w.tokens.Responder, "application/json", body)
	var res struct {
		Findings []intakeResult `json:"findings"`
	}
	json.Unmarshal([]byte(out), &res)
	return res.Findings, code, out
}

// runsOf lists the runs of playbook this console started.
func (w *world) runsOf(playbook string) []string {
	w.t.Helper()
	w.console.runs.mu.Lock()
	defer w.console.runs.mu.Unlock()
	var out []string
	for id, tr := range w.console.runs.runs {
		if tr.run.Playbook.Name == playbook {
			out = append(out, id)
		}
	}
	return out
}

// TestIntakeStartsOnce: a GuardDuty finding posted with serve --auto
// starts the auto: true playbook that answers it, once, from the finding
// (its instance id), and queues the other; the same finding again, and
// again with a higher count (GuardDuty's update), starts nothing and is
// counted. Its record is on disk.
func TestIntakeStartsOnce(t *testing.T) {
	w := newWorld(t, withAuto)
	body := readFinding(t, "guardduty-backdoor-c2.json")
	res, code, out := w.postFinding(body)
	if code != http.StatusOK || len(res) != 1 || len(res[0].Started) != 1 || res[0].Started[0].Playbook != "auto-note" || res[0].Duplicate {
		t.Fatalf("first post: %d %s", code, out)
	}
	if len(res[0].Queued) != 1 || res[0].Queued[0] != "click-note" {
		t.Errorf("queued: %v", res[0].Queued)
	}
	v := w.waitRun(res[0].Started[0].RunID, "its end", ended)
	if v.Status != engine.RunSucceeded || v.step("note").Outputs["text"] != "i-0a1b2c3d4e5f67890" {
		t.Errorf("the run from the finding: %+v", v)
	}
	again, code, out := w.postFinding(body)
	if code != http.StatusOK || len(again) != 1 || !again[0].Duplicate || len(again[0].Started) != 0 {
		t.Errorf("the same finding again: %d %s", code, out)
	}
	updated := strings.Replace(body, `"count": 14`, `"count": 15`, 1)
	updated = strings.Replace(updated, `"updatedAt": "2026-11-20T08:13:58.057Z"`, `"updatedAt": "2026-11-20T09:13:58.057Z"`, 1)
	if updated == body {
		t.Fatal("the fixture's count or updatedAt moved")
	}
	again, _, out = w.postFinding(updated)
	if len(again) != 1 || !again[0].Duplicate || len(again[0].Started) != 0 {
		t.Errorf("the finding updated: %s", out)
	}
	if n := len(w.runsOf("auto-note")); n != 1 {
		t.Errorf("%d auto-note runs, want 1", n)
	}
	recs, err := w.console.intake.list()
	if err != nil || len(recs) != 1 || recs[0].Seen != 3 || recs[0].Count != 15 || recs[0].UpdatedAt != "2026-11-20T09:13:58.057Z" {
		t.Errorf("the record: %+v %v", recs, err)
	}
}

// TestIntakeWithoutAuto: without serve --auto an auto: true playbook is
// queued too; the findings page's Start button starts it, once.
func TestIntakeWithoutAuto(t *testing.T) {
	w := newWorld(t)
	res, code, out := w.postFinding(readFinding(t, "sns-notification-backdoor-c2.json"))
	if code != http.StatusOK || len(res) != 1 || len(res[0].Started) != 0 || len(res[0].Queued) != 2 {
		t.Fatalf("post without --auto: %d %s", code, out)
	}
	c := w.client()
	csrf := w.login(c, w.tokens.Responder)
	recs, _ := w.console.intake.list()
	start := url.Values{"csrf": {csrf}, "playbook": {"auto-note"}}.Encode()
	if _, code := w.do(c, http.MethodPost, "/findings/"+recs[0].Key+"/start", "", "application/x-www-form-urlencoded", start); code != http.StatusSeeOther {
		t.Fatalf("Start: %d", code)
	}
	if _, code := w.do(c, http.MethodPost, "/findings/"+recs[0].Key+"/start", "", "application/x-www-form-urlencoded", start); code != http.StatusBadRequest {
		t.Errorf("Start again: %d, want 400", code)
	}
	if n := len(w.runsOf("auto-note")); n != 1 {
		t.Errorf("%d runs", n)
	}
}

// TestIntakeAuth: a signature over the body under the intake secret is
// accepted; a wrong one, none, or the viewer token are refused; bad input
// is a 400 naming the problem; nothing is started by any of them.
func TestIntakeAuth(t *testing.T) {
	w := newWorld(t, withAuto)
	c := w.client()
	body := readFinding(t, "guardduty-backdoor-c2.json")
	post := func(headers map[string]string, b string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/api/findings", strings.NewReader(b))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.StatusCode, sb.String()
	}
	for name, h := range map[string]map[string]string{
		"no auth":                   {},
		"wrong signature":           {SignatureHeader: Sign([]byte("another secret entirely"), []byte(body))},
		"signature of another body": {SignatureHeader: Sign(intakeSecret, []byte(body+" "))},
		"not hex":                   {SignatureHeader: "sha256=zz"},
	} {
		if code, out := post(h, body); code != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", name, code, out)
		}
	}
	if code, _ := post(map[string]string{"Authorization": "Bearer " + w.tokens.Viewer}, body); code != http.StatusForbidden {
		t.Errorf("viewer: %d", code)
	}
	for name, b := range map[string]string{
		"malformed JSON": `{"detail": `,
		"unknown shape":  `{"hello": "world"}`,
		"empty":          ``,
	} {
		code, out := post(map[string]string{"Authorization": "Bearer " + w.tokens.Responder}, b)
		if code != http.StatusBadRequest || !strings.Contains(out, `"error"`) {
			t.Errorf("%s: %d %s", name, code, out)
		}
	}
	big := `{"x":"` + strings.Repeat("a", maxFindingBody) + `"}`
	if code, _ := post(map[string]string{"Authorization": "Bearer " + w.tokens.Responder}, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", code)
	}
	if n := len(w.runsOf("auto-note")); n != 0 {
		t.Fatalf("refused posts started %d runs", n)
	}
	code, out := post(map[string]string{SignatureHeader: Sign(intakeSecret, []byte(body))}, body)
	if code != http.StatusOK || !strings.Contains(out, `"auto-note"`) {
		t.Errorf("signed: %d %s", code, out)
	}
	if n := len(w.runsOf("auto-note")); n != 1 {
		t.Errorf("the signed post started %d runs", n)
	}
}

// TestIntakeFansOut: a document with two findings starts one run each.
func TestIntakeFansOut(t *testing.T) {
	w := newWorld(t, withAuto)
	one := readFinding(t, "guardduty-backdoor-c2.json")
	var ev map[string]any
	if err := json.Unmarshal([]byte(one), &ev); err != nil {
		t.Fatal(err)
	}
	a := ev["detail"].(map[string]any)
	b := map[string]any{}
	for k, v := range a {
		b[k] = v
	}
	b["id"] = "00000000000000000000000000002eef"
	list, _ := json.Marshal([]any{a, b})
	res, code, out := w.postFinding(string(list))
	if code != http.StatusOK || len(res) != 2 || len(res[0].Started) != 1 || len(res[1].Started) != 1 {
		t.Fatalf("a list of two: %d %s", code, out)
	}
	if n := len(w.runsOf("auto-note")); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// TestIntakeFromSQS: a finding sent to a moto SQS queue (an SNS
// notification, as a subscribed queue receives it) starts its playbook
// once and the message is deleted; the same finding again starts nothing
// and is deleted too; a message that is no finding is deleted, starting
// nothing.
func TestIntakeFromSQS(t *testing.T) {
	m := testenv.StartMoto(t)
	w := newWorld(t, withAuto)
	q := sqs.NewFromConfig(m.Config())
	qu, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("findings"),
		Attributes: map[string]string{"VisibilityTimeout": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.console.PollSQS(ctx, q, aws.ToString(qu.QueueUrl), time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	send := func(body string) {
		if _, err := q.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: qu.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	waitEmpty := func(what string) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			a, err := q.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: qu.QueueUrl,
				AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
			if err != nil {
				t.Fatal(err)
			}
			if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the queue still holds %v", what, a.Attributes)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	body := readFinding(t, "sns-notification-backdoor-c2.json")
	send(body)
	waitEmpty("after the finding")
	if runs := w.runsOf("auto-note"); len(runs) != 1 {
		t.Fatalf("%d runs from the queue", len(runs))
	}
	send(body)
	waitEmpty("after the same finding")
	send("not a finding at all")
	waitEmpty("after a message that is not a finding")
	if n := len(w.runsOf("auto-note")); n != 1 {
		t.Errorf("%d runs after the repeat, want 1", n)
	}
	recs, _ := w.console.intake.list()
	if len(recs) != 1 || recs[0].Seen != 2 || recs[0].Source != "sqs" {
		t.Errorf("records: %+v", recs)
	}
}

// TestBrowserFindingsPage: the findings page lists a finding, its run and
// the playbook waiting for a click, with no console error; Start starts it.
func TestBrowserFindingsPage(t *testing.T) {
	w := newWorld(t, withAuto)
	if _, code, out := w.postFinding(readFinding(t, "guardduty-backdoor-c2.json")); code != http.StatusOK {
		t.Fatalf("post: %d %s", code, out)
	}
	b := w.browser()
	b.login(w.tokens.Responder)
	b.do(chromedp.Navigate(w.srv.URL+"/findings"), chromedp.WaitVisible(chromedp.CSS("#findings")))
	if got := b.text("#findings td.runs"); !strings.Contains(got, "auto-note") {
		t.Errorf("runs cell: %q", got)
	}
	b.shot("findings")
	b.do(chromedp.Click(chromedp.CSS("#findings td.pending button.start")), chromedp.WaitVisible(chromedp.CSS("#run-status.s-succeeded")))
	b.clean()
	if n := len(w.runsOf("click-note")); n != 1 {
		t.Errorf("%d click-note runs", n)
	}
}
