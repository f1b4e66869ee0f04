package engine

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Action is one kind of step a playbook can run: isolate an instance, take a
// snapshot, run a local command. Implementations register themselves in a
// Registry; the engine knows nothing of what they touch.
//
// Run must honour ctx (the step's timeout and the run's cancellation), must be
// safe to call again after a crash or a retry (mutating actions find what they
// made before by tag or name), and reports errors that are worth retrying by
// wrapping them with Retryable.
type Action interface {
	Spec() ActionSpec
	Run(ctx context.Context, in *StepInput) (Outputs, error)
}

// Planner is implemented by actions that can say, without changing anything,
// which concrete calls they would make. plan and run --dry-run use it; an
// action without it is planned from its ActionSpec alone.
type Planner interface {
	Plan(ctx context.Context, in *PlanInput) (*PlanDetail, error)
}

// ActionSpec describes an action for validation, planning, the action
// catalogue and the IAM policy generator.
type ActionSpec struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary"`
	Params  []Param  `json:"params"`
	Outputs []Output `json:"outputs"`
	// Calls are the API calls the action may make, as "service:Operation".
	Calls []string `json:"calls"`
	// Permissions are the IAM actions those calls need, and any the calls
	// do not show (iam:PassRole, KMS use on the caller's behalf). AWS
	// actions derive them from Calls (internal/awsperm.ForCalls), so the
	// two lists cannot drift apart.
	Permissions []string `json:"permissions"`
	// Grants narrow some of Permissions: `firebreak iam-policy` puts them
	// in statements of their own, on named resources, instead of on "*".
	// Not part of the catalogue's JSON.
	Grants []Grant `json:"-"`
	// Mutating is true when the action changes anything outside the
	// evidence store. plan never runs an action; --dry-run never runs a
	// mutating one.
	Mutating bool `json:"mutating"`
}

// Param declares one parameter of an action.
type Param struct {
	Name     string   `json:"name"`
	Type     Type     `json:"type"`
	Required bool     `json:"required"`
	Default  any      `json:"default"`
	Enum     []string `json:"enum"`
	Doc      string   `json:"doc"`
	// Secret params are redacted from logs, the journal and the manifest.
	Secret bool `json:"secret"`
	// SecretEnv params name an environment variable whose value is a
	// secret (a key passphrase): no command step passes that variable on.
	SecretEnv bool `json:"secret_env,omitempty"`

	fields []Param // the keys of a map declared by a struct (ParamsOf)
}

// Fields returns the declared keys of a map parameter declared by a struct
// (capture-memory's jump), nil for any other parameter.
func (p Param) Fields() []Param { return p.fields }

// Grant is an IAM fact about some of an action's permissions that a
// least-privilege policy needs: they must not be allowed on "*" (an inline
// policy write can grant anything; a role passed anywhere is an
// escalation), so they get a statement of their own.
type Grant struct {
	// Statement names the policy statement. The grants of a playbook's
	// actions with the same Statement share one, and agree on Resource and
	// Condition; its Sid is "Firebreak" + Statement, then "To" and the
	// reasons joined by "And" when there are any.
	Statement string
	// Reason says in a word why this action needs the grant, e.g.
	// "RevokeSessions"; empty when Statement says it already.
	Reason string
	// Actions are the IAM actions granted; each is in Permissions too.
	Actions []string
	// Resource is what they are allowed on, e.g. "arn:aws:iam::*:role/*".
	Resource []string
	// Condition is the statement's IAM condition block, when it has one.
	Condition map[string]map[string]string
	// Note is what the operator should know about the grant; iam-policy
	// prints it once when the policy holds the grant.
	Note string
}

// StepIAMer is an optional ability of an action: what one step of it
// needs of IAM, narrower than its spec says, given the step's parameters as
// the playbook writes them (a parameter not written is absent, so its
// default applies; one an expression decides is an Unknown, whatever the
// inputs) and the S3 evidence location iam-policy is given, if any.
// `firebreak iam-policy` asks it for every step.
type StepIAMer interface {
	StepIAM(p Params, evidence IAMEvidence) StepIAM
}

// IAMEvidence is the S3 evidence location of a policy: the bucket and the
// prefix cases go under; Bucket is empty when there is none.
type IAMEvidence struct{ Bucket, Prefix string }

// StepIAM narrows one step's IAM needs. Drop are permissions of the spec
// that this step cannot use (terminate's ec2:TerminateInstances with mode
// stop); Grants, when not nil, replace the spec's Grants for the step (an
// empty, non-nil list: none), and the permissions they list leave "*".
type StepIAM struct {
	Drop   []string
	Grants []Grant
}

// Output declares one output of an action.
type Output struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
	Doc  string `json:"doc"`
	// Headline outputs are what a responder acts on after a run: the
	// isolation group, the snapshot ids, the memory image's hash, size and
	// place, the key disabled, the instance's state. The run's summary
	// shows them under "what changed" (the CLI names no action).
	Headline bool `json:"headline,omitempty"`
}

