package engine

import "time"

// PlaybookRef names the playbook a run used. The run's journal, its case
// (header and manifest) and a plan all carry it; SHA256 lets a resume
// refuse a playbook that changed since the run started.
type PlaybookRef struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	SHA256  string `json:"sha256,omitempty"` // of the playbook file's bytes
	Source  string `json:"source,omitempty"` // a path, or "builtin:NAME.yaml"
}

// Ref returns the reference to p that runs, cases and plans record.
func (p *Playbook) Ref() PlaybookRef {
	return PlaybookRef{Name: p.Name, Version: p.Version, SHA256: p.SHA256, Source: p.Source}
}

// RunInfo is one run as a list of runs shows it (`firebreak runs`, the
// console): whichever backend ran it, this is what it tells of the run.
type RunInfo struct {
	ID       string
	Playbook PlaybookRef
	CaseID   string
	Status   RunStatus
	// StartedAt is when the run first started (a resume keeps it).
	StartedAt time.Time
	// Duration runs from the start to the run's last recorded change.
	Duration time.Duration
	// Target is the --targets line the run was started for, and Batch the
	// batch it was one run of (the case's parent in the evidence store);
	// both empty for a run of its own. Two batches on one instance give
	// runs with one CaseID (the target's) and two batches.
	Target, Batch string
	// Evidence is where the run's case is kept (a dir or a URI), when the
	// backend knows it.
	Evidence string
	// Err is set when the run's record could not be read; the other
	// fields but ID are then empty.
	Err error
}
