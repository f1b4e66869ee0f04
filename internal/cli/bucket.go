package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/urfave/cli/v2"

	s3actions "github.com/firebreak-ir/firebreak/actions/s3"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

// evidenceBucketCommand is `firebreak evidence-bucket create s3://B/P`
// (init is the same): it runs the evidence-bucket action itself, with fix
// on, so the bucket a run's --evidence names is made, or repaired, exactly
// as the action checks it. No case is opened (the bucket is where cases
// will go): each change is printed as it is made.
func evidenceBucketCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "evidence-bucket",
		Usage: "make the S3 evidence store: create or fix a hardened bucket",
		Subcommands: []*cli.Command{{
			Name:      "create",
			Aliases:   []string{"init"},
			Usage:     "create the bucket of s3://BUCKET/PREFIX hardened, or fix what an existing one lacks (versioning, encryption, Block Public Access, TLS-only policy, Object Lock)",
			ArgsUsage: "s3://BUCKET[/PREFIX]",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "kms-key", Usage: "default encryption with this KMS `KEY` (id or ARN); none: AES256"},
				&cli.IntFlag{Name: "retention-days", Value: 365, Usage: "Object Lock default retention in governance mode, in `DAYS`"},
				&cli.BoolFlag{Name: "no-object-lock", Usage: "no Object Lock (it cannot be turned off on a bucket once on, and AWS sets it best at creation)"},
			},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, 1, "s3://BUCKET[/PREFIX]"); err != nil {
					return err
				}
				uri := c.Args().First()
				bucket, _, err := s3store.ParseURI(uri)
				if err != nil {
					return usageErrorf("%v", err)
				}
				if err := s3actions.CheckBucketName(bucket); err != nil {
					return usageErrorf("%v", err)
				}
				days, lock := c.Int("retention-days"), !c.Bool("no-object-lock")
				if lock && days < 1 {
					return usageErrorf("--retention-days %d: want at least 1 (or --no-object-lock)", days)
				}
				params := engine.Params{"bucket": bucket, "region": st.region, "kms_key_id": c.String("kms-key"),
					"retention_days": days, "object_lock": lock, "fix": true, "strict": true}
				return st.makeEvidenceBucket(c.Context, uri, params)
			},
		}},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("evidence-bucket needs a subcommand: create s3://BUCKET[/PREFIX]")
			}
			return usageErrorf("evidence-bucket: unknown subcommand %q: want create (or init)", c.Args().First())
		},
	}
}

// makeEvidenceBucket runs the evidence-bucket action with params and
// prints what it found and changed.
func (st *cliState) makeEvidenceBucket(ctx context.Context, uri string, params engine.Params) error {
	act, ok := st.registry(ctx, true).Lookup("evidence-bucket")
	if !ok {
		return errors.New("the evidence-bucket action is not registered")
	}
	ev := &changePrinter{w: st.stdout}
	out, err := act.Run(ctx, &engine.StepInput{StepID: "evidence-bucket", Params: params, Evidence: ev, Attempt: 1, Log: st.logger()})
	if err != nil {
		if st.aws.err != nil {
			err = fmt.Errorf("%w (AWS set-up: %v)", err, st.aws.err)
		}
		return withCode(exitFailed, err)
	}
	checks, _ := out["checks"].(map[string]any)
	names := make([]string, 0, len(checks))
	for k := range checks {
		names = append(names, k)
	}
	slices.Sort(names)
	verb := "exists"
	if created, _ := out["created"].(bool); created {
		verb = "created"
	}
	fmt.Fprintf(st.stdout, "bucket %s %s:\n", params["bucket"], verb)
	for _, n := range names {
		fmt.Fprintf(st.stdout, "  %-20s %v\n", n, checks[n])
	}
	if lock, _ := params["object_lock"].(bool); !lock {
		fmt.Fprintf(st.stdout, "  %-20s %s\n", "object_lock", "not asked for (--no-object-lock)")
	}
	fmt.Fprintf(st.stdout, "evidence location %s is ready: firebreak run PLAYBOOK --evidence %s\n", uri, uri)
	return nil
}

// changePrinter is the Evidence the evidence-bucket command gives the
// action: there is no case to record in, so each change is printed.
type changePrinter struct{ w io.Writer }

func (p *changePrinter) Put(context.Context, engine.ArtifactMeta, io.Reader) (engine.Artifact, error) {
	return engine.Artifact{}, errors.New("evidence-bucket create keeps no artifacts")
}

func (p *changePrinter) Record(context.Context, engine.Artifact) error {
	return errors.New("evidence-bucket create keeps no artifacts")
}

func (p *changePrinter) Event(_ context.Context, event string, d map[string]any) error {
	line := fmt.Sprintf("changed: %v on %v", d["call"], d["bucket"])
	if was, ok := d["was"]; ok {
		line += fmt.Sprintf(" (was: %v)", was)
	}
	if event != "aws-change" {
		line = fmt.Sprintf("%s: %v", event, d)
	}
	_, err := fmt.Fprintln(p.w, evidence.Printable(line))
	return err
}
