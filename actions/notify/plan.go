package notify

import (
	"context"
	"net/url"

	"github.com/firebreak-ir/firebreak/engine"
)

// Plan names the destination and sends nothing.
func (*notify) Plan(_ context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	d := &engine.PlanDetail{}
	switch {
	case in.Params["webhook"] != nil:
		d.Calls = []string{"POST " + showWebhook(in.Params["webhook"])}
	case in.Params["topic_arn"] != nil:
		d.Calls = []string{"sns:Publish " + engine.Format(show(in.Params["topic_arn"]))}
		if arn, ok := in.Params["topic_arn"].(string); ok && in.Check {
			if err := checkTopicARN(arn); err != nil {
				d.Problems = append(d.Problems, err.Error())
			}
		}
	default:
		d.Problems = []string{"no destination: give webhook or topic_arn"}
	}
	return d, nil
}

// showWebhook drops the query and any user:password: they are where
// webhooks usually carry their token.
func showWebhook(v any) string {
	s, ok := v.(string)
	if !ok {
		return engine.Format(show(v))
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "<not a URL>"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

func show(v any) any {
	if u, ok := v.(engine.Unknown); ok {
		return u.String()
	}
	return v
}
