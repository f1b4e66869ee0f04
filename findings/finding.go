// Package findings reads the security findings a run can start from
// (`run --finding`, README "A quick tour"): a GuardDuty finding as EventBridge delivers it (camelCase
// under detail), as GetFindings returns it (PascalCase, alone or in a
// Findings list), or a Security Hub ASFF finding (alone, in a Findings
// list, or in an EventBridge event under detail.findings); and any of
// those that came through SNS (the notification JSON with the event in
// Message, as an HTTP subscriber or a subscribed SQS queue receives it, or
// a Lambda function's Records event from the topic or from the queue).
//
// Whatever the shape, a Finding gives expressions two maps: `finding`, the
// finding itself with its envelope removed and its keys as given, and
// `incident`, the same derived fields for every shape.
package findings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxSize bounds a finding file: a finding is a few KiB, and a run reads
// the file whole.
const MaxSize = 1 << 20

// Shapes a finding can come in.
const (
	ShapeGuardDutyEvent = "guardduty-eventbridge" // camelCase under detail
	ShapeGuardDutyAPI   = "guardduty-api"         // PascalCase, from GetFindings
	ShapeASFF           = "securityhub-asff"
)

// Incident keys, present in every Finding.Incident (empty strings when
// the finding does not say), so that expressions never meet a missing key.
//
// principal is the user or role name of the access key the finding names;
// role_name is that name again when the key is an assumed role's session
// (and the role of an IAM role resource), so a playbook that acts on roles
// never takes a user for one; principal_arn is the principal as an IAM ARN
// without its path (user/NAME, role/NAME, root). bucket_name is the first
// bucket the finding names, bucket_names all of them, comma-separated;
// function_arn the Lambda function, db_instance_id the RDS instance,
// trail_arn the CloudTrail trail an API call acted on.
var IncidentKeys = []string{"type", "severity", "region", "account", "instance_id", "access_key_id", "principal", "finding_id",
	"principal_arn", "role_name", "bucket_name", "bucket_names", "function_arn", "db_instance_id", "trail_arn"}

// Finding is one parsed finding. It is read-only after Parse.
type Finding struct {
	// Object is the finding itself, its envelope removed, keys as given;
	// expressions read it as `finding`.
	Object map[string]any
	// Incident holds the fields of IncidentKeys, all strings, derived the
	// same way for every shape; expressions read it as `incident`.
	// severity is CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL.
	Incident map[string]any
	// Shape is one of the Shape constants.
	Shape string
	// Via is how it was delivered around that shape: "" (as it is), or
	// one of the Via constants (an SNS notification, a Lambda event).
	Via string
	// Raw is the document as it was given, envelope included: the case
	// keeps it as evidence.
	Raw []byte
}

// Type returns the finding type (incident.type).
func (f *Finding) Type() string { s, _ := f.Incident["type"].(string); return s }

// Load reads and parses the finding file at path (run --finding FILE).
func Load(path string) (*Finding, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the finding: %w", err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the finding %q: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("finding %q: %w", path, err)
	}
	return f, nil
}

// ErrNoFinding is wrapped by Parse's errors for a document that holds no
// finding it knows.
var ErrNoFinding = errors.New("no finding found")

// Parse reads one finding in any of the shapes the package knows, also
// inside an SNS delivery (Raw is then the whole delivery as given).
func Parse(data []byte) (*Finding, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%d bytes is too large for a finding (at most %d)", len(data), MaxSize)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: want a JSON object, got %s", ErrNoFinding, jsonKind(doc))
	}
	carried, isSNS, err := fromSNS(obj)
	if err != nil {
		return nil, err
	}
	if !isSNS {
		return fromObject(obj, data)
	}
	if len(carried) != 1 {
		return nil, fmt.Errorf("the Lambda event's Records holds %d SNS messages, want exactly one: a run answers one finding (save each to its own file)", len(carried))
	}
	c := carried[0]
	f, err := parseOne(c.msg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.where, err)
	}
	f.Raw, f.Via = append([]byte(nil), data...), c.via
	return f, nil
}

// parseOne is Parse of a document inside an SNS delivery, which may not
// be one again.
func parseOne(data []byte) (*Finding, error) {
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("%w: want the event, a JSON object, got %s", ErrNoFinding, messageKind(data))
	}
	if _, isSNS, _ := fromSNS(obj); isSNS {
		return nil, fmt.Errorf("%w: an SNS notification inside an SNS notification", ErrNoFinding)
	}
	return fromObject(obj, data)
}

func fromObject(obj map[string]any, data []byte) (*Finding, error) {
	object, shape, err := unwrap(obj)
	if err != nil {
		return nil, err
	}
	f := &Finding{Object: object, Shape: shape, Raw: append([]byte(nil), data...)}
	if shape == ShapeASFF {
		f.Incident = asffIncident(object)
	} else {
		f.Incident = guardDutyIncident(object)
	}
	if f.Type() == "" {
		return nil, fmt.Errorf("%w: the %s finding has no type", ErrNoFinding, shape)
	}
	return f, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}
