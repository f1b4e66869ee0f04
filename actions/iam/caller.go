package iam

import "fmt"

// ActsAsRole reports whether callerARN, as sts:GetCallerIdentity gives it,
// is a session of the IAM role roleName (":assumed-role/NAME/SESSION"):
// revoking that role's older sessions would cut the run off. Other
// families (isolate's revoke part) use it to refuse the same way
// revoke-sessions does.
func ActsAsRole(callerARN, roleName string) bool {
	return callerInfo{ARN: callerARN}.isRole(roleName)
}

// OwnSessionError is the refusal revoke-sessions gives (after its
// "revoke-sessions: " prefix) when the run acts as the principal whose
// sessions it would revoke.
func OwnSessionError(callerARN string) error {
	return fmt.Errorf("the run acts as %q, whose own session this would revoke: run as another principal, or set force: true", callerARN)
}
