package analysis

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
)

// Partition is one volume mmls found, as the analyze-disk outputs list it.
type Partition struct {
	Slot        int    `json:"slot"` // mmls's entry number; -1 for a disk without a partition table
	Start       int64  `json:"start_sector"`
	Sectors     int64  `json:"sectors"`
	SectorSize  int    `json:"sector_size"`
	Description string `json:"description"`
	// Analyzed is true when fls read a file system there; Reason says why
	// not (swap, an unknown file system, a container).
	Analyzed bool   `json:"analyzed"`
	Reason   string `json:"reason,omitempty"`
	Entries  int    `json:"entries"` // body file lines (files and directories) read
	Body     string `json:"body,omitempty"`
}

var (
	mmlsRow   = regexp.MustCompile(`^(\d+):\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$`)
	mmlsUnits = regexp.MustCompile(`Units are in (\d+)-byte sectors`)
)

// parseMMLS reads mmls's table and returns the volumes that may hold a
// file system: the partition table's own entries ("Meta") and the gaps
// ("-------", unallocated) are left out.
func parseMMLS(out string) []Partition {
	size := 512
	var parts []Partition
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := mmlsUnits.FindStringSubmatch(line); m != nil {
			size, _ = strconv.Atoi(m[1])
			continue
		}
		m := mmlsRow.FindStringSubmatch(line)
		if m == nil || m[2] == "Meta" || strings.HasPrefix(m[2], "---") {
			continue
		}
		slot, _ := strconv.Atoi(m[1])
		start, _ := strconv.ParseInt(m[3], 10, 64)
		length, _ := strconv.ParseInt(m[5], 10, 64)
		parts = append(parts, Partition{Slot: slot, Start: start, Sectors: length, SectorSize: size, Description: strings.TrimSpace(m[6])})
	}
	return parts
}
