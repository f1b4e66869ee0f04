package findings

import (
	"fmt"
	"strings"
)

// unwrap removes the envelope around the finding and says its shape.
func unwrap(doc map[string]any) (map[string]any, string, error) {
	if detail, ok := doc["detail"].(map[string]any); ok && (doc["detail-type"] != nil || doc["source"] != nil) {
		if list, ok := detail["findings"]; ok {
			f, err := only(list, "detail.findings")
			return f, ShapeASFF, err
		}
		if !isGuardDuty(detail) {
			return nil, "", fmt.Errorf("%w: the EventBridge event's detail is neither a GuardDuty finding nor a list of Security Hub findings", ErrNoFinding)
		}
		return detail, ShapeGuardDutyEvent, nil
	}
	if list, ok := doc["Findings"]; ok {
		f, err := only(list, "Findings")
		if err != nil {
			return nil, "", err
		}
		return classify(f)
	}
	return classify(doc)
}

// classify tells an ASFF finding from a GuardDuty one by the fields only
// each has.
func classify(f map[string]any) (map[string]any, string, error) {
	switch {
	case f["ProductArn"] != nil && f["Types"] != nil:
		return f, ShapeASFF, nil
	case isGuardDuty(f) && f["Type"] != nil:
		return f, ShapeGuardDutyAPI, nil
	case isGuardDuty(f):
		return f, ShapeGuardDutyEvent, nil
	}
	return nil, "", fmt.Errorf("%w: want a GuardDuty finding (as EventBridge delivers it or GetFindings returns it) or a Security Hub ASFF finding", ErrNoFinding)
}

func isGuardDuty(f map[string]any) bool {
	return field(f, "type") != nil && field(f, "resource") != nil
}

// only returns the single finding of list: a run answers one finding.
func only(list any, where string) (map[string]any, error) {
	l, ok := list.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, want a list", ErrNoFinding, where, jsonKind(list))
	}
	if len(l) != 1 {
		return nil, fmt.Errorf("%s holds %d findings, want exactly one: a run answers one finding (save each to its own file)", where, len(l))
	}
	f, ok := l[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the finding in %s is %s, want an object", ErrNoFinding, where, jsonKind(l[0]))
	}
	return f, nil
}

// field returns m[key], or failing that the value of a key equal to it
// without regard to case: GuardDuty writes camelCase through EventBridge
// and PascalCase through its API.
func field(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// dig follows keys through nested objects; nil when a step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = field(m, k)
	}
	return v
}

// str returns v when it is a string, else "": derived fields are strings.
func str(v any) string {
	s, _ := v.(string)
	return s
}
