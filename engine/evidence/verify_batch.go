package evidence

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// BatchReport is what VerifyBatch found: the batch record's own checks
// and one Report per case. Every string went through Printable.
type BatchReport struct {
	// BatchID is the id the record names; "" when there is no record.
	BatchID string
	// Folder is the name the batch was read under when it is not BatchID.
	Folder string
	// Record is the batch record's own check: its Problems (signature,
	// cases missing or not listed) and Signature, Trusted, OtherSigner.
	Record Report
	// HasRecord is false for a batch written before batch records (its
	// cases are found by listing the folder, which cannot tell a case
	// that is gone).
	HasRecord bool
	// Cases are the cases checked, in the record's order (else by folder).
	Cases []BatchCaseReport
}

// BatchCaseReport is one case of a batch.
type BatchCaseReport struct {
	Folder string // the case's folder under the batch
	Target string // the target it was run for ("" without a record)
	// Report is Verify's; nil when the case could not be verified, and
	// then Err says why (its manifest or folder is gone, ...).
	Report *Report
	Err    string
}

// OK reports whether the record and every case are intact.
func (b *BatchReport) OK() bool {
	if !b.Record.OK() {
		return false
	}
	for _, c := range b.Cases {
		if c.Report == nil || !c.Report.OK() {
			return false
		}
	}
	return true
}

// Failed counts the cases that did not verify.
func (b *BatchReport) Failed() int {
	n := 0
	for _, c := range b.Cases {
		if c.Report == nil || !c.Report.OK() {
			n++
		}
	}
	return n
}

// IsBatch reports whether store (a location) holds a batch record, or,
// without one, is a folder of case folders rather than a case itself.
func IsBatch(ctx context.Context, store Store) bool {
	if _, err := store.Stat(ctx, BatchKey); err == nil {
		return true
	}
	if _, err := store.Stat(ctx, "manifest.json"); err == nil {
		return false
	}
	entries, err := listAll(ctx, store)
	return err == nil && len(caseFolders(entries)) > 0
}

// VerifyBatch verifies every case of the batch whose location store is
// (folder: the name it has there). With a batch record, each case it
// lists must be there with its manifest: a case whose folder or manifest
// is gone, or a folder holding a custody log and no manifest, is a
// failure named for it, as is a case folder the record does not list.
// Without a record (a batch written before them) the case folders found
// are checked, and a folder with a custody log and no manifest fails.
func VerifyBatch(ctx context.Context, store Store, folder string, opts VerifyOptions) (*BatchReport, error) {
	b, raw, err := ReadBatch(ctx, store)
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	entries, lerr := listAll(ctx, store)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep := &BatchReport{HasRecord: b != nil}
	found := caseFolders(entries)
	var listed []BatchCase
	if b != nil {
		listed = checkRecord(rep, b, raw, folder, opts)
	} else if lerr != nil || len(found) == 0 {
		return nil, fmt.Errorf("%s holds no batch record (%s) and no case folder: give a case folder, or a batch folder `run --targets` wrote", Printable(store.URI("")), BatchKey)
	}
	if b == nil {
		for _, f := range slices.Sorted(maps.Keys(found)) {
			listed = append(listed, BatchCase{CaseID: f})
		}
	}
	for _, c := range listed {
		cr, err := verifyBatchCase(ctx, store, c, found[c.CaseID], opts)
		if err != nil {
			return nil, err
		}
		rep.Cases = append(rep.Cases, cr)
		delete(found, c.CaseID)
	}
	for _, f := range slices.Sorted(maps.Keys(found)) {
		rep.Record.problem("folder %s holds a case the batch record does not list", f)
	}
	if _, lister := store.(Lister); lister && lerr != nil && b != nil {
		rep.Record.problem("batch folder: cannot list it: %v", lerr)
	}
	return rep, nil
}

// checkRecord checks the record's schema, signature and ids, and returns
// the cases it lists.
func checkRecord(rep *BatchReport, b *Batch, raw []byte, folder string, opts VerifyOptions) []BatchCase {
	rec := &rep.Record
	rep.BatchID = Printable(b.BatchID)
	if b.Schema != BatchSchema {
		rec.problem("batch record schema is %q, want %q", b.Schema, BatchSchema)
	}
	if folder != "" && b.BatchID != folder {
		rep.Folder = Printable(folder)
	}
	checkSignature(rec, "batch record", b.Signature, raw, opts.Pub)
	var out []BatchCase
	seen := map[string]bool{}
	for _, c := range b.Cases {
		switch {
		case CheckCaseID(c.CaseID) != nil:
			rec.problem("batch record lists case %q, which is not a valid case id", c.CaseID)
		case seen[c.CaseID]:
			rec.problem("batch record lists case %q twice", c.CaseID)
		default:
			seen[c.CaseID] = true
			out = append(out, c)
		}
	}
	return out
}

// caseFiles is what a folder holds of a case.
type caseFiles struct{ manifest, custody bool }

// verifyBatchCase verifies one case of a batch, or says why it cannot.
func verifyBatchCase(ctx context.Context, store Store, c BatchCase, files caseFiles, opts VerifyOptions) (BatchCaseReport, error) {
	cr := BatchCaseReport{Folder: c.CaseID, Target: Printable(c.Target)}
	if _, err := store.Stat(ctx, c.CaseID+"/manifest.json"); err == nil {
		files.manifest = true
	}
	if !files.custody {
		if _, err := store.Stat(ctx, c.CaseID+"/custody.jsonl"); err == nil {
			files.custody = true
		} else if _, err := store.Stat(ctx, SegmentKey(c.CaseID+"/custody.jsonl", 1)); err == nil {
			files.custody = true
		}
	}
	switch {
	case !files.manifest && files.custody:
		cr.Err = "it has a custody log but no manifest: its run did not finish, or its manifest was removed"
		return cr, nil
	case !files.manifest:
		cr.Err = "it is missing: no manifest and no custody log in its folder (the folder is gone, or was emptied)"
		return cr, nil
	}
	rep, err := VerifyWith(ctx, store, c.CaseID, opts)
	if ctx.Err() != nil {
		return cr, ctx.Err()
	}
	if err != nil {
		cr.Err = Printable(err.Error())
		return cr, nil
	}
	cr.Report = rep
	return cr, nil
}

// listAll lists the whole location when the store can.
func listAll(ctx context.Context, store Store) ([]Listed, error) {
	l, ok := store.(Lister)
	if !ok {
		return nil, fmt.Errorf("%T cannot list its objects", store)
	}
	return l.List(ctx, "")
}

// caseFolders are the top-level folders holding a manifest or a custody
// log, with what each holds.
func caseFolders(entries []Listed) map[string]caseFiles {
	out := map[string]caseFiles{}
	for _, e := range entries {
		dir, rest, ok := strings.Cut(e.Key, "/")
		if !ok || CheckCaseID(dir) != nil {
			continue
		}
		f := out[dir]
		switch {
		case rest == "manifest.json":
			f.manifest = true
		case rest == "custody.jsonl" || strings.HasPrefix(rest, "custody.d/"):
			f.custody = true
		default:
			continue
		}
		out[dir] = f
	}
	return out
}
