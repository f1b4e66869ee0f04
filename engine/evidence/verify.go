package evidence

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Report is what Verify found. Problems name each mismatch; an empty list
// means the case is intact.
type Report struct {
	CaseID string
	// Problems are the mismatches, one sentence each, naming the artifact
	// or custody line.
	Problems []string
	// Checked are the artifacts re-read and found matching.
	Checked []string
	// NotRehashable are artifacts held outside the store or without a
	// hash (snapshots), with the reason; they are not failures.
	NotRehashable []string
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

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
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

// VerifyWith is Verify with options.
func VerifyWith(ctx context.Context, store Store, caseID string, opts VerifyOptions) (*Report, error) {
	if opts.OpenURI == nil {
		if o, ok := store.(URIOpener); ok {
			opts.OpenURI = o.OpenURI
		}
	}
	if err := CheckCaseID(caseID); err != nil {
		return nil, err
	}
	m, raw, err := readManifestRaw(ctx, store, caseID)
	if err != nil {
		return nil, fmt.Errorf("%w: is %q the case directory, and was the run finished?", err, caseID)
	}
	rep := &Report{CaseID: caseID}
	if m.Schema != ManifestSchema {
		rep.problem("manifest schema is %q, want %q", m.Schema, ManifestSchema)
	}
	if m.CaseID != caseID {
		rep.problem("manifest case_id is %q, but it lies in case %q", m.CaseID, caseID)
	}
	verifySignature(rep, m, raw, opts.Pub)
	stored, err := verifyCustody(ctx, rep, store, caseID, m)
	if err != nil {
		return nil, err
	}
	for _, a := range m.Artifacts {
		if err := verifyArtifact(ctx, rep, store, caseID, a, stored[a.ID], opts.OpenURI); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func verifySignature(rep *Report, m *Manifest, raw []byte, pub ed25519.PublicKey) {
	sig := m.Signature
	if sig == nil {
		rep.Signature = "none"
		if pub != nil {
			rep.problem("manifest is not signed, but a public key was given")
		}
		return
	}
	if sig.Algorithm != AlgEd25519 {
		rep.Signature = sig.Algorithm + " " + sig.KeyID
		rep.problem("signature algorithm %q cannot be checked by this verifier", sig.Algorithm)
		return
	}
	key, from := pub, "given key"
	if key == nil {
		b, err := base64.StdEncoding.DecodeString(sig.PublicKey)
		if err != nil || len(b) != ed25519.PublicKeySize {
			rep.Signature = "ed25519 " + sig.KeyID + " (embedded key unreadable)"
			rep.problem("signature: embedded public key is not a base64 ed25519 key")
			return
		}
		key, from = b, "key embedded in the manifest: proves integrity, not who signed; pass the signer's public key to prove that"
	}
	rep.Signature = "ed25519 " + Fingerprint(key) + " (" + from + ")"
	if pub != nil && sig.KeyID != Fingerprint(pub) {
		rep.problem("signature key %s is not the given key %s", sig.KeyID, Fingerprint(pub))
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	msg, cerr := canonicalize(raw)
	if err != nil || cerr != nil || !ed25519.Verify(key, msg, value) {
		rep.problem("signature does not match the manifest: it was changed after signing, or signed with another key")
		return
	}
	rep.Trusted = pub != nil && sig.KeyID == Fingerprint(pub)
}

// verifyCustody checks the chain against the manifest and returns the ids
// of the artifacts the case stored itself (event artifact.stored).
func verifyCustody(ctx context.Context, rep *Report, store Store, caseID string, m *Manifest) (map[string]bool, error) {
	lines, found, err := loadCustody(ctx, store, caseID+"/custody.jsonl")
	if err != nil {
		return nil, err
	}
	if !found {
		rep.problem("custody log %s missing", store.URI(caseID+"/custody.jsonl"))
		return nil, nil
	}
	rep.CustodyEntries = len(lines)
	rep.Problems = append(rep.Problems, chainProblems(lines)...)
	if int64(len(lines)) != m.Custody.Entries {
		rep.problem("custody log has %d lines, manifest says %d", len(lines), m.Custody.Entries)
	}
	if head := lastHash(lines); head != m.Custody.Head {
		rep.problem("custody head %s does not match the manifest's %s: the last line was changed, or lines were added or removed", head, m.Custody.Head)
	}
	checkLost(rep, lines, m)
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
	return stored, nil
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
