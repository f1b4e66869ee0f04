package evidence

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrCaseExists is wrapped by the error OpenCase (and CheckOpen) gives for
// a case that is not the opening run's to write: it exists and another run
// started it, or its run finished it successfully, or it holds a manifest
// and no custody log. A finished case is never rewritten; only the run
// that started a case continues it (a resume).
var ErrCaseExists = errors.New("case exists")

// ErrSignerChanged is wrapped by the error OpenCase and Finish give when
// finishing would replace a signed manifest with an unsigned one, or with
// one signed by another key.
var ErrSignerChanged = errors.New("the manifest's signer would change")

// KeyIdentifier is an optional ability of a Signer: naming its key before
// it signs, so that a case signed with another key is refused at open,
// before any step runs, rather than at Finish.
type KeyIdentifier interface {
	KeyID() string
}

// CheckOpen reports whether OpenCase(store, h, signer) would be refused
// for what the case holds, without locking it or writing anything: the
// session asks before it records a run, so that a refused run leaves
// nothing behind. OpenCase checks again under the case's lock.
func CheckOpen(ctx context.Context, store Store, h Header, signer Signer) error {
	if err := CheckCaseID(h.CaseID); err != nil {
		return err
	}
	_, _, err := checkOpen(ctx, store, h, signer)
	return err
}

// checkOpen reads what the case holds and refuses what h's run may not
// do to it; it returns the custody lines (none for a new case) and the
// manifest written before (nil when none).
func checkOpen(ctx context.Context, store Store, h Header, signer Signer) ([]parsedLine, *Manifest, error) {
	lines, _, err := loadCustody(ctx, store, h.CaseID+"/custody.jsonl")
	if err != nil {
		return nil, nil, err
	}
	prior, err := priorManifest(ctx, store, h.CaseID)
	if err != nil {
		return nil, nil, err
	}
	if len(lines) == 0 {
		if prior != nil {
			return nil, nil, fmt.Errorf("case %q holds a manifest but no custody log: it is no case a run can continue; choose another --case: %w", h.CaseID, ErrCaseExists)
		}
		return nil, nil, nil
	}
	if probs := chainProblems(lines); len(probs) > 0 {
		return nil, nil, fmt.Errorf("custody log %q of case %q is broken (%s): it cannot be continued; run `firebreak verify` on the case, or start a new case", store.URI(h.CaseID+"/custody.jsonl"), h.CaseID, probs[0])
	}
	if err := ownedBy(lines, h); err != nil {
		return nil, nil, err
	}
	if err := sameSigner(h.CaseID, prior, signer); err != nil {
		return nil, nil, err
	}
	return lines, prior, nil
}

// priorManifest reads the case's manifest: nil when there is none, an
// error when one is there that cannot be read (a resume would replace it
// unseen).
func priorManifest(ctx context.Context, store Store, caseID string) (*Manifest, error) {
	m, err := readManifest(ctx, store, caseID)
	switch {
	case err == nil:
		return m, nil
	case isNotExist(err):
		return nil, nil
	}
	return nil, fmt.Errorf("case %q: %w; it cannot be continued: run `firebreak verify` on it", caseID, err)
}

// ownedBy refuses a case that h's run did not start (another run id:
// ErrCaseExists; the same run id with another playbook or inputs than
// custody recorded: engine.ErrInvalidInput), or that its run finished
// successfully.
func ownedBy(lines []parsedLine, h Header) error {
	opened, ok := openingHeader(lines)
	if !ok {
		return fmt.Errorf("case %q has a custody log that does not start with %s: it is no case a run can continue; choose another --case: %w", h.CaseID, EventCaseOpened, ErrCaseExists)
	}
	if opened.CaseID != h.CaseID {
		return fmt.Errorf("the custody log in folder %q belongs to case %q: it is no case a run can continue there; choose another --case: %w", h.CaseID, Printable(opened.CaseID), ErrCaseExists)
	}
	if opened.RunID != h.RunID {
		return fmt.Errorf("case %q exists already: run %q started it at %s; a case is never written by another run: choose another --case (or none for a new one), or continue that run with `firebreak resume %s`: %w",
			h.CaseID, opened.RunID, opened.StartedAt.UTC().Format(time.RFC3339), opened.RunID, ErrCaseExists)
	}
	if err := sameRun(opened, h); err != nil {
		return err
	}
	if st, ok := lastFinish(lines); ok && st == "succeeded" {
		return fmt.Errorf("case %q was finished by run %q, which succeeded: a finished case is never rewritten: %w", h.CaseID, h.RunID, ErrCaseExists)
	}
	return nil
}

