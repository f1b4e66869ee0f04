package analysis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// yaraParams are the IOC sweep's parameters, the same for a disk and a
// memory image.
type yaraParams struct {
	Rules          []string       `param:"rules" doc:"YARA rule files, or directories of *.yar/*.yara files; a relative path is relative to the playbook file"`
	InlineRules    string         `param:"inline_rules" doc:"YARA rules written in the playbook"`
	Finding        map[string]any `param:"finding" doc:"the finding (\"${{ finding }}\"): its remote addresses and domains become a YARA rule; analyze-disk also bounds its timeline by its first and last seen times"`
	IndicatorRules bool           `param:"indicator_rules" default:"true" doc:"look for the finding's remote addresses and domains without a rule being written"`
	MaxMatches     int            `param:"max_matches" default:"10000" doc:"matches kept in the report (all are counted)"`
}

// sources gathers the rules to scan with: files, inline, and the
// finding's indicators. None at all is not an error: the sweep is skipped.
func (y yaraParams) sources(playbookDir string) ([]ruleSource, Indicators, map[string]string, error) {
	src, err := ruleFiles(y.Rules, playbookDir)
	if err != nil {
		return nil, Indicators{}, nil, err
	}
	if strings.TrimSpace(y.InlineRules) != "" {
		src = append(src, ruleSource{Name: "inline", Text: y.InlineRules})
	}
	var ind Indicators
	var ids map[string]string
	if y.IndicatorRules {
		if ind = findingIndicators(y.Finding); !ind.empty() {
			var r ruleSource
			r, ids = indicatorRule(ind)
			src = append(src, r)
		}
	}
	return src, ind, ids, nil
}

// target is what is scanned: a file or a block device, and its size.
type target struct {
	Path  string
	Block bool
	Size  int64
}

// probeScript says whether $1 is a block device or a file, and its size.
const probeScript = `if [ -b "$1" ]; then echo block $(blockdev --getsize64 "$1"); elif [ -f "$1" ]; then echo file $(stat -L -c %s "$1"); else echo none; fi`

func probe(ctx context.Context, h host, path string) (target, error) {
	var out bytes.Buffer
	if err := h.run(ctx, []string{"sh", "-c", probeScript, "firebreak", path}, &out); err != nil {
		return target{}, fmt.Errorf("looking at %q on %s: %w", path, h.where(), err)
	}
	f := strings.Fields(out.String())
	if len(f) != 2 {
		return target{}, fmt.Errorf("%q on %s is neither a block device nor a file", path, h.where())
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return target{}, fmt.Errorf("size of %q on %s: %q", path, h.where(), f[1])
	}
	return target{Path: path, Block: f[0] == "block", Size: size}, nil
}

// sweep scans t with the rules on h. A block device is scanned in windows
// of window bytes (YARA would silently scan nothing of it); a file whole.
func sweep(ctx context.Context, h host, src []ruleSource, ind Indicators, ids map[string]string, t target, window int64, max int) (*YaraReport, error) {
	if err := requireTools(ctx, h, "yara"); err != nil {
		return nil, err
	}
	rep := &YaraReport{Target: t.Path, Host: h.where(), Rules: map[string]string{}, Indicators: ind, Matches: []YaraMatch{}}
	s := &yaraScan{h: h, ids: ids, max: max, report: rep, noStrSeen: map[string]bool{}}
	for _, r := range src {
		path, done, err := h.upload(ctx, r.Name+".yar", strings.NewReader(r.Text))
		if err != nil {
			return nil, fmt.Errorf("copying rules %q to %s: %w", r.Name, h.where(), err)
		}
		defer done()
		s.rules = append(s.rules, r.Name+":"+path)
		rep.Rules[r.Name] = r.Path
		if r.Path == "" {
			rep.Rules[r.Name] = r.Name
		}
	}
	var err error
	if t.Block {
		err = s.windows(ctx, t.Path, t.Size, window)
	} else {
		err = s.file(ctx, t.Path)
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// putReport stores the report as a JSON artifact.
func putReport(ctx context.Context, in *engine.StepInput, base string, rep *YaraReport, source map[string]string) (engine.Artifact, error) {
	return putJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName(base, ".yara.json", in), Kind: "yara-matches",
		ContentType: "application/json", Source: source}, rep)
}
