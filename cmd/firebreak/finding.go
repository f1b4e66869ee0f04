package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// A finding file (run --finding, SPEC §10) comes in three shapes: a
// GuardDuty finding as EventBridge delivers it (camelCase under detail), as
// GetFindings returns it (PascalCase, alone or in a Findings list), or a
// Security Hub ASFF finding (alone or in an EventBridge event). Expressions
// see the finding itself as `finding` and the same derived fields for every
// shape as `incident`.

// maxFindingSize bounds what is read: a finding is a few KiB.
const maxFindingSize = 1 << 20

// readFinding reads a finding file and derives the incident fields.
func readFinding(path string) (finding, incident map[string]any, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--finding: %w", err)
	}
	if fi.Size() > maxFindingSize {
		return nil, nil, fmt.Errorf("--finding %q is %d bytes; a finding is at most %d", path, fi.Size(), maxFindingSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--finding: %w", err)
	}
	finding, incident, err = parseFinding(data)
	if err != nil {
		return nil, nil, fmt.Errorf("--finding %q: %w", path, err)
	}
	return finding, incident, nil
}

// parseFinding reads a finding of any of the three shapes.
func parseFinding(data []byte) (finding, incident map[string]any, err error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a JSON object: %w", err)
	}
	finding, asff, err := unwrapFinding(doc)
	if err != nil {
		return nil, nil, err
	}
	if asff {
		return finding, asffIncident(finding), nil
	}
	return finding, guardDutyIncident(finding), nil
}

// unwrapFinding removes the envelope and says whether the finding is ASFF.
func unwrapFinding(doc map[string]any) (map[string]any, bool, error) {
	if detail, ok := field(doc, "detail").(map[string]any); ok && field(doc, "detail-type") != nil {
		if list, ok := field(detail, "findings").([]any); ok {
			f, err := onlyFinding(list)
			return f, true, err
		}
		return detail, false, nil
	}
	if list, ok := field(doc, "Findings").([]any); ok {
		f, err := onlyFinding(list)
		return f, isASFF(f), err
	}
	if field(doc, "type") == nil && field(doc, "Types") == nil {
		return nil, false, fmt.Errorf("no finding found: want a GuardDuty finding (EventBridge or GetFindings) or a Security Hub ASFF finding")
	}
	return doc, isASFF(doc), nil
}

func onlyFinding(list []any) (map[string]any, error) {
	if len(list) != 1 {
		return nil, fmt.Errorf("holds %d findings; give one finding a run (or one file a target)", len(list))
	}
	f, ok := list[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the finding is not a JSON object")
	}
	return f, nil
}

func isASFF(f map[string]any) bool {
	return f != nil && field(f, "ProductArn") != nil && field(f, "Resources") != nil
}

// field returns m[key], matching the key without regard to case: GuardDuty
// findings use camelCase through EventBridge and PascalCase through the API.
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

// dig follows keys through nested objects.
func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = field(obj, k)
	}
	return cur
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), ".")
	}
	return ""
}
