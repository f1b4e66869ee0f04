package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/firebreak-ir/firebreak/engine"
)

// procRecord is what a command step leaves beside the run's journal while
// its program runs: enough for a later firebreak on the same run (a resume
// after a crash) to find what survived and end it, and to be sure it is
// the same process group and not another that took its numbers since.
type procRecord struct {
	Step    string `json:"step"`
	Item    int    `json:"item"` // -1: not a for_each item
	Attempt int    `json:"attempt"`
	Program string `json:"program"`
	PID     int    `json:"pid"` // the group leader's pid, which is the group's id
	Start   uint64 `json:"start_ticks"`
	Session int    `json:"session"` // firebreak's session, which the group stays in
	Boot    string `json:"boot_id"`
	Owner   int    `json:"owner_pid"` // the firebreak that started it
	OwnerAt uint64 `json:"owner_start_ticks"`
}

// procDir is where a run keeps its procRecords: beside its journal. Empty
// without a journal (such a run cannot be resumed, so nothing is swept).
func procDir(in *engine.StepInput) string {
	if in.RunLogPath == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(in.RunLogPath), "processes")
}

// procNote is a command's record in the run's state dir, from just before
// its program starts until its group is gone.
type procNote struct {
	path string
	rec  procRecord
}

// noteStarting writes the record of a program about to start, without its
// pid: should firebreak die between the start and noteStarted, a later
// sweep knows something may have been left, and says so. Nil when the run
// keeps no state dir or this system has no /proc (nothing could tell the
// group from another later). Failing to write is logged, not fatal.
func noteStarting(in *engine.StepInput, program string) *procNote {
	dir := procDir(in)
	self, err := readStat(os.Getpid())
	if dir == "" || err != nil {
		return nil
	}
	n := &procNote{rec: procRecord{Step: in.StepID, Item: -1, Attempt: in.Attempt, Program: program,
		Session: self.session, Boot: bootID(), Owner: os.Getpid(), OwnerAt: self.start}}
	if in.ForEach {
		n.rec.Item = in.ItemIndex
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	n.path = filepath.Join(dir, fmt.Sprintf("%d-%s.json", os.Getpid(), hex.EncodeToString(b[:])))
	if err := os.MkdirAll(dir, 0o700); err != nil || n.write() != nil {
		logger(in).Warn("the program to start could not be recorded for a resume to find", "error", err)
		return nil
	}
	return n
}

// started completes the record with the program's pid (its group's id) and
// start time. It is the first thing done after the start, before the
// custody event (which waits for the disk): the program is already
// running, and a record written late is a window for firebreak to die in.
func (n *procNote) started(pid int) {
	if n == nil {
		return
	}
	n.rec.PID = pid
	if st, err := readStat(pid); err == nil {
		n.rec.Start = st.start
	}
	_ = n.write()
}

// write replaces the record whole (a rename), so a sweep never reads half.
func (n *procNote) write() error {
	data, _ := json.Marshal(n.rec) // plain fields: it cannot fail
	tmp := n.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, n.path)
}

// done removes the record: the group is gone, nothing is left to find.
func (n *procNote) done() {
	if n != nil {
		_ = os.Remove(n.path)
	}
}

// sweep ends the process groups that an earlier firebreak on this run
// started and left running when it died (a crash, SIGKILL): a resume must
// not run a step again beside what is left of its last attempt. Each one
// ended is a "process.survivor" custody event. Records of this process's
// own programs are left alone; a record is claimed by renaming it first,
// so two steps sweeping at once end a group once.
func sweep(ctx context.Context, in *engine.StepInput) {
	dir := procDir(in)
	if dir == "" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	self, err := readStat(os.Getpid())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		sweepOne(ctx, in, filepath.Join(dir, e.Name()), self)
	}
}

func sweepOne(ctx context.Context, in *engine.StepInput, path string, self procStat) {
	var rec procRecord
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &rec) != nil {
		return
	}
	if rec.Owner == os.Getpid() && rec.OwnerAt == self.start {
		return // one of ours, running now
	}
	claimed := path + ".sweeping"
	if os.Rename(path, claimed) != nil {
		return // another step took it
	}
	defer os.Remove(claimed)
	if rec.Boot != bootID() {
		return // the machine restarted since: nothing of it is left
	}
	if rec.PID <= 1 { // firebreak died while starting it
		_ = in.Evidence.Event(context.WithoutCancel(ctx), "gap", map[string]any{"step": rec.Step, "program": rec.Program,
			"reason": "an earlier firebreak on this run died while starting this program; what it started, if anything, could not be identified: look for it on this host"})
		return
	}
	members := groupMembers(rec)
	if len(members) == 0 {
		return
	}
	killGroup(rec.PID, syscall.SIGKILL)
	awaitGroupGone(rec.PID, killWait)
	detail := map[string]any{"step": rec.Step, "attempt": rec.Attempt, "program": rec.Program, "pid": rec.PID,
		"pgid": rec.PID, "members": members, "killed": !groupAlive(rec.PID), "firebreak_pid": rec.Owner}
	if rec.Item >= 0 {
		detail["item"] = rec.Item
	}
	_ = in.Evidence.Event(context.WithoutCancel(ctx), "process.survivor", detail)
	logger(in).Warn("ended what an earlier firebreak on this run left running", "step", rec.Step, "pgid", rec.PID, "members", members)
}

// groupMembers lists the live processes of rec's group that are its: in
// the group and in firebreak's session, started no earlier than the
// leader. None when the group's id now leads another group (the leader's
// pid taken by a process started later).
func groupMembers(rec procRecord) []int {
	if st, err := readStat(rec.PID); err == nil && st.start != rec.Start {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != rec.PID || st.session != rec.Session || st.start < rec.Start || st.state == 'Z' || st.state == 'X' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// procStat is what the sweep reads of /proc/PID/stat.
type procStat struct {
	state   byte
	pgrp    int
	session int
	start   uint64 // clock ticks after boot
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat reads /proc/PID/stat; the command name before the fields may
// hold spaces and parentheses, so the fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("no command name in stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): pgrp is field 5, session 6, starttime 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("short stat")
	}
	pgrp, err1 := strconv.Atoi(f[2])
	sess, err2 := strconv.Atoi(f[3])
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, err
	}
	return procStat{state: f[0][0], pgrp: pgrp, session: sess, start: start}, nil
}

// bootID names this boot of the machine; pids and start times count from
// it. Empty without /proc.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
