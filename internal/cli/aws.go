package cli

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// awsState is the AWS set-up, made on first use: commands that only read
// playbooks (validate, actions, iam-policy) never load it, and a local-only
// playbook runs with no AWS configuration at all.
type awsState struct {
	once    sync.Once
	clients *awsapi.Clients
	err     error
	// identity is the caller the preflight found (checkAWS); nil before.
	identity *evidence.Operator
}

// awsClients returns the shared clients. When the configuration cannot be
// loaded (no region, a broken profile) the clients still exist, but every
// call they make fails with that reason: only playbooks that touch AWS see
// the error, at the step that needs AWS.
func (st *cliState) awsClients(ctx context.Context) *awsapi.Clients {
	st.aws.once.Do(func() {
		cfg, err := awsapi.LoadConfig(ctx, awsapi.Options{Region: st.region, Profile: st.profile, Endpoint: st.endpoint})
		if err != nil {
			st.aws.err = err
			cfg = failingConfig(err)
		}
		st.aws.clients = awsapi.NewClients(cfg)
	})
	return st.aws.clients
}

// specClients are clients for commands that only read action specs: they
// load nothing and fail any call.
func specClients() *awsapi.Clients {
	return awsapi.NewClients(failingConfig(fmt.Errorf("AWS is not set up for this command")))
}

// failingConfig is a configuration whose every call returns err before it
// leaves the process.
func failingConfig(err error) aws.Config {
	fail := middleware.InitializeMiddlewareFunc("firebreakNoAWSConfig",
		func(context.Context, middleware.InitializeInput, middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return middleware.InitializeOutput{}, middleware.Metadata{}, err
		})
	return aws.Config{
		Region: "unset",
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Initialize.Add(fail, middleware.Before)
		}},
	}
}

// awsConfigured reports whether the responder set AWS up in some way. Only
// then is sts:GetCallerIdentity asked for the operator, so a local-only run
// on a laptop never reaches for instance metadata or the network.
func (st *cliState) awsConfigured() bool {
	if st.profile != "" || st.endpoint != "" {
		return true
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		if _, err := os.Stat(filepath.Join(home, ".aws", "credentials")); err == nil {
			return true
		}
	}
	return false
}

// operator is who the run acts as: the caller identity when AWS is set up
// (needAWS: the playbook calls AWS), else the local user. A failed lookup is
// logged and the local user recorded, never a reason not to respond.
func (st *cliState) operator(ctx context.Context, needAWS bool) (evidence.Operator, string) {
	if id := st.aws.identity; id != nil {
		return *id, id.ARN // asked once, in the preflight
	}
	if needAWS || st.awsConfigured() {
		clients := st.awsClients(ctx)
		if st.aws.err == nil {
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			id, err := clients.STS().GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
			if err == nil {
				op := evidence.Operator{ARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account), UserID: aws.ToString(id.UserId)}
				return op, op.ARN
			}
			st.logger().Warn("operator identity unknown: sts:GetCallerIdentity failed; recording the local user", "error", err)
		} else if needAWS {
			st.logger().Warn("AWS is not configured; AWS steps will fail", "error", st.aws.err)
		}
	}
	local := localUser()
	return evidence.Operator{UserID: local}, local
}

func localUser() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return "local:" + name + "@" + host
}
