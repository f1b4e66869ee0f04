// Package runner runs a playbook: it schedules the steps of the DAG with
// bounded parallelism, records every state change in a journal before acting
// on it, and resumes an interrupted or failed run from that journal.
//
// # Scheduling
//
// One coordinator goroutine owns all the state of a run (pending-need
// counts, statuses, the ready queue, the expression environment); workers
// run actions and send their results back on a channel. At most
// min(playbook concurrency, Config.Parallelism) steps and for_each items
// run at once.
//
// A step is ready when every step it needs has ended. It runs when none of
// them failed and its `when` is true; otherwise it is skipped and the reason
// recorded in words, as the plan says it ("needs \"a\" failed",
// "inputs.terminate is false": engine.Expr.WhyFalse).
// A failure with continue_on_error counts as fine. A need that was skipped
// because of a failure further up carries that failure ("needs \"b\",
// skipped because \"a\" failed"); a need skipped for any other reason (its
// when was false, its approval declined) counts as fine. A when that calls
// always() or failed() runs the step even after a failed need.
//
// # for_each
//
// The list is evaluated when the step is ready; the action runs once per
// item with item and index bound, at most Step.Concurrency at a time. The
// step's outputs, as later steps see them in steps.<id>.outputs, are
// {"items": [outputs of item 0, outputs of item 1, ...]} in item order,
// whatever order the items finished in (nil for an item that did not
// succeed). The step fails if any item failed.
//
// # Retries and timeouts
//
// Only errors marked engine.Retryable are retried, up to Step.Retries, with
// Step.Backoff between attempts. A step that hits its own timeout is retried
// only if the action's error is marked retryable too. A parameter that does
// not evaluate or fit its type fails the step at once.
//
// # Interruption, approval and finally
//
// When ctx is done nothing new starts; running actions see their ctx
// cancelled; the run ends interrupted and Run returns an error wrapping
// engine.ErrInterrupted. An approve step with no Approver waits, and the run
// ends interrupted (and ErrApprovalRequired) once nothing else can run.
// Finally steps run after every main step has ended, also after an
// interruption (under context.WithoutCancel, bounded by their own timeouts).
//
// # Evidence
//
// Each step gets Config.Case.Evidence(step). Without a Case (tests,
// benchmarks) steps get an Evidence that refuses Put and Record with an
// error saying what to give the run, and drops custody events: an action
// that makes evidence (command, notify, upload-log) then fails instead of
// running with its evidence thrown away. StepInput.Evidence is never nil.
//
// # Journal and resume
//
// StateDir/runs/RUN_ID/journal.jsonl holds one JSON object a line: a header
// (playbook, inputs, case, finding), then every change of a step or item.
// Each line is written and fsync'd before what it records is acted on;
// lines that arrive while a sync is in flight share the next one. Resume
// keeps the steps, and for_each items, that succeeded; every other step runs
// again, and so do the finally steps. A last line torn by a crash (no
// newline) is ignored and cut off; a whole line that does not parse, last
// or not, is refused as damage. A write that fails (a full disk) cuts the
// file back to its last good line and stops the run: nothing more is
// written, so the journal stays loadable and the run resumable.
package runner
