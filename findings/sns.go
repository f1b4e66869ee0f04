package findings

import (
	"encoding/json"
	"fmt"
)

// Deliveries a finding can arrive in, around its own shape: an EventBridge
// rule whose target is an SNS topic publishes the event as the
// notification's Message, a JSON string.
const (
	// ViaSNS is the notification JSON itself, as an HTTP(S) subscriber or
	// an SQS queue subscribed to the topic (raw delivery off: the message
	// body) receives it: Type "Notification", the event in Message.
	ViaSNS = "sns"
	// ViaLambdaSNS is a Lambda function's event from the topic: each
	// notification under Records[i].Sns.
	ViaLambdaSNS = "lambda-sns"
	// ViaLambdaSQS is a Lambda function's event from a queue subscribed to
	// the topic: each notification JSON as the string Records[i].body.
	ViaLambdaSQS = "lambda-sqs"
)

// carriedMsg is one document an SNS delivery carries.
type carriedMsg struct {
	msg   []byte // the Message string, the published document
	via   string // a Via constant
	where string // names it in errors
}

// fromSNS takes the published documents out of an SNS delivery: isSNS
// false when doc is none (it is then left to the finding shapes). A
// Lambda event from SQS may carry up to 10 records; from SNS, one.
func fromSNS(doc map[string]any) (carried []carriedMsg, isSNS bool, err error) {
	if isNotification(doc) {
		m, err := notificationMessage(doc, "the SNS notification's Message")
		return []carriedMsg{{m, ViaSNS, "the SNS notification's Message"}}, true, err
	}
	recs, ok := doc["Records"]
	if !ok {
		return nil, false, nil
	}
	list, ok := recs.([]any)
	switch {
	case !ok:
		return nil, true, fmt.Errorf("%w: Records is %s, want a Lambda event's list of SNS or SQS records", ErrNoFinding, jsonKind(recs))
	case len(list) == 0:
		return nil, true, fmt.Errorf("%w: Records is empty", ErrNoFinding)
	case len(list) > MaxBatch:
		return nil, true, fmt.Errorf("the Lambda event's Records holds %d messages, at most %d in one document", len(list), MaxBatch)
	}
	for i, r := range list {
		rec, _ := r.(map[string]any)
		if n, ok := field(rec, "Sns").(map[string]any); ok {
			where := fmt.Sprintf("Records[%d].Sns.Message", i)
			m, err := notificationMessage(n, where)
			if err != nil {
				return nil, true, err
			}
			carried = append(carried, carriedMsg{m, ViaLambdaSNS, where})
			continue
		}
		if body, ok := rec["body"].(string); ok {
			var n map[string]any
			if err := json.Unmarshal([]byte(body), &n); err != nil || !isNotification(n) {
				return nil, true, fmt.Errorf("%w: Records[%d].body (an SQS message) is not an SNS notification (a queue with raw message delivery on gets the event itself: give that)", ErrNoFinding, i)
			}
			where := fmt.Sprintf("the SNS notification's Message in Records[%d].body", i)
			m, err := notificationMessage(n, where)
			if err != nil {
				return nil, true, err
			}
			carried = append(carried, carriedMsg{m, ViaLambdaSQS, where})
			continue
		}
		return nil, true, fmt.Errorf("%w: Records[%d] is neither an SNS record (Sns) nor an SQS one (body)", ErrNoFinding, i)
	}
	return carried, true, nil
}

// isNotification reports an SNS notification: Type Notification, a topic
// and a Message.
func isNotification(n map[string]any) bool {
	_, hasMessage := n["Message"]
	return n["Type"] == "Notification" && n["TopicArn"] != nil && hasMessage
}

// notificationMessage is the Message of notification n, which holds the
// published document as a string.
func notificationMessage(n map[string]any, where string) ([]byte, error) {
	msg, ok := n["Message"].(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, want the published event as a JSON string", ErrNoFinding, where, jsonKind(n["Message"]))
	}
	return []byte(msg), nil
}

// messageKind names what a Message holds that is not a JSON object.
func messageKind(msg []byte) string {
	var v any
	if json.Unmarshal(msg, &v) != nil {
		return "text (a rule with an input transformer publishes text: publish the whole event)"
	}
	return jsonKind(v)
}
