package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// Header is what a case knows when it opens.
type Header struct {
	CaseID    string             `json:"case_id"`
	RunID     string             `json:"run_id"`
	Playbook  engine.PlaybookRef `json:"playbook"`
	Tool      ToolRef            `json:"tool"`
	Operator  Operator           `json:"operator"`
	Inputs    map[string]any     `json:"inputs"`
	StartedAt time.Time          `json:"started_at"`
}

// ToolRef identifies the firebreak build.
type ToolRef struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Operator is the identity the run acted as (sts:GetCallerIdentity).
type Operator struct {
	ARN     string `json:"arn,omitempty"`
	Account string `json:"account,omitempty"`
	UserID  string `json:"user_id,omitempty"`
}

// actor names the operator in custody lines: the ARN, or for a run that
// touched no AWS account, the local user id.
func (o Operator) actor() string {
	if o.ARN != "" {
		return o.ARN
	}
	return o.UserID
}

// Case is one case's evidence: custody log, artifacts, step records. It
// implements engine.Recorder and is safe for concurrent use by parallel
// steps; custody lines are written one at a time, in seq order.
type Case struct {
	store  Store
	signer Signer
	hdr    Header
	now    func() time.Time

	mu        sync.Mutex // guards everything below, and the custody append
	seq       int64
	head      string
	artifacts []engine.Artifact
	used      map[string]bool // artifact ids taken, reserved before upload
	steps     map[string]engine.StepRecord
	order     []string // step ids, first seen first
	lost      int64    // custody events that could not be written, ever
	pending   int64    // of those, not yet told by a custody.gap line
	lostNames []string // names of the pending ones, the first maxLostNames
	unlock    func() error
	closed    bool
}

var _ engine.Recorder = (*Case)(nil)

func (c *Case) key(rel string) string { return c.hdr.CaseID + "/" + rel }

// OpenCase opens the case h.CaseID in store: a new one gets a custody log
// starting with "case.opened"; an existing one (a resumed run) is read
// back from its custody log, the source of truth, which must be an
// unbroken chain. signer may be nil: the manifest is then unsigned.
//
// When store is a Locker the case is locked first, so a second run on the
// same case is refused (an error wrapping ErrCaseBusy) instead of forking
// the chain; Close or Finish releases the lock.
func OpenCase(ctx context.Context, store Store, h Header, signer Signer) (*Case, error) {
	if err := CheckCaseID(h.CaseID); err != nil {
		return nil, err
	}
	c := &Case{store: store, signer: signer, hdr: h, now: time.Now, head: GenesisHash,
		used: map[string]bool{}, steps: map[string]engine.StepRecord{}}
	if c.hdr.StartedAt.IsZero() {
		c.hdr.StartedAt = c.now().UTC()
	}
	if l, ok := store.(Locker); ok {
		unlock, err := l.Lock(ctx, h.CaseID)
		if err != nil {
			return nil, err
		}
		c.unlock = unlock
	}
	if err := c.open(ctx); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// open starts the custody log, or continues the one there when it is
// this run's own (checkOpen).
func (c *Case) open(ctx context.Context) error {
	lines, prior, err := checkOpen(ctx, c.store, c.hdr, c.signer)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return c.Event(ctx, EventCaseOpened, "", map[string]any{"header": c.hdr})
	}
	if err := c.resume(lines, prior); err != nil {
		return err
	}
	// The whole header again: who resumed, with what, so that Verify can
	// hold the manifest to what custody recorded (manifestProblems).
	return c.Event(ctx, EventCaseResumed, "", map[string]any{"run_id": c.hdr.RunID, "header": c.hdr})
}

// Close releases the case's lock; later custody events are refused. It
// is idempotent, and Finish calls it.
func (c *Case) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.unlock == nil {
		return nil
	}
	unlock := c.unlock
	c.unlock = nil
	if err := unlock(); err != nil {
		return fmt.Errorf("unlocking case %q: %w", c.hdr.CaseID, err)
	}
	return nil
}

// resume rebuilds seq, head and artifacts from an existing custody log,
// and the step records from an earlier manifest when there is one.
func (c *Case) resume(lines []parsedLine, prior *Manifest) error {
	for _, l := range lines {
		c.seq, c.head = l.Entry.Seq, lineHash(l.Raw)
		if l.Entry.Event == EventCaseOpened {
			c.restoreStart(l.Entry)
		}
		c.lost += gapCount(l.Entry)
		if l.Artifact != nil && !c.used[l.Artifact.ID] {
			c.used[l.Artifact.ID] = true
			c.artifacts = append(c.artifacts, *l.Artifact)
		}
	}
	if prior != nil {
		for _, s := range prior.Steps {
			c.SetStep(s)
		}
	}
	return nil
}

