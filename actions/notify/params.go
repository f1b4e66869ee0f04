package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// notifyParams declare the notify step's parameters: the spec and the
// decoding both read them.
type notifyParams struct {
	Webhook  string         `param:"webhook,secret" doc:"http or https URL to POST the JSON body to (give this or topic_arn); secret, as such URLs often hold their token"`
	TopicARN string         `param:"topic_arn" doc:"SNS topic to publish the JSON body to (give this or webhook)"`
	Message  string         `param:"message,required" doc:"what happened, for people"`
	Subject  string         `param:"subject" doc:"a short title; for SNS cut to the 99 ASCII characters it takes"`
	Fields   map[string]any `param:"fields" doc:"more keys for the JSON body, e.g. instance_id"`
	Headers  map[string]any `param:"headers,secret" doc:"HTTP headers for the webhook, e.g. Authorization"`
	Timeout  time.Duration  `param:"timeout" default:"30s" doc:"how long one delivery may take"`
}

// params are the notify step's parameters, checked.
type params struct {
	webhook  *url.URL
	topicARN string
	message  string
	subject  string
	fields   map[string]any
	headers  map[string]string
	timeout  time.Duration
}

func parseParams(in engine.Params) (*params, error) {
	p, err := engine.Decode[notifyParams](in)
	if err != nil {
		return nil, err
	}
	out := &params{message: p.Message, subject: p.Subject, fields: p.Fields, topicARN: p.TopicARN, timeout: p.Timeout}
	switch {
	case p.Webhook == "" && out.topicARN == "":
		return nil, fmt.Errorf("no destination: give webhook (an https URL) or topic_arn (an SNS topic)")
	case p.Webhook != "" && out.topicARN != "":
		return nil, fmt.Errorf("both webhook and topic_arn given: use one notify step for each")
	case p.Webhook != "":
		u, err := parseWebhook(p.Webhook)
		if err != nil {
			return nil, err
		}
		out.webhook = u
	default:
		if err := checkTopicARN(out.topicARN); err != nil {
			return nil, err
		}
	}
	if out.timeout <= 0 {
		return nil, fmt.Errorf("timeout must be positive, e.g. \"30s\"")
	}
	headers, err := parseHeaders(p.Headers)
	if err != nil {
		return nil, err
	}
	out.headers = headers
	return out, nil
}

func parseWebhook(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not %q of s: a webhook URL often carries its token.
		return nil, fmt.Errorf("webhook is not an http or https URL: give one such as https://hooks.example.com/T000/B000")
	}
	return u, nil
}

// checkTopicARN accepts arn:PARTITION:sns:REGION:ACCOUNT:NAME.
func checkTopicARN(arn string) error {
	f := strings.Split(arn, ":")
	if len(f) != 6 || f[0] != "arn" || f[2] != "sns" || f[3] == "" || f[5] == "" {
		return fmt.Errorf("topic_arn %q is not an SNS topic ARN: want arn:aws:sns:REGION:ACCOUNT:NAME", arn)
	}
	return nil
}

// topicRegion is the region in a checked topic ARN: the topic is published
// to there, whatever the run's default region.
func topicRegion(arn string) string { return strings.Split(arn, ":")[3] }

func parseHeaders(m map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for _, k := range engine.SortedKeys(m) {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("headers: %q is not a valid HTTP header name", k)
		}
		v := engine.Format(m[k])
		if strings.ContainsAny(v, "\r\n\x00") {
			// The value is secret-ish: name the header, not the value.
			return nil, fmt.Errorf("headers: the value of %q holds a line break or NUL", k)
		}
		out[k] = v
	}
	return out, nil
}

// validHeaderName checks RFC 9110's token rule, so a typo is a parameter
// error rather than a transport error that looks worth retrying.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}
