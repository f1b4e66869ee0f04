package awsapi

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
)

// Code returns the AWS error code of err ("InvalidInstanceID.NotFound"), or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Classify marks err Retryable when it is transient (throttling, a 5xx, a
// timeout, a broken connection) after the SDK's own retries gave up, so the
// engine's step retry may try again. Other errors are returned as they are.
func Classify(err error) error {
	if err == nil || engine.IsRetryable(err) {
		return err
	}
	if IsNotImplemented(err) {
		return err
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return engine.Retryable(err)
	}
	switch Code(err) {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
		"RequestThrottled", "RequestThrottledException", "SlowDown", "InternalError",
		"InternalFailure", "ServiceUnavailable", "Unavailable":
		return engine.Retryable(err)
	}
	return err
}

// IsNotImplemented reports whether the endpoint does not implement the call
// (moto lacks GetConsoleScreenshot, CloudTrail LookupEvents, the EBS direct
// APIs; some regions lack some APIs). Actions record such a call as a gap in
// the evidence instead of failing.
func IsNotImplemented(err error) bool {
	if err == nil {
		return false
	}
	switch Code(err) {
	case "NotImplemented", "NotImplementedException", "InvalidAction", "UnsupportedOperation", "UnknownOperationException":
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "has not been implemented") || strings.Contains(msg, "not yet implemented")
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool {
	c := Code(err)
	return strings.HasSuffix(c, ".NotFound") || strings.HasSuffix(c, "NotFound") ||
		c == "NoSuchEntity" || c == "NoSuchBucket" || c == "NoSuchKey"
}
