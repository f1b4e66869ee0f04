package cloudtrail

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awstest"
)

// tamperedTrail makes trail org-audit and does to it what an attacker
// would: stop it, make it single-region without validation, and drop
// management events.
func tamperedTrail(t *testing.T, e *awstest.Env) *cloudtrail.Client {
	t.Helper()
	ctx := awstest.Ctx(t)
	if _, err := s3.NewFromConfig(e.Direct, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audit-logs")}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(e.Direct)
	steps := []func() error{
		func() error {
			_, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("org-audit"), S3BucketName: aws.String("audit-logs"),
				IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true), TagsList: []types.Tag{{Key: aws.String("owner"), Value: aws.String("secops")}}})
			return err
		},
		func() error {
			_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")})
			return err
		},
		func() error {
			_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")})
			return err
		},
		func() error {
			_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("org-audit"), IsMultiRegionTrail: aws.Bool(false), EnableLogFileValidation: aws.Bool(false)})
			return err
		},
		func() error {
			_, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("org-audit"),
				EventSelectors: []types.EventSelector{{IncludeManagementEvents: aws.Bool(false), ReadWriteType: types.ReadWriteTypeReadOnly,
					DataResources: []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::payments/"}}}}}})
			return err
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	return ct
}

// TestRestoreTrail: restore-trail records the trail as the attacker left
// it, then starts logging, makes it multi-region with log file validation
// and puts management events back (keeping its data events), read back
// through CloudTrail; moto has no event history, so who changed it is a
// recorded gap. A second run changes nothing.
func TestRestoreTrail(t *testing.T) {
	e := awstest.Start(t)
	ct := tamperedTrail(t, e)
	reg := engine.NewRegistry()
	Register(reg, e.Clients)
	out, ev, err := e.Run(t, reg, "restore-trail", engine.Params{"trail": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit", "lookback": time.Hour})
	if err != nil {
		t.Fatalf("restore-trail: %v", err)
	}
	ctx := awstest.Ctx(t)
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("org-audit")})
	if err != nil || !aws.ToBool(st.IsLogging) || out["logging"] != true {
		t.Errorf("logging: got %v (output %v, err %v), want on", st, out["logging"], err)
	}
	d, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"org-audit"}})
	if err != nil || !aws.ToBool(d.TrailList[0].IsMultiRegionTrail) || !aws.ToBool(d.TrailList[0].LogFileValidationEnabled) {
		t.Errorf("trail: got %+v (%v), want multi-region with log file validation", d, err)
	}
	sel, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("org-audit")})
	if err != nil || len(sel.EventSelectors) != 1 || !aws.ToBool(sel.EventSelectors[0].IncludeManagementEvents) ||
		sel.EventSelectors[0].ReadWriteType != types.ReadWriteTypeAll || len(sel.EventSelectors[0].DataResources) != 1 {
		t.Errorf("event selectors: got %+v (%v), want management events, all, and the data resource kept", sel, err)
	}
	prev := out["previous_state"].(map[string]any)
	if prev["logging"] != false || prev["multi_region"] != false || prev["log_file_validation"] != false || prev["management_events"] != false {
		t.Errorf("previous_state: got %v, want the tampered settings", prev)
	}
	body, ok := ev.Object("pre-restore-state.json")
	if !ok || !strings.Contains(string(body), `"IsLogging": false`) || !strings.Contains(string(body), "secops") {
		t.Errorf("pre-restore-state.json: got %s, want the stopped status and the tags", body)
	}
	var rec eventsRecord
	if b, _ := ev.Object("trail-events.json"); json.Unmarshal(b, &rec) != nil || rec.Available || rec.Reason == "" {
		t.Errorf("trail-events.json: got %+v, want available false with the reason (moto has no LookupEvents)", rec)
	}
	if !hasEvent(ev, awsapi.EventGap, "cloudtrail:LookupEvents") {
		t.Errorf("no gap recorded for cloudtrail:LookupEvents: %v", ev.Events())
	}
	tags, _ := ct.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{"arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit"}})
	if got := tagsOf(tags); got[prevTagLogging] != "false" || got[awsapi.TagCase] != "cr-test" || got["owner"] != "secops" {
		t.Errorf("tags: got %v, want the prev state, the case and the trail's own", got)
	}

	again, _, err := e.Run(t, reg, "restore-trail", engine.Params{"trail": "org-audit", "lookback": time.Hour})
	if err != nil {
		t.Fatalf("second restore-trail: %v", err)
	}
	if m := e.Mutations(); len(m) != 0 {
		t.Errorf("second run: mutating calls %v, want none", m)
	}
	if again["logging"] != true || again["previous_state"].(map[string]any)["logging"] != true {
		t.Errorf("second run: got %v", again)
	}
	if got := tagsOf(tags); got[prevTagLogging] != "false" {
		t.Errorf("prev tag overwritten: %v", got)
	}
}

