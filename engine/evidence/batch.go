package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// BatchSchema is the batch record format this package writes and checks.
const BatchSchema = "firebreak/batch/v1"

// BatchKey is the batch record's key in the batch's store (the location
// its cases lie under).
const BatchKey = "batch.json"

// Batch is a --targets batch's record, BATCH/batch.json: every case the
// batch started, written once before the first of them starts, so that a
// case whose folder or manifest is later gone is missed by nobody.
//
// Decision: it is signed with the batch's signing key, as manifests are,
// and it does not pin the cases' manifests by hash. The signature is
// what makes the list worth checking: anyone who can delete a case folder
// can delete its line from an unsigned record. The manifests cannot be
// pinned because the record is written before they exist, and a resume
// of an interrupted target rewrites its own; each case's manifest is
// proven by its own custody log and signature.
type Batch struct {
	Schema    string             `json:"schema"`
	BatchID   string             `json:"batch_id"`
	Playbook  engine.PlaybookRef `json:"playbook"`
	Tool      ToolRef            `json:"tool"`
	Operator  Operator           `json:"operator"`
	StartedAt time.Time          `json:"started_at"`
	Cases     []BatchCase        `json:"cases"`
	Signature *Signature         `json:"signature,omitempty"`
}

// BatchCase is one target's case in a batch.
type BatchCase struct {
	CaseID string `json:"case_id"`
	Target string `json:"target"`
	RunID  string `json:"run_id"`
}

// WriteBatch stores b (signed when signer is not nil) as BatchKey in
// store, the batch's location. It refuses a batch that has a record
// already (ErrCaseExists): a batch, like a case, is never rewritten.
func WriteBatch(ctx context.Context, store Store, b *Batch, signer Signer) error {
	if err := CheckCaseID(b.BatchID); err != nil {
		return err
	}
	for _, c := range b.Cases {
		if err := CheckCaseID(c.CaseID); err != nil {
			return err
		}
	}
	if _, err := store.Stat(ctx, BatchKey); err == nil || !isNotExist(err) {
		if err == nil {
			return fmt.Errorf("batch %q has a record already (%s): a batch is never rewritten; choose another --case: %w", b.BatchID, store.URI(BatchKey), ErrCaseExists)
		}
		return fmt.Errorf("checking %s: %w", store.URI(BatchKey), err)
	}
	b.Schema, b.Signature = BatchSchema, nil
	if signer != nil {
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		msg, err := canonicalize(raw)
		if err != nil {
			return err
		}
		sig, err := signWith(ctx, signer, msg)
		if err != nil {
			return fmt.Errorf("signing the record of batch %q: %w", b.BatchID, err)
		}
		b.Signature = &sig
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if _, err := store.Put(ctx, BatchKey, bytes.NewReader(append(data, '\n'))); err != nil {
		return fmt.Errorf("storing %s: %w", store.URI(BatchKey), err)
	}
	return nil
}

// ReadBatch reads the batch record in store; an error wrapping
// fs.ErrNotExist when there is none.
func ReadBatch(ctx context.Context, store Store) (*Batch, []byte, error) {
	rc, err := store.Open(ctx, BatchKey)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", store.URI(BatchKey), err)
	}
	var b Batch
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, nil, fmt.Errorf("batch record %s is not valid JSON: %w", store.URI(BatchKey), err)
	}
	return &b, raw, nil
}

func signWith(ctx context.Context, s Signer, msg []byte) (Signature, error) {
	if cs, ok := s.(ContextSigner); ok {
		return cs.SignContext(ctx, msg)
	}
	return s.Sign(msg)
}
