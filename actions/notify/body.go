package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// reserved are the body keys firebreak sets; fields may not replace them,
// or a receiver could be told the wrong case.
var reserved = []string{"source", "case_id", "run_id", "step_id", "subject", "message", "text", "time"}

// buildBody is the JSON every destination receives. "text" repeats the
// message because Slack, Mattermost and Teams incoming webhooks show that
// key as it is.
func buildBody(in *engine.StepInput, p *params, now time.Time) ([]byte, error) {
	body := make(map[string]any, len(p.fields)+len(reserved))
	for k, v := range p.fields {
		body[k] = v
	}
	for _, k := range reserved {
		if _, clash := body[k]; clash {
			return nil, fmt.Errorf("fields: %q is set by firebreak; rename the field", k)
		}
	}
	body["source"] = "firebreak"
	body["case_id"], body["run_id"], body["step_id"] = in.CaseID, in.RunID, in.StepID
	body["message"], body["text"] = p.message, p.message
	body["time"] = now.UTC().Format(time.RFC3339)
	if p.subject != "" {
		body["subject"] = p.subject
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	return b, nil
}

// storeBody keeps what is about to be sent, before it is sent: the custody
// record of a notification is its exact body.
func storeBody(ctx context.Context, in *engine.StepInput, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	meta := engine.ArtifactMeta{Name: engine.ArtifactName("notification", ".json", in), Kind: "notification", ContentType: "application/json"}
	if _, err := in.Evidence.Put(ctx, meta, bytes.NewReader(body)); err != nil {
		return "", fmt.Errorf("storing the notification body: %w", err)
	}
	return hex.EncodeToString(sum[:]), nil
}
