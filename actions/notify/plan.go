package notify

import (
	"context"
	"net/url"
	"strings"

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

// showWebhook names the host and the first part of the path only: Slack,
// Teams and Discord put the webhook's token in the rest of the path, and
// others in the query or the user info.
func showWebhook(v any) string {
	s, ok := v.(string)
	if !ok {
		return engine.Format(show(v))
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "<not a URL>"
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	out := u.Scheme + "://" + u.Host + "/" + first
	if rest != "" || u.RawQuery != "" {
		out += "/…"
	}
	return out
}

func show(v any) any {
	if u, ok := v.(engine.Unknown); ok {
		return u.String()
	}
	return v
}
