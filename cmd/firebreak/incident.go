package main

import (
	"path"
	"strings"
)

// incidentKeys are the fields every finding shape gives, empty when the
// finding does not say: expressions can always read them.
var incidentKeys = []string{"type", "severity", "region", "account", "instance_id", "access_key_id", "principal", "finding_id"}

func newIncident() map[string]any {
	inc := make(map[string]any, len(incidentKeys))
	for _, k := range incidentKeys {
		inc[k] = ""
	}
	return inc
}

// guardDutyIncident derives the incident from a GuardDuty finding, either
// case convention.
func guardDutyIncident(f map[string]any) map[string]any {
	inc := newIncident()
	inc["type"] = str(field(f, "type"))
	inc["region"] = str(field(f, "region"))
	inc["account"] = str(field(f, "accountId"))
	inc["finding_id"] = str(field(f, "id"))
	if sev, ok := field(f, "severity").(float64); ok {
		inc["severity"] = guardDutySeverity(sev)
	}
	inc["instance_id"] = str(dig(f, "resource", "instanceDetails", "instanceId"))
	inc["access_key_id"] = str(dig(f, "resource", "accessKeyDetails", "accessKeyId"))
	inc["principal"] = str(dig(f, "resource", "accessKeyDetails", "userName"))
	return inc
}

// guardDutySeverity maps GuardDuty's number to the label Security Hub
// uses, so that a playbook compares one kind of value whatever the source.
func guardDutySeverity(s float64) string {
	switch {
	case s >= 9:
		return "CRITICAL"
	case s >= 7:
		return "HIGH"
	case s >= 4:
		return "MEDIUM"
	case s >= 1:
		return "LOW"
	}
	return "INFORMATIONAL"
}

// asffIncident derives the incident from a Security Hub ASFF finding.
func asffIncident(f map[string]any) map[string]any {
	inc := newIncident()
	inc["region"] = str(field(f, "Region"))
	inc["account"] = str(field(f, "AwsAccountId"))
	inc["finding_id"] = str(field(f, "Id"))
	inc["severity"] = strings.ToUpper(str(dig(f, "Severity", "Label")))
	inc["type"] = asffType(f)
	resources, _ := field(f, "Resources").([]any)
	for _, r := range resources {
		res, ok := r.(map[string]any)
		if !ok {
			continue
		}
		id := str(field(res, "Id"))
		switch str(field(res, "Type")) {
		case "AwsEc2Instance":
			inc["instance_id"] = arnLast(id)
			if inc["region"] == "" {
				inc["region"] = str(field(res, "Region"))
			}
		case "AwsIamAccessKey":
			inc["access_key_id"] = arnLast(id)
			if p := str(dig(res, "Details", "AwsIamAccessKey", "PrincipalName")); p != "" {
				inc["principal"] = p
			} else if u := str(dig(res, "Details", "AwsIamAccessKey", "UserName")); u != "" {
				inc["principal"] = u
			}
		case "AwsIamUser", "AwsIamRole":
			if inc["principal"] == "" {
				inc["principal"] = arnLast(id)
			}
		}
	}
	return inc
}

// asffType gives a GuardDuty-sourced finding its GuardDuty type back:
// Security Hub files "Backdoor:EC2/C&CActivity.B" as
// "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B", since "/" separates
// its own namespaces. Other products keep their last type segment.
func asffType(f map[string]any) string {
	types, _ := field(f, "Types").([]any)
	if len(types) == 0 {
		return ""
	}
	t := path.Base(str(types[0]))
	if strings.HasSuffix(str(field(f, "ProductArn")), "/guardduty") {
		if colon := strings.Index(t, ":"); colon >= 0 {
			if dash := strings.Index(t[colon:], "-"); dash >= 0 {
				t = t[:colon+dash] + "/" + t[colon+dash+1:]
			}
		}
	}
	return t
}

// arnLast is the resource name at the end of an ARN ("instance/i-0abc" ->
// "i-0abc"), or the id itself when it is not an ARN.
func arnLast(id string) string {
	if i := strings.LastIndexAny(id, "/:"); i >= 0 && strings.HasPrefix(id, "arn:") {
		return id[i+1:]
	}
	return id
}
