// Package session owns a run from start to finish: the one place that
// opens a case, stores the finding a run starts from, runs or resumes the
// playbook through a Backend, and seals the case's manifest. The command
// line, the demo, the benchmarks and every end-to-end test start runs here;
// nothing else assembles one.
//
// # The contract
//
// A Manager starts a run (Start) or continues one (Resume) and returns a
// Run once the case is open, so the run's ids are known at once; the steps
// go on in the background. In order:
//
//  1. The evidence store is opened (Request.Store, or Opener.Store of the
//     location) and the signing key loaded.
//  2. The backend records what a resume will need (Backend.Record; the
//     local backend writes STATE_DIR/runs/RUN_ID/invocation.json).
//  3. The case is opened (evidence.OpenCase: a new case, or the same case
//     again on a resume) and, for a new run from a finding, the finding is
//     stored as the case's first artifact (artifacts/finding/...).
//  4. The backend runs or resumes the steps. It calls the Hooks in this
//     process: Observer with every step event (the Request's Observer and
//     every Follow), Approver with every approve step.
//  5. The case is sealed (Case.Finish) with the run's status, also when the
//     run was interrupted, under a context that survives the cancel and is
//     bounded by Manager.FinishTimeout. A manifest that cannot be written
//     turns a succeeded run into failed and says why in Outcome.Err: a case
//     that is not sealed is never called a success.
//
// An error from Start or Resume means nothing ran (step 1, 2 or 3 failed).
// A run that could not start in the backend (its journal could not be
// created) ends with an empty Outcome.Status and an unsealed case, as
// nothing happened in it.
//
// # Following and answering
//
// Run.Follow gives any number of followers the run's step events without
// ever making the run wait: a follower that falls behind is dropped and
// follows again from the current state. Approvals is an Approver answered
// from another goroutine (a console's button). Run.Cancel interrupts a run
// as Ctrl-C does; Manager.ResumeRequest and Resume continue it by id.
//
// # Backends
//
// Local runs the steps in this process with engine/runner. A backend whose
// steps run in other processes reports InProcess false: the session then
// closes the case before the run (the workers open it from Job.Evidence,
// one at a time, through the store's lock) and opens it again to seal it
// with the backend's step records.
package session
