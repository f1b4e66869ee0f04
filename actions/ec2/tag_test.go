package ec2

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestTagSetsTagsOnInstanceAndVolumes(t *testing.T) {
	w := newSnapWorld(t)
	reg := engine.NewRegistry()
	registerTag(reg, w.clients)
	a, _ := reg.Lookup("tag")
	params := engine.Params{
		"instance_id":  w.instance,
		"resource_ids": []any{w.volumes[0], w.volumes[1]},
		"tags":         map[string]any{"firebreak:status": "isolated", "ticket": 4711},
	}
	in, ev := stepInput("cr-tag", params)
	out := mustRun(t, a, in)
	// A second run converges on the same tags.
	in2, _ := stepInput("cr-tag", params)
	mustRun(t, a, in2)

	got, err := w.ec2.DescribeTags(testenv.Context(t), &ec2.DescribeTagsInput{
		Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"firebreak:status", "ticket"}}},
	})
	if err != nil {
		t.Fatalf("DescribeTags: %v", err)
	}
	byRes := map[string]map[string]string{}
	for _, d := range got.Tags {
		id := aws.ToString(d.ResourceId)
		if byRes[id] == nil {
			byRes[id] = map[string]string{}
		}
		byRes[id][aws.ToString(d.Key)] = aws.ToString(d.Value)
	}
	for _, id := range append([]string{w.instance}, w.volumes...) {
		if byRes[id]["firebreak:status"] != "isolated" || byRes[id]["ticket"] != "4711" {
			t.Errorf("tags of %s: got %v, want firebreak:status=isolated ticket=4711", id, byRes[id])
		}
	}
	if n := len(out["resource_ids"].([]any)); n != 3 {
		t.Errorf("outputs.resource_ids: got %d, want 3", n)
	}
	if len(eventNames(ev)) != 1 || details(ev)[0]["call"] != "ec2:CreateTags" {
		t.Errorf("custody events: got %v %v, want one ec2:CreateTags change", eventNames(ev), details(ev))
	}
}

func TestTagRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := &tag{api: func(string) tagAPI { t.Error("no AWS call expected"); return nil }}
	tests := []struct {
		name   string
		params engine.Params
		want   string
	}{
		{name: "no resource", params: engine.Params{"tags": map[string]any{"a": "b"}}, want: "tag: nothing to tag: give instance_id or resource_ids"},
		{name: "no tags", params: engine.Params{"instance_id": "i-1", "tags": map[string]any{}}, want: "tag: tags is empty: give at least one key: value"},
		{name: "reserved", params: engine.Params{"instance_id": "i-1", "tags": map[string]any{"AWS:x": "y"}}, want: `tag: key "AWS:x" uses the reserved aws: prefix: choose another key`},
		{name: "long value", params: engine.Params{"instance_id": "i-1", "tags": map[string]any{"k": strings.Repeat("v", 257)}}, want: `tag: value of "k" is 257 characters, AWS allows 256`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := stepInput("cr-x", tt.params)
			_, err := a.Run(t.Context(), in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTagPlanDryRuns(t *testing.T) {
	w := newSnapWorld(t)
	reg := engine.NewRegistry()
	registerTag(reg, w.clients)
	a, _ := reg.Lookup("tag")
	pl := a.(engine.Planner)
	ctx := testenv.Context(t)
	d, err := pl.Plan(ctx, &engine.PlanInput{Params: engine.Params{
		"instance_id": engine.Unknown{Expr: "item"}, "tags": map[string]any{"k": "v"}}})
	if err != nil || d.Calls[0] != "ec2:CreateTags <runtime: item> k=v" {
		t.Errorf("plan: got %v (err %v), want the call with the runtime id", d, err)
	}
	d, err = pl.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{
		"instance_id": w.instance, "tags": map[string]any{"planned": "yes"}}})
	if err != nil || len(d.Problems) != 0 {
		t.Errorf("plan --check: got %+v (err %v), want no problem", d, err)
	}
	out, err := w.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"planned"}}}})
	if err != nil || len(out.Tags) != 0 {
		t.Errorf("tags after planning: got %v (err %v), want none", out.Tags, err)
	}
}
