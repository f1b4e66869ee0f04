package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// diskParams declare analyze-disk's parameters.
type diskParams struct {
	Device string `param:"device,required" doc:"block device or image file to analyse, as the host sees it (e.g. /dev/nvme1n1 on the workstation)"`
	Host   string `param:"host" doc:"the forensic workstation, over SSH; empty: this machine"`
	sshconn.Params
	Sudo      bool          `param:"sudo" default:"true" doc:"over SSH, run the tools through sudo -n (reading a device needs root); never used locally"`
	FirstSeen string        `param:"first_seen" doc:"RFC 3339 start of the activity; empty: the finding's eventFirstSeen"`
	LastSeen  string        `param:"last_seen" doc:"RFC 3339 end of the activity; empty: the finding's eventLastSeen"`
	Window    time.Duration `param:"window" default:"0s" doc:"bound the timeline to first_seen - window .. last_seen + window; 0: the whole timeline"`
	yaraParams
	YaraWindow int64 `param:"yara_window" default:"268435456" doc:"a block device is scanned in windows of this many bytes (each copied to a private temporary file on the host, 1 MiB overlapping the next)"`
}

// disk is the analyze-disk action. It is safe for concurrent use.
type disk struct{}

var _ engine.Action = (*disk)(nil)

func (*disk) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "analyze-disk",
		Summary: "Partitions (mmls), a file system timeline of each (fls body file, deleted entries marked, optionally bounded around the finding) and a YARA sweep of a disk or image, locally or on the forensic workstation over SSH",
		Params:  engine.ParamsOf[diskParams](),
		Outputs: []engine.Output{
			{Name: "partitions", Type: engine.TypeList, Doc: "{slot, start_sector, sectors, sector_size, description, analyzed, reason, entries, body}"},
			{Name: "timeline", Type: engine.TypeString, Doc: "URI of the timeline (JSON lines, one entry a line; see DESIGN.md)"},
			{Name: "timeline_csv", Type: engine.TypeString, Doc: "URI of the same timeline as mactime -d -y writes it"},
			{Name: "bodyfiles", Type: engine.TypeList, Doc: "URI of each file system's body file (fls -r -m), as fls wrote it"},
			{Name: "entries", Type: engine.TypeInt, Doc: "timeline entries"},
			{Name: "deleted", Type: engine.TypeInt, Doc: "timeline entries of deleted files and directories"},
			{Name: "window_start", Type: engine.TypeString, Doc: "RFC 3339; empty: unbounded"},
			{Name: "window_end", Type: engine.TypeString},
			{Name: "yara_matches", Type: engine.TypeString, Doc: "URI of the YARA report (JSON); empty when no rule applied"},
			{Name: "matches", Type: engine.TypeInt, Doc: "YARA matches counted"},
			{Name: "host", Type: engine.TypeString, Doc: "where the tools ran: local or user@host:port"},
			{Name: "host_key_fingerprint", Type: engine.TypeString, Doc: "the workstation's host key accepted (empty when local)"},
			{Name: "host_key_verified_by", Type: engine.TypeString, Doc: "pinned, console-output, known-hosts or insecure"},
		},
	}
}

