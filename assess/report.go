package assess

import "fmt"

// ReportSchema names the version of the JSON form of a Report.
const ReportSchema = "firebreak/assess/v1"

// Report is the outcome of a Run, and the `--format json` document:
//
//	{
//	  "schema":  "firebreak/assess/v1",
//	  "regions": ["eu-west-1", "us-east-1"],         // regions assessed
//	  "summary": {"pass": 12, "fail": 3, "error": 1, "high_failed": 1, "high_errored": 1},
//	  "checks":  [{"id": "s3.bucket.versioning", "title": "...", "family": "s3",
//	               "severity": "medium", "scope": "regional", "description": "..."}],
//	  "results": [{"check_id": "s3.bucket.versioning", "title": "...", "family": "s3",
//	               "severity": "medium", "resource": "arn:aws:s3:::logs", "region": "us-east-1",
//	               "status": "fail", "reason": "versioning is not enabled (status \"\")",
//	               "remediation": "aws s3api put-bucket-versioning ..."}]
//	}
//
// Fields are only ever added. results are sorted by check_id, region,
// resource; checks by id. status is pass, fail or error; error means the
// check could not decide (reason says why) and never counts as a pass.
// remediation is omitted when empty. region is "global" for account-wide
// resources.
type Report struct {
	Schema  string      `json:"schema"`
	Regions []string    `json:"regions"`
	Summary Summary     `json:"summary"`
	Checks  []CheckInfo `json:"checks"`
	Results []Result    `json:"results"`
}

// Summary counts results by status; HighFailed counts failed results of
// high-severity checks and HighErrored those that could not run (access
// denied, an API the endpoint lacks): each one makes the exit status 1.
type Summary struct {
	Pass        int `json:"pass"`
	Fail        int `json:"fail"`
	Error       int `json:"error"`
	HighFailed  int `json:"high_failed"`
	HighErrored int `json:"high_errored"`
}

// CheckInfo describes a check that ran.
type CheckInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Family      string   `json:"family"`
	Severity    Severity `json:"severity"`
	Scope       string   `json:"scope"` // "global" or "regional"
	Description string   `json:"description"`
}

func newReport(checks []*Check, regions []string, results []Result) *Report {
	sortResults(results)
	rep := &Report{Schema: ReportSchema, Regions: append([]string{}, regions...), Results: results}
	if rep.Results == nil {
		rep.Results = []Result{}
	}
	for _, c := range checks {
		scope := "global"
		if c.Scope == Regional {
			scope = "regional"
		}
		rep.Checks = append(rep.Checks, CheckInfo{ID: c.ID, Title: c.Title, Family: c.Family, Severity: c.Severity, Scope: scope, Description: c.Description})
	}
	for _, r := range results {
		switch r.Status {
		case Pass:
			rep.Summary.Pass++
		case Fail:
			rep.Summary.Fail++
			if r.Severity == High {
				rep.Summary.HighFailed++
			}
		default:
			rep.Summary.Error++
			if r.Severity == High {
				rep.Summary.HighErrored++
			}
		}
	}
	return rep
}

// ExitCode is 1 when a high-severity check failed or could not run, else
// 0: a principal that may read nothing must not look like a ready account.
func (r *Report) ExitCode() int {
	if r.Summary.HighFailed > 0 || r.Summary.HighErrored > 0 {
		return 1
	}
	return 0
}

// Err says why ExitCode is not 0, or is nil when it is.
func (r *Report) Err() error {
	if r.ExitCode() == ExitOK {
		return nil
	}
	return fmt.Errorf("%d high-severity check result(s) failed, %d could not run", r.Summary.HighFailed, r.Summary.HighErrored)
}
