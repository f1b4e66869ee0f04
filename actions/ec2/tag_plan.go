package ec2

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
)

var _ engine.Planner = (*tag)(nil)

// Plan shows the CreateTags call. With Check, and every value known, it
// asks EC2 whether the call would be allowed (DryRun), changing nothing.
func (a *tag) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	var ids []string
	known := true
	if v, ok := in.Params["instance_id"]; ok && v != "" {
		_, unknown := v.(engine.Unknown)
		known = known && !unknown
		ids = append(ids, planValue(v))
	}
	switch l := in.Params["resource_ids"].(type) {
	case []any:
		for _, v := range l {
			_, unknown := v.(engine.Unknown)
			known = known && !unknown
			ids = append(ids, planValue(v))
		}
	case engine.Unknown:
		known = false
		ids = append(ids, l.String())
	}
	var kv []string
	m, isMap := in.Params["tags"].(map[string]any)
	for _, k := range engine.SortedKeys(m) {
		kv = append(kv, k+"="+planValue(m[k]))
	}
	if !isMap {
		known = false
		kv = append(kv, planValue(in.Params["tags"]))
	}
	d := &engine.PlanDetail{Calls: []string{"ec2:CreateTags " + strings.Join(ids, ",") + " " + strings.Join(kv, " ")}}
	if !in.Check || !known || len(ids) == 0 || a.api == nil {
		return d, nil
	}
	tags, _, err := tagList(m)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	_, err = a.api(in.Params.String("region")).CreateTags(ctx, &ec2.CreateTagsInput{DryRun: aws.Bool(true), Resources: ids, Tags: tags})
	if p := dryRunProblem("ec2:CreateTags", err); p != "" {
		d.Problems = append(d.Problems, p)
	}
	return d, nil
}