func tagsOf(out *cloudtrail.ListTagsOutput) map[string]string {
	m := map[string]string{}
	if out == nil {
		return m
	}
	for _, r := range out.ResourceTagList {
		for _, tg := range r.TagsList {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	return m
}

func hasEvent(ev *enginetest.Evidence, name, call string) bool {
	for _, e := range ev.Events() {
		if e.Name == name && e.Detail["call"] == call {
			return true
		}
	}
	return false
}

// TestRestoreTrailPlanAndMissingTrail: plan --check reads and changes
// nothing; a trail that is gone is a clear error with nothing changed.
func TestRestoreTrailPlanAndMissingTrail(t *testing.T) {
	e := awstest.Start(t)
	tamperedTrail(t, e)
	reg := engine.NewRegistry()
	Register(reg, e.Clients)
	d := e.Plan(t, reg, "restore-trail", engine.Params{"trail": "org-audit", "lookback": time.Hour})
	if m := e.Mutations(); len(m) != 0 || len(d.Problems) != 0 || !strings.Contains(strings.Join(d.Notes, "\n"), "it would be started") {
		t.Errorf("plan: mutations %v, notes %q, problems %q", m, d.Notes, d.Problems)
	}
	if _, _, err := e.Run(t, reg, "restore-trail", engine.Params{"trail": "deleted-trail"}); err == nil ||
		!strings.Contains(err.Error(), `no trail "deleted-trail"`) || len(e.Mutations()) != 0 {
		t.Errorf("missing trail: got %v, mutations %v", err, e.Mutations())
	}
}

// fakeHistory answers LookupEvents with CloudTrail's documented event
// shape; the rest of the interface is never called.
type fakeHistory struct {
	trailAPI
	events []types.Event
}

func (f fakeHistory) LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	return &cloudtrail.LookupEventsOutput{Events: f.events}, nil
}

// TestLookupChangesNamesWhoStoppedTheTrail: from the history, the events
// that stopped or changed the trail are kept with who made them and from
// where; the others are not named (moto has no history, so this is the
// logic alone).
func TestLookupChangesNamesWhoStoppedTheTrail(t *testing.T) {
	at := time.Date(2026, 11, 20, 7, 58, 2, 0, time.UTC)
	raw := `{"eventName":"StopLogging","sourceIPAddress":"198.51.100.77","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/ops-admin/mallory"}}`
	api := fakeHistory{events: []types.Event{
		{EventName: aws.String("StopLogging"), EventTime: &at, Username: aws.String("mallory"), AccessKeyId: aws.String("ASIAEXAMPLESESSION34"), CloudTrailEvent: aws.String(raw)},
		{EventName: aws.String("GetTrailStatus"), EventTime: &at, Username: aws.String("auditor")},
	}}
	ev := enginetest.NewEvidence()
	got, err := lookupChanges(t.Context(), api, &engine.StepInput{Evidence: ev, Attempt: 1}, trailState{ARN: "arn:t"}, at.Add(time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "StopLogging", "user": "mallory", "access_key_id": "ASIAEXAMPLESESSION34", "time": "2026-11-20T07:58:02Z",
		"source_ip": "198.51.100.77", "principal_arn": "arn:aws:sts::123456789012:assumed-role/ops-admin/mallory"}
	if len(got) != 1 {
		t.Fatalf("changed_by: got %v, want the StopLogging alone", got)
	}
	for k, v := range want {
		if got[0].(map[string]any)[k] != v {
			t.Errorf("changed_by %s: got %v, want %v", k, got[0].(map[string]any)[k], v)
		}
	}
}
