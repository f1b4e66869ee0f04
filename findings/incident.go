package findings

import (
	"regexp"
	"strings"
)

// instanceIDPattern is an EC2 instance id, as the session name of an
// instance role's credentials carries it.
var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

func newIncident() map[string]any {
	inc := make(map[string]any, len(IncidentKeys))
	for _, k := range IncidentKeys {
		inc[k] = ""
	}
	return inc
}

// guardDutyIncident derives the incident from a GuardDuty finding, in
// either case convention.
func guardDutyIncident(f map[string]any) map[string]any {
	inc := newIncident()
	inc["type"] = str(field(f, "type"))
	inc["region"] = str(field(f, "region"))
	inc["account"] = str(field(f, "accountId"))
	inc["finding_id"] = str(field(f, "id"))
	if sev, ok := field(f, "severity").(float64); ok {
		inc["severity"] = severityLabel(sev, 10)
	}
	key := dig(f, "resource", "accessKeyDetails")
	inc["instance_id"] = str(dig(f, "resource", "instanceDetails", "instanceId"))
	inc["access_key_id"] = str(dig(key, "accessKeyId"))
	inc["principal"] = str(dig(key, "userName"))
	userType := str(dig(key, "userType"))
	if inc["instance_id"] == "" && userType == "AssumedRole" {
		inc["instance_id"] = sessionInstance(str(dig(key, "principalId")))
	}
	if userType == "AssumedRole" {
		inc["role_name"] = inc["principal"]
	}
	inc["principal_arn"] = principalARN(userType, inc["account"].(string), inc["principal"].(string))
	guardDutyResources(inc, f)
	return inc
}

// principalARN is the IAM ARN of the principal a finding names, without
// the path IAM may hold it under (GuardDuty does not give it): what a
// deny written against aws:PrincipalArn needs, with a wildcard for the
// path (see the bucket containment). "" when the kind is not one of
// these or a part is missing.
func principalARN(userType, account, name string) string {
	if account == "" {
		return ""
	}
	switch {
	case userType == "Root":
		return "arn:aws:iam::" + account + ":root"
	case name == "":
		return ""
	case userType == "IAMUser":
		return "arn:aws:iam::" + account + ":user/" + name
	case userType == "AssumedRole" || userType == "Role":
		return "arn:aws:iam::" + account + ":role/" + name
	case userType == "FederatedUser":
		return "arn:aws:sts::" + account + ":federated-user/" + name
	}
	return ""
}

// sessionInstance returns the instance id an instance role's session is
// named after ("AROA...:i-0abc" -> "i-0abc"), or "" for any other
// session: that is how a credential-exfiltration finding names its host.
func sessionInstance(principalID string) string {
	_, session, ok := strings.Cut(principalID, ":")
	if ok && instanceIDPattern.MatchString(session) {
		return session
	}
	return ""
}

// severityLabel maps a score on a scale of 0..max to the labels Security
// Hub uses, so that a playbook compares one kind of value whatever the
// source. GuardDuty's bands (max 10): 9+ critical, 7+ high, 4+ medium,
// 1+ low; Security Hub's normalized score (max 100) uses the same bands.
func severityLabel(score, max float64) string {
	s := score * 10 / max
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
