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
	if inc["instance_id"] == "" && str(dig(key, "userType")) == "AssumedRole" {
		inc["instance_id"] = sessionInstance(str(dig(key, "principalId")))
	}
	return inc
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
