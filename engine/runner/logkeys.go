package runner

// Attribute keys of the runner's log records, in one place so that log
// readers (and the redaction in the CLI) can rely on them.
const (
	keyRun      = "run"
	keyCase     = "case"
	keyPlaybook = "playbook"
	keyStep     = "step"
	keyAction   = "action"
	keyItem     = "item"
	keyAttempt  = "attempt"
	keyStatus   = "status"
	keyDuration = "duration"
	keyError    = "error"
	keyReason   = "reason"
	keyWait     = "wait"
	keyParams   = "params"
	keyReady    = "ready"
	keyRunning  = "running"
)

// redacted replaces a Secret param's value wherever params are logged.
const redacted = "[redacted]"