// openingHeader is the header of the case.opened line, the log's first.
func openingHeader(lines []parsedLine) (Header, bool) {
	if len(lines) == 0 || lines[0].Err != nil || lines[0].Entry.Event != EventCaseOpened {
		return Header{}, false
	}
	return decodeHeader(lines[0].Entry)
}

// lastFinish is the status the last case.finished line recorded.
func lastFinish(lines []parsedLine) (string, bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		if e := lines[i].Entry; lines[i].Err == nil && e.Event == EventCaseFinished {
			s, _ := e.Detail["status"].(string)
			return s, true
		}
	}
	return "", false
}

// sameSigner refuses to continue a case whose manifest is signed unless
// signer is known to hold the same key; a signer that cannot say its key
// is checked at Finish.
func sameSigner(caseID string, prior *Manifest, signer Signer) error {
	if prior == nil || prior.Signature == nil {
		return nil
	}
	want := prior.Signature.KeyID
	if signer == nil {
		return fmt.Errorf("case %q has a manifest signed by key %s: continuing it unsigned would replace that signature; give the signing key of that run: %w", caseID, Printable(want), ErrSignerChanged)
	}
	if k, ok := signer.(KeyIdentifier); ok && k.KeyID() != want {
		return fmt.Errorf("case %q has a manifest signed by key %s, not by the key given (%s): continuing it would replace that signature; give the signing key of that run: %w", caseID, Printable(want), k.KeyID(), ErrSignerChanged)
	}
	return nil
}

// keepsSigner is Finish's check before it stores m: the manifest there now,
// if signed, must be replaced only by one signed with the same key.
func keepsSigner(ctx context.Context, store Store, caseID string, m *Manifest) error {
	prior, err := priorManifest(ctx, store, caseID)
	if err != nil || prior == nil || prior.Signature == nil {
		return err
	}
	if m.Signature == nil || m.Signature.KeyID != prior.Signature.KeyID {
		by := "unsigned"
		if m.Signature != nil {
			by = "signed by key " + m.Signature.KeyID
		}
		return fmt.Errorf("case %q has a manifest signed by key %s; the new one would be %s, so it was not stored: %w", caseID, Printable(prior.Signature.KeyID), by, ErrSignerChanged)
	}
	return nil
}

// keepsSignerKey is Finish's check before it writes anything: when the
// manifest there is signed, the case's signer must sign with that key. A
// signer that cannot name its key (KeyIdentifier) signs a probe to tell.
func (c *Case) keepsSignerKey(ctx context.Context) error {
	prior, err := priorManifest(ctx, c.store, c.hdr.CaseID)
	if err != nil || prior == nil || prior.Signature == nil {
		return err
	}
	if c.signer == nil {
		return sameSigner(c.hdr.CaseID, prior, nil)
	}
	id := ""
	if k, ok := c.signer.(KeyIdentifier); ok {
		id = k.KeyID()
	} else {
		sig, err := c.sign(ctx, []byte("firebreak: which key signs this case"))
		if err != nil {
			return fmt.Errorf("signing for case %q: %w", c.hdr.CaseID, err)
		}
		id = sig.KeyID
	}
	return sameSigner(c.hdr.CaseID, prior, keyNamed(id))
}

// keyNamed is a Signer that only names its key, for sameSigner.
type keyNamed string

func (k keyNamed) KeyID() string { return string(k) }
func (k keyNamed) Sign([]byte) (Signature, error) {
	return Signature{}, errors.New("keyNamed does not sign")
}
