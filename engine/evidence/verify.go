package evidence

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Report is what Verify found. Problems name each mismatch; an empty list
// means the case is intact. Every string in it went through Printable:
// what a case holds is written by whoever wrote the case, and must not
// reach a terminal as control characters.
type Report struct {
	// CaseID is the case id the manifest names.
	CaseID string
	// Folder is the name of the folder (or prefix) the case was read
	// from, when it is not CaseID: a case copied or renamed for hand-off.
	// It is not a problem: the manifest's case id is what counts.
	Folder string
	// Problems are the mismatches, one sentence each, naming the artifact
	// or custody line.
	Problems []string
	// Checked are the artifacts re-read and found matching.
	Checked []string
	// NotRehashable are artifacts held outside the store or without a
	// hash (snapshots), with the reason; they are not failures.
	NotRehashable []string
	// Unrecorded are regular files in the case folder that the case did
	// not record (left by a write that was interrupted, or added since):
	// not evidence of this case, not a failure, but told.
	Unrecorded []string
	// CustodyEntries is the number of custody lines read.
	CustodyEntries int
	// Signature says what was checked: "none", or the key id and whether
	// the key was given or taken from the manifest itself.
	Signature string
	// Trusted is true only when the signature was checked, and matched,
	// with a public key the operator gave (VerifyOptions.Pub). Without
	// it, an OK report proves the case is consistent, not who made it:
	// anyone can rebuild the chain, re-sign with their own key and embed
	// it, or strip the signature.
	Trusted bool
	// OtherSigner is the key id of a valid signature by another key than
	// the one given: the evidence is as that key signed it, but not
	// signed by the key the operator trusts.
	OtherSigner string

	changed int // problems that say the evidence is not as recorded
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Pub is the signer's public key the operator trusts; nil checks the
	// signature against the key embedded in the manifest only.
	Pub ed25519.PublicKey
	// OpenURI reads an artifact held outside the store (a memory image
	// in another bucket). Nil uses the store's own OpenURI when it is a
	// URIOpener; an artifact with a hash that cannot be read is a problem.
	OpenURI func(ctx context.Context, uri string) (io.ReadCloser, error)
}

// URIOpener is an optional ability of a Store: reading an object named by
// a full URI outside the store's root (s3://OTHER-BUCKET/KEY).
type URIOpener interface {
	OpenURI(ctx context.Context, uri string) (io.ReadCloser, error)
}

// OK reports whether nothing failed.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Changed reports whether a problem says the evidence is not as it was
// recorded (an artifact, the custody log or the manifest differs, is
// missing, or is not a regular file), as opposed to a problem only with
// who signed it.
func (r *Report) Changed() bool { return r.changed > 0 }

// problem records a mismatch of the evidence itself.
func (r *Report) problem(format string, args ...any) {
	r.changed++
	r.Problems = append(r.Problems, Printable(fmt.Sprintf(format, args...)))
}

// signerProblem records a problem with who signed, not with what.
func (r *Report) signerProblem(format string, args ...any) {
	r.Problems = append(r.Problems, Printable(fmt.Sprintf(format, args...)))
}

// Verify re-reads the case caseID in store: every artifact's size and
// SHA-256 (streamed), the custody chain, the manifest's custody head and
// count, that every manifest artifact is in the custody log, and the
// signature (with pub when given, else with the key embedded in the
// manifest, which proves integrity but not who signed). The error is for
// a manifest that cannot be read at all; mismatches go in the Report.
func Verify(ctx context.Context, store Store, caseID string, pub ed25519.PublicKey) (*Report, error) {
	return VerifyWith(ctx, store, caseID, VerifyOptions{Pub: pub})
}

