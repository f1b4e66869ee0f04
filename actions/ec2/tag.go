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
	"github.com/firebreak-ir/firebreak/internal/awsperm"
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

// tagParams declare the tag action's parameters.
type tagParams struct {
	Tags        map[string]any `param:"tags,required" doc:"key -> value; values that are not strings are formatted"`
	InstanceID  string         `param:"instance_id" default:"" doc:"an instance to tag"`
	ResourceIDs []string       `param:"resource_ids" default:"" doc:"more EC2 resource ids to tag"`
	Region      string         `param:"region" default:"" doc:"the resources' region; empty: the run's default"`
}

var tagCalls = []string{"ec2:CreateTags"}

func (*tag) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "tag",
		Summary: "Set tags on an instance or any other EC2 resources (volumes, snapshots, groups ...)",
		Params:  engine.ParamsOf[tagParams](),
		Outputs: []engine.Output{
			{Name: "resource_ids", Type: engine.TypeList, Doc: "the resources tagged"},
			{Name: "tags", Type: engine.TypeMap, Doc: "the tags set, as strings"},
		},
		Calls:       tagCalls,
		Permissions: awsperm.ForCalls(tagCalls),
		Mutating:    true,
	}
}

func (a *tag) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[tagParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("tag: %w", err)
	}
	ids := p.ResourceIDs
	if p.InstanceID != "" {
		ids = append([]string{p.InstanceID}, ids...)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("tag: nothing to tag: give instance_id or resource_ids")
	}
	tags, set, err := tagList(p.Tags)
	if err != nil {
		return nil, err
	}
	_, err = a.api(p.Region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tags})
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
