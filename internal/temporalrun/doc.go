// Package temporalrun is the Temporal backend of a run session: one
// generic workflow (Workflow) interprets a loaded playbook by driving the
// runner's own decision core (runner.Machine), so a run on Temporal
// decides exactly as a local run does; each step, or for_each item, is an
// activity (Activities.Step) that calls the same registered action under
// the step's timeout, heartbeating while it runs.
//
// The workflow is deterministic: its clock is workflow.Now, the playbook is
// parsed from the bytes the run started with, expressions are evaluated by
// the machine in workflow code, and a retry's jittered wait is drawn in a
// side effect. An action's error comes back to the workflow as a
// non-retryable application error carrying whether the action marked it
// retryable; the workflow retries it as the local runner does
// (runner.ShouldRetry, runner.Backoff). Temporal itself retries only an
// attempt whose worker was lost (a heartbeat or start-to-close timeout).
//
// Evidence: the workers open the case from the run's evidence location
// (evidence.OpenCase, through the store's lock: one writer at a time), so
// the custody log stays one chain whichever worker appends; a worker keeps
// a case open while any of its activities uses it. Custody events the
// machine makes (step.started, step.succeeded, ...) travel in the next
// activity's request, or in an activity of their own.
//
// Backend is the session.Backend the command line and serve use: it starts
// the workflow (its id is the run id), follows it by query, answers
// approve steps by signal, and resumes a run by starting the workflow
// again with what the last execution kept.
package temporalrun