// VerifyWith is Verify with options. folder is the name the case has in
// store (its folder or prefix); the case id the manifest names is what
// counts, so a case copied or renamed for hand-off verifies where it is
// (Report.Folder says the name it has there). Every artifact is checked
// whatever happened to the one before; only a manifest that cannot be read
// and a cancelled ctx end it early (an error).
func VerifyWith(ctx context.Context, store Store, folder string, opts VerifyOptions) (*Report, error) {
	if opts.OpenURI == nil {
		if o, ok := store.(URIOpener); ok {
			opts.OpenURI = o.OpenURI
		}
	}
	if err := CheckCaseID(folder); err != nil {
		return nil, err
	}
	m, raw, err := readManifestRaw(ctx, store, folder)
	if err != nil {
		return nil, fmt.Errorf("%w: is %q the case directory, and was the run finished?", err, folder)
	}
	rep := &Report{CaseID: Printable(m.CaseID)}
	if m.Schema != ManifestSchema {
		rep.problem("manifest schema is %q, want %q", m.Schema, ManifestSchema)
	}
	switch {
	case CheckCaseID(m.CaseID) != nil:
		rep.problem("manifest case_id %q is not a valid case id", m.CaseID)
	case m.CaseID != folder:
		rep.Folder = folder
	}
	verifySignature(rep, m, raw, opts.Pub)
	stored, err := verifyCustody(ctx, rep, store, folder, m, raw)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, a := range m.Artifacts {
		key, err := verifyArtifact(ctx, rep, store, folder, a, stored[a.ID], opts.OpenURI)
		if err != nil {
			return nil, err
		}
		known[key] = true
	}
	if err := verifyFolder(ctx, rep, store, folder, known); err != nil {
		return nil, err
	}
	return rep, nil
}

// verifyCustody checks the chain against the manifest and returns the ids
// of the artifacts the case stored itself (event artifact.stored). A log
// that cannot be read is a problem, and the artifacts are still checked.
func verifyCustody(ctx context.Context, rep *Report, store Store, folder string, m *Manifest, raw []byte) (map[string]bool, error) {
	key := folder + "/custody.jsonl"
	lines, found, err := loadCustody(ctx, store, key)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		rep.problem("%v", err)
		return nil, nil
	}
	if !found {
		rep.problem("custody log %s missing", store.URI(key))
		return nil, nil
	}
	rep.CustodyEntries = len(lines)
	for _, p := range chainProblems(lines) {
		rep.problem("%s", p)
	}
	if int64(len(lines)) != m.Custody.Entries {
		rep.problem("custody log has %d lines, manifest says %d", len(lines), m.Custody.Entries)
	}
	if head := lastHash(lines); head != m.Custody.Head {
		rep.problem("custody head %s does not match the manifest's %s: the last line was changed, or lines were added or removed", head, m.Custody.Head)
	}
	checkLost(rep, lines, m)
	manifestProblems(rep, lines, m, raw)
	return artifactProblems(rep, lines, m), nil
}

// artifactProblems holds the manifest's artifacts to the custody log's.
func artifactProblems(rep *Report, lines []parsedLine, m *Manifest) map[string]bool {
	inCustody, stored := map[string]*engine.Artifact{}, map[string]bool{}
	for _, l := range lines {
		if l.Artifact != nil {
			inCustody[l.Artifact.ID] = l.Artifact
			stored[l.Artifact.ID] = l.Entry.Event == EventArtifactStored
		}
	}
	for _, a := range m.Artifacts {
		c, ok := inCustody[a.ID]
		switch {
		case !ok:
			rep.problem("artifact %s: not in the custody log", a.ID)
		case c.SHA256 != a.SHA256 || c.URI != a.URI || c.Size != a.Size:
			rep.problem("artifact %s: manifest (sha256 %s, size %d) differs from the custody log (sha256 %s, size %d)", a.ID, orNone(a.SHA256), a.Size, orNone(c.SHA256), c.Size)
		}
		delete(inCustody, a.ID)
	}
	for _, id := range slices.Sorted(maps.Keys(inCustody)) {
		rep.problem("artifact %s: in the custody log but not in the manifest", id)
	}
	return stored
}

// checkLost reports custody events that could not be written: a chain
// with a hole in it is consistent, so only the gap lines and the
// manifest's count tell.
func checkLost(rep *Report, lines []parsedLine, m *Manifest) {
	var inLog int64
	var names []string
	for _, l := range lines {
		inLog += gapCount(l.Entry)
		names = append(names, gapNames(l.Entry)...)
	}
	if lost := max(inLog, m.Custody.Lost); lost > 0 {
		rep.problem("custody: %d event(s) could not be recorded: %s", lost, orNone(strings.Join(names, ", ")))
	}
	if inLog != m.Custody.Lost {
		rep.problem("custody: the log's gap lines count %d lost event(s), the manifest %d", inLog, m.Custody.Lost)
	}
}

func lastHash(lines []parsedLine) string {
	if len(lines) == 0 {
		return GenesisHash
	}
	return lineHash(lines[len(lines)-1].Raw)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