func (a *disk) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[diskParams](in.Params)
	if err != nil {
		return nil, err
	}
	win, err := timelineWindow(p)
	if err != nil {
		return nil, err
	}
	src, ind, ids, err := p.sources(in.PlaybookDir)
	if err != nil {
		return nil, err
	}
	h, facts, closeHost, err := openHost(ctx, in, p.Host, p.Params, p.Sudo)
	if err != nil {
		return nil, err
	}
	defer closeHost()
	tools := []string{"mmls", "fls"}
	if len(src) > 0 {
		tools = append(tools, "yara")
	}
	if err := requireTools(ctx, h, tools...); err != nil {
		return nil, err
	}
	d := &diskRun{in: in, h: h, p: p, tl: &timeline{win: win}}
	out, err := d.run(ctx, src, ind, ids)
	if out != nil {
		out["host"], out["host_key_fingerprint"], out["host_key_verified_by"] = h.where(), facts["host_key_fingerprint"], facts["host_key_verified_by"]
		if facts == nil {
			out["host_key_fingerprint"], out["host_key_verified_by"] = "", ""
		}
		out["window_start"], out["window_end"] = rfc3339(win.From), rfc3339(win.To)
	}
	return out, err
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// timelineWindow is the window the timeline is bounded to: none without a
// window duration; else around first and last seen, given or the finding's.
func timelineWindow(p diskParams) (window, error) {
	if p.Window <= 0 {
		return window{}, nil
	}
	first, last := p.FirstSeen, p.LastSeen
	if first == "" {
		first, _ = dig(dig(p.Finding, "service"), "eventFirstSeen").(string)
	}
	if last == "" {
		last, _ = dig(dig(p.Finding, "service"), "eventLastSeen").(string)
	}
	if first == "" && last == "" {
		return window{}, errors.New("window is set but neither first_seen, last_seen nor the finding's service.eventFirstSeen/eventLastSeen says around when")
	}
	var w window
	for _, b := range []struct {
		name, v string
		t       *time.Time
		shift   time.Duration
	}{{"first_seen", first, &w.From, -p.Window}, {"last_seen", last, &w.To, p.Window}} {
		if b.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, b.v)
		if err != nil {
			return window{}, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-11-20T07:58:02Z", b.name, b.v)
		}
		*b.t = t.Add(b.shift)
	}
	if w.From.IsZero() {
		w.From = w.To.Add(-2 * p.Window)
	}
	if w.To.IsZero() {
		w.To = w.From.Add(2 * p.Window)
	}
	if w.To.Before(w.From) {
		return window{}, fmt.Errorf("last_seen %s is before first_seen %s", last, first)
	}
	return w, nil
}

// diskRun is one analyze-disk run.
type diskRun struct {
	in *engine.StepInput
	h  host
	p  diskParams
	tl *timeline
}

func (d *diskRun) run(ctx context.Context, src []ruleSource, ind Indicators, ids map[string]string) (engine.Outputs, error) {
	t, err := probe(ctx, d.h, d.p.Device)
	if err != nil {
		return nil, err
	}
	parts, err := d.partitions(ctx)
	if err != nil {
		return nil, err
	}
	out := engine.Outputs{"bodyfiles": []any{}, "yara_matches": "", "matches": 0}
	var failed []string
	for i := range parts {
		if err := d.filesystem(ctx, &parts[i]); err != nil {
			failed = append(failed, err.Error())
		}
		if parts[i].Body != "" {
			out["bodyfiles"] = append(out["bodyfiles"].([]any), parts[i].Body)
		}
	}
	partList := make([]any, len(parts))
	for i, pt := range parts {
		partList[i] = map[string]any{"slot": pt.Slot, "start_sector": pt.Start, "sectors": pt.Sectors, "sector_size": pt.SectorSize,
			"description": pt.Description, "analyzed": pt.Analyzed, "reason": pt.Reason, "entries": pt.Entries, "body": pt.Body}
	}
	out["partitions"] = partList
	if err := d.writeTimeline(ctx, out); err != nil {
		return out, err
	}
	if len(src) > 0 {
		rep, err := sweep(ctx, d.h, src, ind, ids, t, d.p.YaraWindow, d.p.MaxMatches)
		if rep != nil {
			a, perr := putReport(ctx, d.in, "disk", rep, map[string]string{"device": d.p.Device, "host": d.h.where()})
			if perr == nil {
				out["yara_matches"], out["matches"] = a.URI, rep.Count
			}
			err = errors.Join(err, perr)
		}
		if err != nil {
			return out, err
		}
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("analyze-disk %s: %s", d.p.Device, strings.Join(failed, "; "))
	}
	return out, nil
}

