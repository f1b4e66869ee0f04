package faultproxy

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault is what the proxy did to a call instead of, or on top of,
// forwarding it.
type Fault string

// The faults. Throttle, ServerError and Drop never reach the backend, so
// the call had no effect; DropAfter reaches it (the call took effect) and
// the client never hears the answer, as when a connection breaks on the
// way back.
const (
	None        Fault = ""
	Throttle    Fault = "throttle"
	ServerError Fault = "server-error"
	Drop        Fault = "drop"
	DropAfter   Fault = "drop-after"
	SlowRead    Fault = "slow-read"
)

// Rule says what to do to the calls it matches. Empty match fields match
// anything. Shares are probabilities in [0, 1]; a call draws once per
// matching rule, in rule order, and the first fault drawn is the one it
// gets. Latencies of every matching rule add up.
type Rule struct {
	Service   string // SigV4 service name: "ec2", "iam", "s3", "sts", "autoscaling", "elasticloadbalancing", ...
	Operation string // "CreateSnapshots", "PutObject", ...
	Bucket    string // S3 only
	// KeyContains matches S3 object keys holding it, e.g. "/artifacts/isolate/".
	KeyContains string
	Mutating    *bool // nil: both

	Latency     time.Duration // added before the call is answered or forwarded
	Throttle    float64       // the service's own throttling error
	ServerError float64       // 500 or 503 in the service's error shape
	Drop        float64       // connection closed before forwarding
	DropAfter   float64       // forwarded, then the connection closed unanswered
	SlowRead    float64       // the answer dripped over SlowReadTime
	// SlowReadTime is how long a slow answer takes to arrive (default 2s).
	SlowReadTime time.Duration
	// RatePerSecond, when > 0, throttles the calls this rule matches beyond
	// a token bucket of that rate (Burst tokens, default 1 s worth), as AWS
	// throttles an account's request rate: a client that backs off sees
	// fewer throttles, one that does not sees more.
	RatePerSecond float64
	Burst         int
}

// bucket is a rule's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// take reports whether a call may pass the rule's rate limit now.
func (b *bucket) take(r Rule, now time.Time) bool {
	burst := float64(r.Burst)
	if burst <= 0 {
		burst = max(1, r.RatePerSecond)
	}
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*r.RatePerSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (r Rule) matches(c *Call) bool {
	return (r.Service == "" || r.Service == c.Service) &&
		(r.Operation == "" || r.Operation == c.Operation) &&
		(r.Bucket == "" || r.Bucket == c.Bucket) &&
		(r.KeyContains == "" || strings.Contains(c.Key, r.KeyContains)) &&
		(r.Mutating == nil || *r.Mutating == c.Mutating)
}

// pick draws this rule's fault for one call from x in [0, 1).
func (r Rule) pick(x float64) Fault {
	for _, f := range []struct {
		share float64
		fault Fault
	}{{r.Throttle, Throttle}, {r.ServerError, ServerError}, {r.Drop, Drop}, {r.DropAfter, DropAfter}, {r.SlowRead, SlowRead}} {
		if x < f.share {
			return f.fault
		}
		x -= f.share
	}
	return None
}

// errorAnswer is a service's error response: status, content type, body.
type errorAnswer struct {
	status int
	ctype  string
	body   string
}

// throttleAnswer is the throttling error each service really sends, so the
// SDK classifies it as AWS does: EC2 503 RequestLimitExceeded in EC2's
// <Response><Errors> shape, S3 503 SlowDown, JSON protocols 400
// ThrottlingException, the other query protocols 400 Throttling in the
// <ErrorResponse> shape.
func throttleAnswer(c *Call, protocol string) errorAnswer {
	switch {
	case c.Service == "ec2":
		return ec2Error(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	case c.Service == "s3":
		return s3Error(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case protocol == "json":
		return jsonError(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	}
	return queryError(http.StatusBadRequest, "Sender", "Throttling", "Rate exceeded")
}

// serverErrorAnswer is a 500 (odd draws) or 503 in the service's shape.
func serverErrorAnswer(c *Call, protocol string, unavailable bool) errorAnswer {
	switch {
	case c.Service == "ec2" && unavailable:
		return ec2Error(http.StatusServiceUnavailable, "Unavailable", "The server is overloaded and can't handle the request.")
	case c.Service == "ec2":
		return ec2Error(http.StatusInternalServerError, "InternalError", "An internal error has occurred.")
	case c.Service == "s3" && unavailable:
		return s3Error(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request.")
	case c.Service == "s3":
		return s3Error(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case protocol == "json" && unavailable:
		return jsonError(http.StatusServiceUnavailable, "ServiceUnavailableException", "Service unavailable")
	case protocol == "json":
		return jsonError(http.StatusInternalServerError, "InternalFailure", "Internal failure")
	case unavailable:
		return queryError(http.StatusServiceUnavailable, "Receiver", "ServiceUnavailable", "Service unavailable")
	}
	return queryError(http.StatusInternalServerError, "Receiver", "InternalFailure", "An internal error occurred")
}

const requestID = "f1e2d3c4-b5a6-4789-8abc-def012345678"

func ec2Error(status int, code, msg string) errorAnswer {
	return errorAnswer{status, "text/xml;charset=UTF-8", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`, code, msg, requestID)}
}

func queryError(status int, typ, code, msg string) errorAnswer {
	return errorAnswer{status, "text/xml", fmt.Sprintf(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>
  <RequestId>%s</RequestId>
</ErrorResponse>`, typ, code, msg, requestID)}
}

func s3Error(status int, code, msg string) errorAnswer {
	return errorAnswer{status, "application/xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>firebreak-faultproxy</HostId></Error>`, code, msg, requestID)}
}

func jsonError(status int, code, msg string) errorAnswer {
	return errorAnswer{status, "application/x-amz-json-1.1", fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg)}
}
