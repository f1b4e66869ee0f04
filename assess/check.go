// Package assess runs read-only readiness checks against an AWS account, the
// way ThreatPrep did, with verdicts that mean what they say: a bucket with
// versioning on passes, one with it off fails, and a check that could not
// look (access denied, an API the endpoint lacks) is an error, never a pass.
//
// `firebreak assess` exits 1 when a high-severity check fails or errors (it
// could not run, e.g. access denied), so a principal that may read nothing
// never passes; the summary says how many high checks could not run.
//
// Checks live in a Registry the caller builds (Register adds the built-in
// ones, one file per family); Assess runs a selection across regions,
// bounded; Report renders as a table, JSON or SARIF 2.1.0.
package assess

import (
	"context"
	"fmt"
	"sort"
)

// Status is a result's verdict.
type Status string

// The three verdicts. Error means the check could not decide: it is never
// counted as a pass.
const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Error Status = "error"
)

// Severity ranks how much a failed check matters. A high check that fails or
// errors makes `firebreak assess` exit 1.
type Severity string

// The severities, lowest first.
const (
	Low    Severity = "low"
	Medium Severity = "medium"
	High   Severity = "high"
)

// Scope says how often a check runs: once for the account, or once in each
// selected region.
type Scope int

// Scopes.
const (
	Global Scope = iota
	Regional
)

// Check is one readiness check. Run is called once (Global) or once a region
// (Regional), possibly concurrently with other checks and regions: it must
// only read AWS and keep no state outside the Env it is given.
type Check struct {
	ID          string // stable, dotted: "s3.bucket.versioning"
	Family      string // "s3", "iam", ...: the table groups by it
	Title       string
	Severity    Severity
	Scope       Scope
	Description string // what is checked and why, for --format sarif rules
	Run         func(ctx context.Context, env *Env, region string) []Result
}

// Registry holds the checks a run may select. It is not safe for concurrent
// Register calls; build it once, then read it from anywhere.
type Registry struct {
	checks map[string]*Check
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{checks: map[string]*Check{}} }

// Register adds c. It panics on an empty id, a missing Run or a duplicate id:
// all are programming errors found at start-up, as database/sql does.
func (r *Registry) Register(c Check) {
	if c.ID == "" || c.Run == nil {
		panic(fmt.Sprintf("assess: Register of check %q without an id or a Run", c.ID))
	}
	if _, dup := r.checks[c.ID]; dup {
		panic(fmt.Sprintf("assess: Register called twice for check %q", c.ID))
	}
	r.checks[c.ID] = &c
}

// Lookup returns the check called id.
func (r *Registry) Lookup(id string) (*Check, bool) {
	c, ok := r.checks[id]
	return c, ok
}

// IDs returns every registered id, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.checks))
	for id := range r.checks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Register adds every built-in check to r, one family a line, so a new
// family is one file and one line here.
func Register(r *Registry) {
	registerS3(r)
	registerIAM(r)
	registerIAMKeys(r)
	registerVPC(r)
	registerCloudTrail(r)
	registerGuardDuty(r)
	registerEBS(r)
	registerReadiness(r)
}