// partitions asks mmls for the volumes. A disk without a partition table
// (mmls says nothing and fails) is one volume from sector 0.
func (d *diskRun) partitions(ctx context.Context) ([]Partition, error) {
	var out bytes.Buffer
	err := d.h.run(ctx, []string{"mmls", d.p.Device}, &out)
	var te *toolError
	switch {
	case errors.As(err, &te) && (te.stderr == "" || strings.Contains(te.stderr, "Cannot determine partition type")):
		return []Partition{{Slot: -1, SectorSize: 512, Description: "no partition table: the whole device"}}, nil
	case err != nil:
		return nil, err
	}
	parts := parseMMLS(out.String())
	if len(parts) == 0 {
		return nil, fmt.Errorf("mmls found a partition table on %q with no partition in it", d.p.Device)
	}
	return parts, nil
}

// fsUnknown is what fls says of a volume without a file system it reads.
func fsUnknown(stderr string) bool {
	return strings.Contains(stderr, "Cannot determine file system type") || strings.Contains(stderr, "Invalid magic value")
}

// filesystem lists one volume's files into a body file (spooled to a
// local temporary file, never held in memory), stores it, and adds it to
// the timeline. A volume without a file system is recorded as such.
func (d *diskRun) filesystem(ctx context.Context, pt *Partition) error {
	spool, err := os.CreateTemp("", "firebreak-body-")
	if err != nil {
		return err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	argv := []string{"fls", "-r", "-m", "/", "-o", strconv.FormatInt(pt.Start, 10)}
	if pt.SectorSize != 512 {
		argv = append(argv, "-b", strconv.Itoa(pt.SectorSize))
	}
	err = d.h.run(ctx, append(argv, d.p.Device), spool)
	var te *toolError
	if errors.As(err, &te) && fsUnknown(te.stderr) {
		pt.Reason = "no file system fls reads (" + te.stderr + ")"
		return nil
	}
	if err != nil {
		pt.Reason = err.Error()
		return fmt.Errorf("partition %d: %w", pt.Slot, err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	name := "disk-p" + strconv.Itoa(pt.Slot)
	if pt.Slot < 0 {
		name = "disk"
	}
	a, err := putStream(ctx, d.in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName(name, ".body", d.in), Kind: "bodyfile",
		ContentType: "text/plain", Source: map[string]string{"device": d.p.Device, "host": d.h.where(), "partition": strconv.Itoa(pt.Slot)}}, spool)
	if err != nil {
		return err
	}
	pt.Body = a.URI
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	before := len(d.tl.recs) + d.tl.skipped
	if err := d.tl.add(spool, pt.Slot); err != nil {
		return fmt.Errorf("reading the body file of partition %d: %w", pt.Slot, err)
	}
	pt.Analyzed, pt.Entries = true, len(d.tl.recs)+d.tl.skipped-before
	return nil
}

// writeTimeline stores the sorted timeline twice: JSON lines for the
// console, CSV as mactime writes it for the examiner's tools.
func (d *diskRun) writeTimeline(ctx context.Context, out engine.Outputs) error {
	d.tl.sort()
	src := map[string]string{"device": d.p.Device, "host": d.h.where()}
	var n, deleted int
	a, err := putWriter(ctx, d.in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("timeline", ".jsonl", d.in), Kind: "timeline",
		ContentType: "application/x-ndjson", Source: src}, func(w io.Writer) (err error) {
		n, deleted, err = d.tl.writeJSONL(w)
		return err
	})
	if err != nil {
		return err
	}
	out["timeline"], out["entries"], out["deleted"] = a.URI, n, deleted
	c, err := putWriter(ctx, d.in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("timeline", ".csv", d.in), Kind: "timeline-mactime",
		ContentType: "text/csv", Source: src}, d.tl.writeCSV)
	if err != nil {
		return err
	}
	out["timeline_csv"] = c.URI
	return nil
}
