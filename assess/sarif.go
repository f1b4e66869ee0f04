package assess

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// SARIF 2.1.0, the parts firebreak writes: one rule per check that ran, one
// result per fail (kind "fail", level by severity) or error (kind "open":
// the tool could not decide, so level "none"). Passes are left out, as
// code scanners expect. A resource is a logical location ("resource") and a
// physical one, an artifactLocation whose uri is its ARN (a resource with no
// ARN, e.g. the account's root user, is aws:REGION/NAME), because GitHub
// code scanning refuses a result without a physicalLocation. Each result
// has partialFingerprints (check, region, resource), so an upload of the
// next assessment tracks the same failure as the same alert.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

// fingerprintKey names firebreak's partial fingerprint (versioned, as
// SARIF asks).
const fingerprintKey = "firebreakResource/v1"

// resourceURI is the uri of a resource's artifactLocation: its ARN, or
// aws:REGION/NAME for one without, escaped to a valid URI reference.
func resourceURI(r Result) string {
	u := r.Resource
	if !strings.HasPrefix(u, "arn:") {
		u = "aws:" + r.Region + "/" + u
	}
	return escapeURI(u)
}

// escapeURI percent-encodes what a URI may not hold (spaces, quotes,
// non-ASCII), keeping the reserved characters an ARN is made of.
func escapeURI(s string) string {
	const keep = "-._~:/?#[]@!$&'()*+,;="
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// fingerprint identifies a result across assessments: the check, the
// region and the resource, not the reason (whose wording may change).
func fingerprint(r Result) string {
	sum := sha256.Sum256([]byte(r.CheckID + "\x00" + r.Region + "\x00" + r.Resource))
	return hex.EncodeToString(sum[:16])
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// severityLevel maps a severity to the SARIF level of its failures.
func severityLevel(s Severity) string {
	switch s {
	case High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the score code scanning ranks results by.
func securitySeverity(s Severity) string {
	switch s {
	case High:
		return "8.0"
	case Medium:
		return "5.0"
	}
	return "2.0"
}

func toSARIF(rep *Report, version string) sarifLog {
	if version == "" {
		version = "dev"
	}
	drv := sarifDriver{Name: "firebreak", Version: version, InformationURI: "https://github.com/firebreak-ir/firebreak", Rules: []sarifRule{}}
	index := map[string]int{}
	for i, c := range rep.Checks {
		index[c.ID] = i
		drv.Rules = append(drv.Rules, sarifRule{
			ID: c.ID, Name: c.Title,
			ShortDescription:     sarifText{Text: c.Title},
			FullDescription:      sarifText{Text: c.Description},
			DefaultConfiguration: sarifConfig{Level: severityLevel(c.Severity)},
			Properties:           map[string]any{"tags": []string{"security", c.Family}, "security-severity": securitySeverity(c.Severity), "scope": c.Scope},
		})
	}
	results := []sarifResult{}
	for _, r := range rep.Results {
		if r.Status == Pass {
			continue
		}
		i, ok := index[r.CheckID]
		if !ok {
			i = -1 // SARIF's "no rule index"
		}
		res := sarifResult{RuleID: r.CheckID, RuleIndex: i, Kind: "fail", Level: severityLevel(r.Severity),
			Message: sarifText{Text: fmt.Sprintf("%s: %s", r.Resource, r.Reason)},
			Locations: []sarifLocation{{
				PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: resourceURI(r)}},
				LogicalLocations: []sarifLogical{{Name: r.Resource, FullyQualifiedName: r.Region + "/" + r.Resource, Kind: "resource"}}}},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(r)},
			Properties: map[string]any{"status": string(r.Status), "severity": string(r.Severity), "region": r.Region,
				"resource": r.Resource, "remediation": r.Remediation},
		}
		if r.Status == Error {
			res.Kind, res.Level = "open", "none"
		}
		results = append(results, res)
	}
	return sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{Tool: sarifTool{Driver: drv}, Results: results}}}
}
