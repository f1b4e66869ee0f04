package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// Journal entry kinds. The first line of a journal is always a kindRun.
const (
	kindRun    = "run"    // header: the run as it started
	kindResume = "resume" // a Resume began
	kindStep   = "step"   // a step changed state
	kindItem   = "item"   // one for_each item changed state
	kindEnd    = "end"    // Run or Resume returned, with the run's status
)

// Header is the first line of a journal: what the run was started with.
type Header struct {
	RunID     string             `json:"run_id"`
	CaseID    string             `json:"case_id,omitempty"`
	Playbook  engine.PlaybookRef `json:"playbook"`
	Inputs    map[string]any     `json:"inputs,omitempty"`
	Finding   map[string]any     `json:"finding,omitempty"`
	Incident  map[string]any     `json:"incident,omitempty"`
	Operator  string             `json:"operator,omitempty"`
	StartedAt time.Time          `json:"started_at"`
}

// entry is one journal line.
type entry struct {
	Kind    string         `json:"kind"`
	Time    time.Time      `json:"time"`
	Header  *Header        `json:"header,omitempty"`
	Step    string         `json:"step,omitempty"`
	Action  string         `json:"action,omitempty"`
	Index   *int           `json:"index,omitempty"` // kindItem
	Key     string         `json:"key,omitempty"`   // kindItem: the item's value as JSON
	Count   *int           `json:"count,omitempty"` // kindStep of a for_each: number of items
	Status  string         `json:"status,omitempty"`
	Attempt int            `json:"attempt,omitempty"`
	Error   string         `json:"error,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Outputs engine.Outputs `json:"outputs,omitempty"`
}

// journal appends entries to a run's journal file. It is used by the
// coordinator goroutine only. Entries are buffered by add and made durable
// together (one write, one fsync: group commit), either by flush or in the
// background by startSync, whose answer comes on done. The coordinator
// starts a unit only once the sync covering its "started" entry returned,
// so every state change is on disk before it is acted on.
//
// A write or sync that fails cuts the file back to the end of the last
// good write and breaks the journal: nothing more is written to it, so a
// half line left by a full disk is never followed by more lines, and the
// journal stays loadable and resumable once space comes back.
type journal struct {
	f       journalFile
	path    string
	buf     []byte
	syncing bool       // a startSync has not answered yet
	done    chan error // startSync's answer
	off     int64      // the end of the last good write
	broken  error      // the first failed write or sync: write nothing more
}

// journalFile is what the journal needs of its file; *os.File has it.
// Tests put a failing file in its place.
type journalFile interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Close() error
}

// errLocked: another process holds the journal: the run is live.
var errLocked = errors.New("journal locked by a live run")

// JournalPath is where the journal of run runID lives under stateDir.
func JournalPath(stateDir, runID string) string {
	return filepath.Join(stateDir, "runs", runID, "journal.jsonl")
}

// createJournal starts the journal of a new run; it refuses an existing one.
func createJournal(stateDir, runID string) (*journal, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, err
	}
	path := JournalPath(stateDir, runID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the run's state dir: %w; check --state-dir", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return nil, fmt.Errorf("run %q already has a journal: use `firebreak resume %s` or a new run id: %w", runID, runID, err)
		}
		return nil, fmt.Errorf("creating the journal: %w", err)
	}
	if err := lockJournal(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the journal %q: %w", path, err)
	}
	return newJournal(f, path, 0), nil
}

func newJournal(f journalFile, path string, off int64) *journal {
	return &journal{f: f, path: path, off: off, done: make(chan error, 1)}
}

// lockForResume opens and locks a journal for Resume before it is read, so
// that no other process can go on writing it meanwhile.
func lockForResume(stateDir, runID string) (*os.File, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, err
	}
	path := JournalPath(stateDir, runID)
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no run %q in %q: see `firebreak runs` for the runs there: %w", runID, stateDir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the journal of run %q: %w", runID, err)
	}
	if err := lockJournal(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("the run is going on in another firebreak process; wait for it or stop it first: %w", err)
		}
		return nil, fmt.Errorf("locking the journal %q: %w", path, err)
	}
	return f, nil
}

// reopenJournal continues a locked journal for Resume. It cuts the file to
// size, the end of its last whole line, so that a line torn by a crash is
// not glued to the next one.
func reopenJournal(f *os.File, size int64) (*journal, error) {
	if err := f.Truncate(size); err != nil {
		return nil, fmt.Errorf("cutting the torn end off the journal %q: %w", f.Name(), err)
	}
	if _, err := f.Seek(size, 0); err != nil {
		return nil, fmt.Errorf("seeking the journal %q: %w", f.Name(), err)
	}
	return newJournal(f, f.Name(), size), nil
}

// add buffers e. It fails only when e cannot be encoded (an action's
// outputs that are not JSON).
func (j *journal) add(e *entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.buf = append(append(j.buf, b...), '\n')
	return nil
}

// flush writes what add buffered and syncs it to disk. It must not be
// called while a startSync is in flight.
func (j *journal) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	err := j.write(j.buf)
	j.buf = j.buf[:0]
	return err
}

// startSync hands what add buffered to a goroutine that writes and syncs
// it, and answers on done. One sync is in flight at a time, so lines stay
// in order.
func (j *journal) startSync() {
	data := j.buf
	j.buf, j.syncing = nil, true
	go func() { j.done <- j.write(data) }()
}

// write appends data and syncs it. Once a write failed it writes nothing
// and returns that first error.
func (j *journal) write(data []byte) error {
	if j.broken != nil {
		return j.broken
	}
	if _, err := j.f.Write(data); err != nil {
		return j.breakOff(fmt.Errorf("writing the journal %q: %w; free disk space, then resume the run", j.path, err))
	}
	if err := j.f.Sync(); err != nil {
		return j.breakOff(fmt.Errorf("syncing the journal %q: %w; resume the run once the disk is healthy", j.path, err))
	}
	j.off += int64(len(data))
	return nil
}

// breakOff marks the journal broken by err and cuts off what the failed
// write may have left (a torn line, or lines whose sync failed: none of
// them was acted on).
func (j *journal) breakOff(err error) error {
	if terr := j.f.Truncate(j.off); terr != nil {
		err = fmt.Errorf("%w (and cutting it back to its last good line: %w)", err, terr)
	} else if _, serr := j.f.Seek(j.off, io.SeekStart); serr != nil {
		err = fmt.Errorf("%w (and seeking its last good line: %w)", err, serr)
	}
	j.broken = err
	return err
}

// close writes what is buffered, unless the journal is broken, and closes
// the file. It reports the error that broke the journal.
func (j *journal) close() error {
	err := j.flush()
	if j.broken != nil {
		err = j.broken
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
