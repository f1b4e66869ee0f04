package analysis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// bodyRecord is one line of a Sleuth Kit body file (fls -m):
//
//	MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime
//
// The name is the only field that can hold a "|" (it is the file system's
// own, chosen by whoever made the file), so a line is read from both ends:
// the first field, the last nine, and the name is what lies between.
// mactime splits on every "|" instead, so a file named
// "x|99|r/r|0|0|5|1577836800|..." forges an entry there (or hides itself);
// here it is one file with that name.
type bodyRecord struct {
	Name    string // as fls wrote it, without the "(deleted)" marker
	Deleted bool   // fls marked it "(deleted)" or "(deleted-realloc)"
	Realloc bool   // "(deleted-realloc)": the name's inode now belongs to another file
	Inode   string // "12", or "12-128-1" on NTFS
	Mode    string // "r/rrw-r--r--"
	UID     int64
	GID     int64
	Size    int64
	Times   [4]int64 // m, a, c, b: seconds since 1970, 0 = unknown
}

const bodyFields = 11

var errNotBody = errors.New("not a body file line")

// parseBodyLine reads one line. Comments and blank lines give errNotBody;
// so does a line whose numeric fields are not numbers (mactime skips
// those too).
func parseBodyLine(line string) (bodyRecord, error) {
	line = strings.TrimRight(line, "\r\n")
	if line == "" || strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
		return bodyRecord{}, errNotBody
	}
	f := strings.Split(line, "|")
	if len(f) < bodyFields {
		return bodyRecord{}, fmt.Errorf("%w: %d fields, want %d", errNotBody, len(f), bodyFields)
	}
	tail := f[len(f)-9:]
	r := bodyRecord{Name: strings.Join(f[1:len(f)-9], "|"), Inode: tail[0], Mode: tail[1]}
	nums := []*int64{&r.UID, &r.GID, &r.Size, &r.Times[1], &r.Times[0], &r.Times[2], &r.Times[3]} // atime precedes mtime in a body file
	for i, p := range nums {
		n, err := strconv.ParseInt(tail[2+i], 10, 64)
		if err != nil {
			return bodyRecord{}, fmt.Errorf("%w: field %d is %q, not a number", errNotBody, len(f)-9+2+i+1, tail[2+i])
		}
		*p = n
	}
	if r.Inode == "" || strings.Trim(r.Inode, "0123456789-") != "" {
		return bodyRecord{}, fmt.Errorf("%w: inode %q", errNotBody, r.Inode)
	}
	r.Name, r.Deleted, r.Realloc = deletedMarker(r.Name)
	return r, nil
}

// deletedMarker strips the marker fls appends to a deleted entry's name.
func deletedMarker(name string) (string, bool, bool) {
	if n, ok := strings.CutSuffix(name, " (deleted-realloc)"); ok {
		return n, true, true
	}
	if n, ok := strings.CutSuffix(name, " (deleted)"); ok {
		return n, true, false
	}
	return name, false, false
}

// bodyName is the name as the body file wrote it, marker included, which
// is what mactime shows.
func (r bodyRecord) bodyName() string {
	switch {
	case r.Realloc:
		return r.Name + " (deleted-realloc)"
	case r.Deleted:
		return r.Name + " (deleted)"
	}
	return r.Name
}
