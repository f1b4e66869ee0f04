package ec2

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// tagAPI is what the tag action needs from EC2; *ec2.Client has it.
type tagAPI interface {
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// tag sets tags on EC2 resources. CreateTags overwrites a key's value, so a
// rerun converges on the same tags: the action is idempotent by nature.
type tag struct {
	api func(region string) tagAPI
}

var _ engine.Action = (*tag)(nil)

func registerTag(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&tag{api: func(region string) tagAPI { return c.EC2(region) }})
}

func (*tag) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "tag",
		Summary: "Set tags on an instance or any other EC2 resources (volumes, snapshots, groups ...)",
		Params: []engine.Param{
			{Name: "tags", Type: engine.TypeMap, Required: true, Doc: "key -> value; values that are not strings are formatted"},
			{Name: "instance_id", Type: engine.TypeString, Default: "", Doc: "an instance to tag"},
			{Name: "resource_ids", Type: engine.TypeList, Default: []any{}, Doc: "more EC2 resource ids to tag"},
			{Name: "region", Type: engine.TypeString, Default: "", Doc: "the resources' region; empty: the run's default"},
		},
		Outputs: []engine.Output{
			{Name: "resource_ids", Type: engine.TypeList, Doc: "the resources tagged"},
			{Name: "tags", Type: engine.TypeMap, Doc: "the tags set, as strings"},
		},
		Calls:       []string{"ec2:CreateTags"},
		Permissions: []string{"ec2:CreateTags"},
		Mutating:    true,
	}
}

func (a *tag) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	ids := in.Params.Strings("resource_ids")
	if id := in.Params.String("instance_id"); id != "" {
		ids = append([]string{id}, ids...)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("tag: nothing to tag: give instance_id or resource_ids")
	}
	tags, set, err := tagList(in.Params.Map("tags"))
	if err != nil {
		return nil, err
	}
	_, err = a.api(in.Params.String("region")).CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tags})
	if err != nil {
		return nil, fmt.Errorf("tag: tagging %s: %w", strings.Join(ids, ", "), awsapi.Classify(err))
	}
	if err := in.Evidence.Event(ctx, "aws-change", map[string]any{"call": "ec2:CreateTags", "resources": ids, "tags": set}); err != nil {
		return nil, fmt.Errorf("tag: recording the change: %w", err)
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return engine.Outputs{"resource_ids": out, "tags": set}, nil
}

// tagList turns a playbook's tag map into SDK tags, in key order, rejecting
// what AWS would reject so the responder learns it before any call.
func tagList(m map[string]any) ([]types.Tag, map[string]any, error) {
	if len(m) == 0 {
		return nil, nil, fmt.Errorf("tag: tags is empty: give at least one key: value")
	}
	tags := make([]types.Tag, 0, len(m))
	set := make(map[string]any, len(m))
	for _, k := range engine.SortedKeys(m) {
		v := engine.Format(m[k])
		switch {
		case k == "" || len(k) > 128:
			return nil, nil, fmt.Errorf("tag: key %q must be 1 to 128 characters", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, nil, fmt.Errorf("tag: key %q uses the reserved aws: prefix: choose another key", k)
		case len(v) > 256:
			return nil, nil, fmt.Errorf("tag: value of %q is %d characters, AWS allows 256", k, len(v))
		}
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		set[k] = v
	}
	return tags, set, nil
}
