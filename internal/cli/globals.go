package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/urfave/cli/v2"
)

// cliState is what every command shares: the process's streams and the
// global flags, read once in Before. AWS is set up only when a command asks
// for it (aws.go), so local-only work needs no credentials.
type cliState struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	region, profile, endpoint string
	playbookDirs              []string
	stateDir                  string
	logFormat, logLevel       string
	noColor                   bool

	aws         awsState
	schemesOnce sync.Once
	schemes     *evidence.Schemes // stores(): where evidence locations open
	promptMu    sync.Mutex
	temporal    temporalConf // the Temporal flags; addr empty: runs are local
	disp        displayHolder
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "region", Usage: "AWS region", EnvVars: []string{"AWS_REGION"}},
		&cli.StringFlag{Name: "profile", Usage: "AWS shared-config profile", EnvVars: []string{"AWS_PROFILE"}},
		&cli.StringFlag{Name: "endpoint-url", Usage: "send every AWS call to `URL` (S3 in path style)", EnvVars: []string{"AWS_ENDPOINT_URL"}},
		&cli.StringSliceFlag{Name: "playbooks", Usage: "look for playbooks in `DIR` (repeatable; the env var takes a path list)",
			EnvVars: []string{"FIREBREAK_PLAYBOOKS"}, Value: cli.NewStringSlice("./playbooks")},
		&cli.StringFlag{Name: "state-dir", Usage: "keep run journals in `DIR`", EnvVars: []string{"FIREBREAK_STATE_DIR"}, DefaultText: "~/.firebreak"},
		&cli.StringFlag{Name: "log-format", Usage: "log format: text or json", Value: "text", EnvVars: []string{"FIREBREAK_LOG_FORMAT"}},
		&cli.StringFlag{Name: "log-level", Usage: "log level: debug, info, warn or error", Value: "info", EnvVars: []string{"FIREBREAK_LOG_LEVEL"}},
		&cli.BoolFlag{Name: "no-color", Usage: "no colours or redrawing on the terminal", EnvVars: []string{"NO_COLOR"}},
	}
}

// load reads the global flags; it runs before any command.
func (st *cliState) load(c *cli.Context) error {
	st.region = c.String("region")
	st.profile = c.String("profile")
	st.endpoint = c.String("endpoint-url")
	st.playbookDirs = nil
	for _, d := range c.StringSlice("playbooks") {
		st.playbookDirs = append(st.playbookDirs, filepath.SplitList(d)...)
	}
	st.logFormat = strings.ToLower(c.String("log-format"))
	if st.logFormat != "text" && st.logFormat != "json" {
		return usageErrorf("--log-format %q: want text or json", st.logFormat)
	}
	st.logLevel = c.String("log-level")
	if _, err := parseLevel(st.logLevel); err != nil {
		return usageErrorf("--log-level: %v", err)
	}
	st.noColor = c.Bool("no-color")
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	st.stateDir = dir
	return nil
}

// stateDir expands the state dir, ~/.firebreak when none is given.
func stateDir(flag string) (string, error) {
	if flag != "" && !strings.HasPrefix(flag, "~") {
		return filepath.Abs(flag)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usageErrorf("no home directory for the state dir (%v): set --state-dir or FIREBREAK_STATE_DIR", err)
	}
	if flag == "" {
		return filepath.Join(home, ".firebreak"), nil
	}
	return filepath.Join(home, strings.TrimPrefix(strings.TrimPrefix(flag, "~"), "/")), nil
}

// logf writes a human line on stderr; with --log-format json, a log
// record, so that stderr stays one JSON object a line.
func (st *cliState) logf(format string, args ...any) {
	if st.logFormat == "json" {
		st.logger().Info(strings.TrimSpace(fmt.Sprintf(format, args...)))
		return
	}
	fmt.Fprintf(st.stderr, format+"\n", args...)
}