// Param returns the declared parameter called name.
func (s ActionSpec) Param(name string) (Param, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Outputs are the named results of a step, visible to later steps as
// steps.<id>.outputs. Values must be JSON-encodable.
type Outputs map[string]any

// StepInput is what an action receives for one attempt of one step.
type StepInput struct {
	RunID  string
	CaseID string
	StepID string
	// Params are the step's `with` values, evaluated, coerced to the
	// declared types, with defaults applied.
	Params  Params
	Attempt int // 1 for the first attempt
	Log     *slog.Logger
	// Evidence stores artifacts and custody events for this step.
	Evidence Evidence
	// Operator is the identity the run acts as (an ARN), when known.
	Operator string
	// RunLogPath is the run's journal file in the state dir, when the
	// runner keeps one; upload-log copies it into the case's evidence so
	// the case is self-contained. Empty when there is none.
	RunLogPath string
	// ForEach is true when this input is one item of a for_each step;
	// ItemIndex is then the item's position (0-based, as `index` in
	// expressions). Actions use it to keep the artifact names of the
	// items of one step apart.
	ForEach   bool
	ItemIndex int
	// PlaybookDir is the directory of the playbook file the step comes
	// from, so that an action can read files kept beside it (YARA rules);
	// empty for a built-in playbook.
	PlaybookDir string
	// SecretEnv names the environment variables the run's steps declare as
	// holding secrets (parameters marked secretenv, such as capture-memory's
	// key_passphrase_env), each with the step and parameter that name it,
	// as far as they are known when the run starts (literals and values
	// from the inputs and the finding). A command step refuses to pass
	// them on. Shared: read it, never change it.
	SecretEnv map[string]string
}

// Evidence is what a step may do with its case's evidence. Implementations
// are safe for concurrent use: fan-out items share one.
type Evidence interface {
	// Put stores r as artifacts/<step>/<name> in the evidence store,
	// computing SHA-256 and size while it writes, and records the artifact
	// in the manifest and the custody log. Nothing is recorded when it fails.
	Put(ctx context.Context, meta ArtifactMeta, r io.Reader) (Artifact, error)
	// Record records an artifact held elsewhere: a snapshot, a memory image
	// written to its own sinks.
	Record(ctx context.Context, a Artifact) error
	// Event appends a custody event: an AWS change made, a gap in what
	// could be collected, a human approval.
	Event(ctx context.Context, event string, detail map[string]any) error
}

// ArtifactMeta is what an action says about an artifact it is storing.
type ArtifactMeta struct {
	Name        string            // file name under artifacts/<step>/
	Kind        string            // e.g. "instance-metadata", "memory-image", "stdout"
	ContentType string            // e.g. "application/json"
	Source      map[string]string // instance_id, volume_id, access_key_id ...
}

// Artifact is one piece of evidence as the manifest records it.
type Artifact struct {
	ID          string            `json:"id"`
	Step        string            `json:"step"`
	Kind        string            `json:"kind"`
	URI         string            `json:"uri"`
	SHA256      string            `json:"sha256,omitempty"`
	Size        int64             `json:"size"`
	CollectedAt time.Time         `json:"collected_at"`
	Source      map[string]string `json:"source,omitempty"`
	VersionID   string            `json:"version_id,omitempty"`
	RetainUntil *time.Time        `json:"retain_until,omitempty"`
	// Complete is false for evidence that is known to be partial (a
	// memory stream that ended early). It is never silently dropped.
	Complete bool           `json:"complete"`
	Meta     map[string]any `json:"meta,omitempty"`
}

// PlanInput is what a Planner receives.
type PlanInput struct {
	StepID string
	// Params holds the values known before the run; a value that depends
	// on another step's outputs is Unknown.
	Params Params
	// Check asks the planner to read the live account (resolve targets,
	// test permissions) without changing anything.
	Check bool
	Log   *slog.Logger
}

// PlanDetail is a Planner's answer.
type PlanDetail struct {
	// Calls are concrete calls, e.g. "ec2:ModifyInstanceAttribute i-0abc DisableApiTermination=true".
	Calls []string `json:"calls"`
	// Notes say what was found (the instance's region, its ENIs ...).
	Notes []string `json:"notes,omitempty"`
	// Problems are what would make the step fail (a permission denied).
	Problems []string `json:"problems,omitempty"`
}

// Unknown stands for a value that is not known before the run, such as
// another step's output, in PlanInput.Params.
type Unknown struct{ Expr string }

func (u Unknown) String() string { return "<runtime: " + u.Expr + ">" }

// Known returns p without its Unknown values, for a Planner that decodes
// what is known before the run (Decode then applies the defaults in their
// place).
func (p Params) Known() Params {
	out := make(Params, len(p))
	for k, v := range p {
		if _, unknown := v.(Unknown); !unknown {
			out[k] = v
		}
	}
	return out
}
