package analysis

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TimelineEntry is one line of a timeline.jsonl artifact: one file at one
// time, with the kinds of activity that happened to it then. It is the
// shape the console reads; DESIGN.md documents it.
type TimelineEntry struct {
	// Time is RFC 3339 in UTC; empty when the file system recorded no time
	// (mactime's 0000-00-00T00:00:00Z), which only an unbounded timeline holds.
	Time string `json:"time"`
	// Activity is mactime's "macb": m modified, a accessed, c changed
	// (metadata), b born (created), "." for each that did not happen then.
	Activity  string `json:"activity"`
	Path      string `json:"path"`
	Deleted   bool   `json:"deleted"`
	Realloc   bool   `json:"realloc,omitempty"`
	Size      int64  `json:"size"`
	Mode      string `json:"mode"`
	UID       int64  `json:"uid"`
	GID       int64  `json:"gid"`
	Inode     string `json:"inode"`
	Partition int    `json:"partition"` // mmls slot, -1 for a disk without a partition table
}

// window bounds a timeline; a zero bound is open.
type window struct{ From, To time.Time }

func (w window) bounded() bool { return !w.From.IsZero() || !w.To.IsZero() }

func (w window) holds(t int64) bool {
	if !w.bounded() {
		return true
	}
	return t != 0 && (w.From.IsZero() || t >= w.From.Unix()) && (w.To.IsZero() || t <= w.To.Unix())
}

// timeline gathers the entries of every file system of a disk and writes
// them sorted, as mactime does. It holds one record per file and one small
// entry per distinct time of a file, never the image.
type timeline struct {
	win     window
	recs    []timelineRec
	entries []timelineKey
	skipped int // body lines that were not records
}

type timelineRec struct {
	bodyRecord
	partition int
}

type timelineKey struct {
	t     int64
	rec   int32
	flags uint8 // 1 m, 2 a, 4 c, 8 b
}

// add reads one body file.
func (tl *timeline) add(r io.Reader, partition int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rec, err := parseBodyLine(sc.Text())
		if err != nil {
			tl.skipped++
			continue
		}
		tl.addRecord(rec, partition)
	}
	return sc.Err()
}

func (tl *timeline) addRecord(rec bodyRecord, partition int) {
	if rec.Times == [4]int64{} { // mactime: "we need *some* value"
		return
	}
	idx := int32(len(tl.recs))
	tl.recs = append(tl.recs, timelineRec{bodyRecord: rec, partition: partition})
	var seen [4]int64
	var n int
	for i, t := range rec.Times {
		if !tl.win.holds(t) {
			continue
		}
		if j := slices.Index(seen[:n], t); j >= 0 {
			tl.entries[len(tl.entries)-n+j].flags |= 1 << i
			continue
		}
		seen[n] = t
		n++
		tl.entries = append(tl.entries, timelineKey{t: t, rec: idx, flags: 1 << i})
	}
}

// sort orders entries as mactime does: by time, then inode, then name,
// each compared as text.
func (tl *timeline) sort() {
	slices.SortStableFunc(tl.entries, func(a, b timelineKey) int {
		if a.t != b.t {
			return cmpInt(a.t, b.t)
		}
		ra, rb := &tl.recs[a.rec], &tl.recs[b.rec]
		if c := strings.Compare(ra.Inode, rb.Inode); c != 0 {
			return c
		}
		return strings.Compare(ra.bodyName(), rb.bodyName())
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (tl *timeline) entry(k timelineKey) TimelineEntry {
	r := &tl.recs[k.rec]
	e := TimelineEntry{Activity: activity(k.flags), Path: r.Name, Deleted: r.Deleted, Realloc: r.Realloc, Size: r.Size,
		Mode: r.Mode, UID: r.UID, GID: r.GID, Inode: r.Inode, Partition: r.partition}
	if k.t != 0 {
		e.Time = time.Unix(k.t, 0).UTC().Format(time.RFC3339)
	}
	return e
}

func activity(flags uint8) string {
	b := []byte("....")
	for i, c := range "macb" {
		if flags&(1<<i) != 0 {
			b[i] = byte(c)
		}
	}
	return string(b)
}

// writeJSONL writes one TimelineEntry a line. It returns the number of
// entries and of those that are deleted.
func (tl *timeline) writeJSONL(w io.Writer) (n, deleted int, err error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	for _, k := range tl.entries {
		e := tl.entry(k)
		if err := enc.Encode(e); err != nil {
			return n, deleted, err
		}
		n++
		if e.Deleted {
			deleted++
		}
	}
	return n, deleted, bw.Flush()
}

// writeCSV writes what `mactime -d -y -z UTC` writes for the same body
// files (a test holds the two equal on a real image).
func (tl *timeline) writeCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString("Date,Size,Type,Mode,UID,GID,Meta,File Name\n")
	for _, k := range tl.entries {
		r := &tl.recs[k.rec]
		date := "0000-00-00T00:00:00Z"
		if k.t != 0 {
			date = time.Unix(k.t, 0).UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(bw, "%s,%d,%s,%s,%s,%s,%s,\"%s\"\n", date, r.Size, activity(k.flags), r.Mode,
			strconv.FormatInt(r.UID, 10), strconv.FormatInt(r.GID, 10), r.Inode, strings.ReplaceAll(r.bodyName(), `"`, `""`))
	}
	return bw.Flush()
}