// sameRun refuses to continue a case for anything but the run that opened
// it, as its custody log recorded that run (opened): the same playbook and
// inputs (ownedBy has compared the run id). The run's own journal is what
// a resume reads its inputs from, and it lives outside the case, in the
// state dir: a journal edited since (another instance id, terminate: true)
// must not make a resumed run act on something the case does not say. The
// error wraps engine.ErrInvalidInput.
func sameRun(opened, h Header) error {
	var diff []string
	if opened.Playbook.SHA256 != h.Playbook.SHA256 {
		diff = append(diff, fmt.Sprintf("playbook sha256 %.12s..., not %.12s...", Printable(opened.Playbook.SHA256), Printable(h.Playbook.SHA256)))
	}
	if names := changedInputs(opened.Inputs, h.Inputs); len(names) > 0 {
		diff = append(diff, fmt.Sprintf("other values of input(s) %q", names))
	}
	if len(diff) == 0 {
		return nil
	}
	return fmt.Errorf("case %q was opened by %s than this run brings (its custody log is the record; was the run's journal edited?): refusing to continue it: %w",
		h.CaseID, strings.Join(diff, ", "), engine.ErrInvalidInput)
}

// changedInputs names the inputs whose values differ between a and b, as
// JSON sees them (a journal's numbers come back as float64).
func changedInputs(a, b map[string]any) []string {
	norm := func(m map[string]any) map[string]any {
		out := map[string]any{}
		raw, _ := json.Marshal(m)
		_ = json.Unmarshal(raw, &out)
		return out
	}
	na, nb := norm(a), norm(b)
	var names []string
	for _, k := range engine.SortedKeys(unionKeys(na, nb)) {
		if !reflect.DeepEqual(na[k], nb[k]) {
			names = append(names, k)
		}
	}
	return names
}

func unionKeys(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// restoreStart keeps the case's original start time across resumes.
func (c *Case) restoreStart(e Entry) {
	if h, ok := decodeHeader(e); ok && !h.StartedAt.IsZero() {
		c.hdr.StartedAt = h.StartedAt
	}
}

// decodeHeader reads the header a case.opened or case.resumed line carries.
func decodeHeader(e Entry) (Header, bool) {
	v, ok := e.Detail["header"]
	if !ok {
		return Header{}, false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return Header{}, false
	}
	var h Header
	if json.Unmarshal(raw, &h) != nil {
		return Header{}, false
	}
	return h, true
}

// ID returns the case id.
func (c *Case) ID() string { return c.hdr.CaseID }

// Event appends a custody event. step may be empty for case-wide events.
func (c *Case) Event(ctx context.Context, event, step string, detail map[string]any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.appendLocked(ctx, Entry{Event: event, Step: step, Detail: detail})
}

// appendLocked writes e as the next custody line. c.mu must be held.
// An event that cannot be written is counted as lost; the next line that
// can be written is preceded by a custody.gap line naming what was lost,
// because the chain alone cannot show a line that never existed.
func (c *Case) appendLocked(ctx context.Context, e Entry) error {
	if c.closed {
		return fmt.Errorf("custody event %q: case %q is closed", e.Event, c.hdr.CaseID)
	}
	if c.pending > 0 {
		gap := Entry{Event: EventCustodyGap, Detail: map[string]any{"lost": c.pending, "events": c.lostNames}}
		if err := c.writeLocked(ctx, gap); err != nil {
			c.lose(e.Event)
			return err
		}
		c.pending, c.lostNames = 0, nil
	}
	if err := c.writeLocked(ctx, e); err != nil {
		c.lose(e.Event)
		return err
	}
	return nil
}

// maxLostNames bounds the names a gap line carries: a store that is down
// for a long run must not grow memory without end.
const maxLostNames = 100

func (c *Case) lose(event string) {
	c.lost++
	c.pending++
	if len(c.lostNames) < maxLostNames {
		c.lostNames = append(c.lostNames, event)
	}
}

// MaxCustodyLine bounds a custody line as written: a detail that would
// make it longer is replaced by a marker with its size and SHA-256. The
// reader (verify, resume) takes lines of up to 64 MiB.
const MaxCustodyLine = 4 << 20

// writeLocked writes e as the next custody line; the in-memory chain
// moves on only once the store has the line.
func (c *Case) writeLocked(ctx context.Context, e Entry) error {
	e.Seq, e.Prev, e.Time, e.Actor = c.seq+1, c.head, c.now().UTC(), c.hdr.Operator.actor()
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("custody event %q of step %q: detail is not JSON-encodable: %w", e.Event, e.Step, err)
	}
	if len(line) > MaxCustodyLine {
		// verify reads lines of up to 64 MiB; far less is ever needed. The
		// event stays, its detail replaced by what it was.
		d, _ := json.Marshal(e.Detail)
		sum := sha256.Sum256(d)
		e.Detail = map[string]any{"truncated": true, "detail_bytes": len(d), "detail_sha256": hex.EncodeToString(sum[:])}
		if line, err = json.Marshal(e); err != nil {
			return fmt.Errorf("custody event %q: %w", e.Event, err)
		}
	}
	if err := c.store.Append(ctx, c.key("custody.jsonl"), line); err != nil {
		return fmt.Errorf("writing custody event %q: %w", e.Event, err)
	}
	c.seq, c.head = e.Seq, lineHash(line)
	return nil
}

// SetStep records the latest state of a step for the manifest; steps keep
// the order in which they were first seen.
func (c *Case) SetStep(r engine.StepRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.steps[r.ID]; !ok {
		c.order = append(c.order, r.ID)
	}
	c.steps[r.ID] = r
}

// Artifacts returns a copy of the artifacts recorded so far, in custody order.
func (c *Case) Artifacts() []engine.Artifact {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]engine.Artifact(nil), c.artifacts...)
}
