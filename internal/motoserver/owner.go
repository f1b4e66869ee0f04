package motoserver

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNotOurs: something answers on the port, but the socket listening
// there is not the started moto_server's.
var ErrNotOurs = errors.New("another server answers on moto_server's port")

// listensOn proves that process pid holds the socket listening on
// 127.0.0.1:port: the listening socket's inode, from /proc/net/tcp, is one
// of the process's open files. Without /proc (not Linux) there is no such
// proof and the answer on the port is taken as the child's.
func listensOn(pid, port int) error {
	if runtime.GOOS != "linux" {
		return nil
	}
	inode, err := listeningInode("/proc/net/tcp", port)
	if err != nil {
		return err
	}
	if inode == "" {
		return fmt.Errorf("%w: 127.0.0.1:%d answers, but no IPv4 socket listens there", ErrNotOurs, port)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: 127.0.0.1:%d answers, but moto_server (pid %d) has exited", ErrNotOurs, port, pid)
		}
		return fmt.Errorf("reading moto_server's open files: %w", err)
	}
	want := "socket:[" + inode + "]"
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc", fmt.Sprint(pid), "fd", fd.Name())); err == nil && l == want {
			return nil
		}
	}
	return fmt.Errorf("%w: the socket listening on 127.0.0.1:%d is not held by moto_server (pid %d)", ErrNotOurs, port, pid)
}

// listeningInode returns the inode of the socket in LISTEN state on
// 127.0.0.1:port or 0.0.0.0:port in a /proc/net/tcp table, or "".
func listeningInode(table string, port int) (string, error) {
	f, err := os.Open(table)
	if err != nil {
		return "", fmt.Errorf("reading the socket table: %w", err)
	}
	defer f.Close()
	suffix := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], suffix) {
			continue
		}
		if ip := strings.TrimSuffix(fields[1], suffix); ip == "0100007F" || ip == "00000000" {
			return fields[9], nil
		}
	}
	return "", sc.Err()
}
