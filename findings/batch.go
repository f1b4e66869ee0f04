package findings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// MaxBatchSize bounds a document ParseAll reads (an intake request, an
// SQS message): several findings, possibly inside an SNS notification,
// which escapes the JSON it carries.
const MaxBatchSize = 4 << 20

// MaxBatch bounds the findings one document may carry: Security Hub
// sends at most 100 in one EventBridge event, GetFindings returns 50.
const MaxBatch = 100

// ParseAll reads every finding a document carries, in order: each shape
// Parse reads, a JSON list of them, a Findings list or an EventBridge
// event's detail.findings holding several, and an SNS delivery (the
// notification, as a queue subscribed to a topic receives it, or a Lambda
// event's Records from the topic or the queue) carrying any of these.
// A document with one finding gives it with Raw the whole document, as
// Parse does; from a document with several, each Finding's Raw is its
// own JSON, exactly as it was given. Any element that is not a finding
// makes the whole document an error naming it: nothing of a document
// that is partly wrong is taken.
func ParseAll(data []byte) ([]*Finding, error) {
	if len(data) > MaxBatchSize {
		return nil, fmt.Errorf("%d bytes is too large (at most %d)", len(data), MaxBatchSize)
	}
	return parseAll(data, 0)
}

func parseAll(data []byte, depth int) ([]*Finding, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return parseList(trimmed, "the list", nil)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		// Not an object: Parse says what it is (or that it is not JSON).
		f, perr := Parse(data)
		if perr != nil {
			return nil, perr
		}
		return []*Finding{f}, nil
	}
	var obj map[string]any
	_ = json.Unmarshal(trimmed, &obj) // an object, as top is
	carried, isSNS, err := fromSNS(obj)
	if err != nil {
		return nil, err
	}
	if isSNS {
		if depth > 0 {
			return nil, fmt.Errorf("%w: an SNS notification inside an SNS notification", ErrNoFinding)
		}
		var fs []*Finding
		for _, c := range carried {
			some, err := parseAll(c.msg, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.where, err)
			}
			for _, f := range some {
				f.Via = c.via
			}
			fs = append(fs, some...)
		}
		if len(fs) > MaxBatch {
			return nil, fmt.Errorf("the SNS messages hold %d findings, at most %d in one document", len(fs), MaxBatch)
		}
		if len(fs) == 1 {
			fs[0].Raw = append([]byte(nil), data...) // the delivery as received
		}
		return fs, nil
	}
	if list, ok := top["Findings"]; ok && count(list) > 1 {
		return parseList(list, "Findings", nil)
	}
	if detail, ok := top["detail"]; ok && (top["detail-type"] != nil || top["source"] != nil) {
		var d map[string]json.RawMessage
		if json.Unmarshal(detail, &d) == nil && count(d["findings"]) > 1 {
			return parseList(d["findings"], "detail.findings", asffOnly)
		}
	}
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return []*Finding{f}, nil
}

// count is the length of a JSON list; 0 for anything else.
func count(raw json.RawMessage) int {
	var l []json.RawMessage
	if json.Unmarshal(raw, &l) != nil {
		return 0
	}
	return len(l)
}

// parseList parses each element of a list as one finding; check, when
// set, refuses an element of the wrong kind.
func parseList(raw json.RawMessage, where string, check func(*Finding) error) ([]*Finding, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", where, err)
	}
	switch {
	case len(list) == 0:
		return nil, fmt.Errorf("%w: %s is empty", ErrNoFinding, where)
	case len(list) > MaxBatch:
		return nil, fmt.Errorf("%s holds %d findings, at most %d in one document", where, len(list), MaxBatch)
	}
	out := make([]*Finding, 0, len(list))
	for i, el := range list {
		f, err := Parse(el)
		if err == nil && check != nil {
			err = check(f)
		}
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", where, i, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// asffOnly: an EventBridge event's detail.findings holds Security Hub
// findings only.
func asffOnly(f *Finding) error {
	if f.Shape != ShapeASFF {
		return fmt.Errorf("%w: want a Security Hub ASFF finding, got a %s one", ErrNoFinding, f.Shape)
	}
	return nil
}

// ID is the finding's id (incident.finding_id): the GuardDuty id in every
// shape, which stays the same as GuardDuty updates the finding.
func (f *Finding) ID() string { return f.incident("finding_id") }

// UpdatedAt is when the finding was last updated, as it says ("" when it
// does not): GuardDuty's updatedAt, ASFF's UpdatedAt.
func (f *Finding) UpdatedAt() string { return str(field(f.Object, "updatedAt")) }

// Count is how many times GuardDuty has seen the activity (service.count),
// which grows as it updates the finding; 0 when the finding does not say.
func (f *Finding) Count() int {
	if n, ok := dig(f.Object, "service", "count").(float64); ok {
		return int(n)
	}
	if n, ok := dig(f.Object, "ProductFields", "aws/guardduty/service/count").(string); ok {
		var c int
		if _, err := fmt.Sscan(strings.TrimSpace(n), &c); err == nil {
			return c
		}
	}
	return 0
}
