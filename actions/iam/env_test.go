package iam

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// calls returns the "call" of every custody event named event, in order.
func calls(ev *enginetest.Evidence, event string) []string {
	var out []string
	for _, d := range ev.EventsNamed(event) {
		out = append(out, d["call"].(string))
	}
	return out
}

// object is the artifact stored under name, or nil.
func object(ev *enginetest.Evidence, name string) []byte {
	b, _ := ev.Object(name)
	return b
}

// iamWorld is a moto server with an IAM client for setting up and
// checking state, and a registry of this package's actions over it.
type iamWorld struct {
	moto      *testenv.Moto
	iam       *iam.Client
	reg       *engine.Registry
	mfaSerial string // set by leakedUser
}

func newIAMWorld(t *testing.T) *iamWorld {
	t.Helper()
	m := testenv.StartMoto(t)
	w := &iamWorld{moto: m, iam: iam.NewFromConfig(m.Config())}
	w.reg = registryAs(m.Config())
	return w
}

// registryAs registers the actions with clients acting under cfg.
func registryAs(cfg aws.Config) *engine.Registry {
	r := engine.NewRegistry()
	Register(r, awsapi.NewClients(cfg))
	return r
}

// configAs is the moto config with the credentials of an access key.
func (w *iamWorld) configAs(id, secret string) aws.Config {
	cfg := w.moto.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	return cfg
}

// newUser makes a user with one access key and returns the key's id and secret.
func (w *iamWorld) newUser(t *testing.T, ctx context.Context, name string) (string, string) {
	t.Helper()
	if _, err := w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return w.newKey(t, ctx, name)
}

func (w *iamWorld) newKey(t *testing.T, ctx context.Context, user string) (string, string) {
	t.Helper()
	k, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	return aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
}

// run runs the action called name from reg on a fresh step input.
func run(ctx context.Context, reg *engine.Registry, name string, params engine.Params) (engine.Outputs, *enginetest.Evidence, error) {
	a, ok := reg.Lookup(name)
	if !ok {
		panic("action not registered: " + name)
	}
	ev := enginetest.NewEvidence()
	for _, p := range a.Spec().Params {
		if _, given := params[p.Name]; !given && p.Default != nil {
			v, _ := engine.Coerce(p.Type, p.Default)
			params[p.Name] = v
		}
	}
	out, err := a.Run(ctx, &engine.StepInput{RunID: "run-test", CaseID: "cr-test", StepID: name, Params: params, Attempt: 1, Evidence: ev})
	return out, ev, err
}

// revokeTime reads the aws:TokenIssueTime of a revoke policy document
// (URL-encoded, as IAM returns it); zero when it is not one.
func revokeTime(t *testing.T, doc string) time.Time {
	t.Helper()
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var p struct {
		Statement []struct {
			Effect    string
			Action    []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil || len(p.Statement) != 1 {
		t.Fatalf("policy %s: %v", doc, err)
	}
	s := p.Statement[0]
	if s.Effect != "Deny" || strings.Join(s.Action, ",") != "*" {
		t.Errorf("policy %s: want one Deny of *", doc)
	}
	at, err := time.Parse(time.RFC3339, s.Condition["DateLessThan"]["aws:TokenIssueTime"])
	if err != nil {
		t.Errorf("policy %s: no DateLessThan aws:TokenIssueTime: %v", doc, err)
	}
	return at
}
