package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// ManifestSchema is the manifest format this package writes and verifies.
const ManifestSchema = "firebreak/manifest/v1"

// Manifest is CASE_ID/manifest.json, described by
// schemas/manifest.schema.json.
type Manifest struct {
	Schema     string              `json:"schema"`
	CaseID     string              `json:"case_id"`
	RunID      string              `json:"run_id"`
	Playbook   engine.PlaybookRef  `json:"playbook"`
	Tool       ToolRef             `json:"tool"`
	Operator   Operator            `json:"operator"`
	Inputs     map[string]any      `json:"inputs"`
	StartedAt  time.Time           `json:"started_at"`
	FinishedAt time.Time           `json:"finished_at"`
	Status     engine.RunStatus    `json:"status"`
	Steps      []engine.StepRecord `json:"steps"`
	Artifacts  []engine.Artifact   `json:"artifacts"`
	Custody    CustodySummary      `json:"custody"`
	Signature  *Signature          `json:"signature,omitempty"`
}

// CustodySummary pins the custody log: its line count and the hash of its
// last line, so a truncated or extended log shows.
// Lost counts custody events that could not be written (each told by a
// custody.gap line): the chain cannot show a line that was never there.
type CustodySummary struct {
	Entries int64  `json:"entries"`
	Head    string `json:"head"`
	Lost    int64  `json:"lost"`
}

// Finish appends "case.finished" to the custody log and writes
// CASE_ID/manifest.json, signed when the case has a signer. It may be
// called again after a resume (a new OpenCase): the manifest is
// rewritten. Once the manifest is stored the case is closed (Close).
func (c *Case) Finish(ctx context.Context, status engine.RunStatus, at time.Time) (*Manifest, error) {
	switch status {
	case engine.RunSucceeded, engine.RunFailed, engine.RunInterrupted:
	default:
		return nil, fmt.Errorf("case %q cannot finish with status %q: use succeeded, failed or interrupted", c.hdr.CaseID, status)
	}
	// Before anything is written: the case.finished line of a manifest
	// that could not be stored would end the log with a lie.
	if err := c.keepsSignerKey(ctx); err != nil {
		return nil, err
	}
	m, err := c.seal(ctx, status, at)
	if err != nil {
		return nil, err
	}
	if c.signer != nil {
		msg, err := canonicalJSON(m)
		if err != nil {
			return nil, err
		}
		sig, err := c.sign(ctx, msg)
		if err != nil {
			return nil, fmt.Errorf("signing the manifest of case %q: %w", c.hdr.CaseID, err)
		}
		m.Signature = &sig
	}
	if err := keepsSigner(ctx, c.store, c.hdr.CaseID, m); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest of case %q: %w", c.hdr.CaseID, err)
	}
	if _, err := c.store.Put(ctx, c.key("manifest.json"), bytes.NewReader(append(data, '\n'))); err != nil {
		return nil, fmt.Errorf("storing %s: %w", c.store.URI(c.key("manifest.json")), err)
	}
	return m, c.Close()
}

func (c *Case) sign(ctx context.Context, msg []byte) (Signature, error) {
	return signWith(ctx, c.signer, msg)
}

// seal builds the manifest and writes the case.finished line that binds
// it to the custody log: the status, run id and finish time, and
// manifest_sha256, the digest of everything in the manifest but its
// custody summary (which pins this very line) and its signature. An
// unsigned manifest edited afterwards then disagrees with custody, which
// the manifest's custody head pins in turn (Verify: manifestProblems).
func (c *Case) seal(ctx context.Context, status engine.RunStatus, at time.Time) (*Manifest, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.snapshotLocked(status, at)
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest of case %q: %w", c.hdr.CaseID, err)
	}
	digest, err := bodyDigest(raw)
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"status": string(status), "run_id": c.hdr.RunID,
		"finished_at": m.FinishedAt, "manifest_sha256": digest}
	if err := c.appendLocked(ctx, Entry{Event: EventCaseFinished, Detail: detail}); err != nil {
		return nil, err
	}
	m.Custody = CustodySummary{Entries: c.seq, Head: c.head, Lost: c.lost}
	return m, nil
}

// snapshotLocked builds the manifest from the case's state; c.mu is held.
func (c *Case) snapshotLocked(status engine.RunStatus, at time.Time) *Manifest {
	m := &Manifest{
		Schema: ManifestSchema, CaseID: c.hdr.CaseID, RunID: c.hdr.RunID, Playbook: c.hdr.Playbook,
		Tool: c.hdr.Tool, Operator: c.hdr.Operator, Inputs: c.hdr.Inputs, StartedAt: c.hdr.StartedAt,
		FinishedAt: at.UTC(), Status: status, Steps: []engine.StepRecord{},
		Artifacts: append([]engine.Artifact{}, c.artifacts...),
		Custody:   CustodySummary{Entries: c.seq, Head: c.head, Lost: c.lost},
	}
	if m.Inputs == nil {
		m.Inputs = map[string]any{}
	}
	for _, id := range c.order {
		m.Steps = append(m.Steps, c.steps[id])
	}
	return m
}

// canonicalJSON is the byte string a signature covers: the manifest
// without its signature, as JSON with object keys sorted and numbers kept
// as written. Re-deriving it from the file's bytes gives the same string,
// so a verifier needs no Go types to check a signature.
func canonicalJSON(m *Manifest) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	return canonicalize(raw)
}

func canonicalize(raw []byte, drop ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("manifest is not a JSON object: %w", err)
	}
	delete(obj, "signature")
	for _, k := range drop {
		delete(obj, k)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// bodyDigest is the hex SHA-256 of the manifest's canonical JSON without
// its signature and its custody summary: what case.finished records.
func bodyDigest(raw []byte) (string, error) {
	body, err := canonicalize(raw, "custody")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// readManifest reads and decodes CASE_ID/manifest.json, returning its raw
// bytes too (for the signature check).
func readManifest(ctx context.Context, store Store, caseID string) (*Manifest, error) {
	m, _, err := readManifestRaw(ctx, store, caseID)
	return m, err
}

func readManifestRaw(ctx context.Context, store Store, caseID string) (*Manifest, []byte, error) {
	key := caseID + "/manifest.json"
	rc, err := store.Open(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest %q: %w", store.URI(key), err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest %q: %w", store.URI(key), err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("manifest %q is not valid JSON: %w", store.URI(key), err)
	}
	return &m, raw, nil
}
