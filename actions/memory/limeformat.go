package memory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// LiME image format: a sequence of ranges, each a 32-byte little-endian
// header followed by the range's bytes.
//
//	u32 magic   0x4C694D45 ("EMiL" on disk)
//	u32 version 1
//	u64 start   physical address of the first byte
//	u64 end     physical address of the last byte (inclusive)
//	u8[8]       reserved
const (
	limeMagic      = 0x4C694D45
	limeVersion    = 1
	limeHeaderSize = 32
	// maxLimeRange rejects a header whose range could not be RAM (1 PiB),
	// which is how a corrupt header usually shows.
	maxLimeRange = 1 << 50
)

// ErrLiMEFormat is wrapped by every LiME parsing error.
var ErrLiMEFormat = errors.New("bad LiME image")

// LimeRange is one physical memory range of a LiME image.
type LimeRange struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"` // inclusive, as LiME writes it
}

// limeParser checks a LiME stream as it passes, without holding it: it
// keeps only the current header and how much of the range is left.
type limeParser struct {
	hdr    [limeHeaderSize]byte
	have   int    // header bytes buffered
	remain uint64 // bytes of the current range still to come
	off    int64  // stream offset, for messages
	Ranges []LimeRange
	// Want, when set, is the target's RAM layout (/proc/iomem): the image
	// must hold exactly these ranges, in this order.
	Want []LimeRange
}

// Write implements io.Writer; it fails at the first bad header.
func (p *limeParser) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if p.remain > 0 {
			c := min(uint64(len(b)), p.remain)
			p.remain -= c
			p.off += int64(c)
			b = b[c:]
			continue
		}
		c := copy(p.hdr[p.have:], b)
		p.have += c
		b = b[c:]
		if p.have < limeHeaderSize {
			continue
		}
		if err := p.header(); err != nil {
			return 0, err
		}
		p.off += limeHeaderSize
		p.have = 0
	}
	return n, nil
}

func (p *limeParser) header() error {
	h := p.hdr[:]
	magic := binary.LittleEndian.Uint32(h[0:])
	version := binary.LittleEndian.Uint32(h[4:])
	start := binary.LittleEndian.Uint64(h[8:])
	end := binary.LittleEndian.Uint64(h[16:])
	switch {
	case magic != limeMagic:
		return fmt.Errorf("%w: header %d at offset %d has magic %#x, want %#x", ErrLiMEFormat, len(p.Ranges)+1, p.off, magic, limeMagic)
	case version != limeVersion:
		return fmt.Errorf("%w: header %d at offset %d has version %d, want %d", ErrLiMEFormat, len(p.Ranges)+1, p.off, version, limeVersion)
	case end < start || end-start >= maxLimeRange:
		return fmt.Errorf("%w: header %d at offset %d has range %#x-%#x", ErrLiMEFormat, len(p.Ranges)+1, p.off, start, end)
	case len(p.Ranges) > 0 && start <= p.Ranges[len(p.Ranges)-1].End:
		return fmt.Errorf("%w: header %d at offset %d starts at %#x, inside or before the previous range", ErrLiMEFormat, len(p.Ranges)+1, p.off, start)
	case p.Want != nil && len(p.Ranges) >= len(p.Want):
		return fmt.Errorf("%w: header %d at offset %d (%#x-%#x) is past the %d System RAM ranges of /proc/iomem", ErrLiMEFormat, len(p.Ranges)+1, p.off, start, end, len(p.Want))
	case p.Want != nil && (p.Want[len(p.Ranges)] != LimeRange{Start: start, End: end}):
		w := p.Want[len(p.Ranges)]
		return fmt.Errorf("%w: header %d at offset %d is %#x-%#x, /proc/iomem lists %#x-%#x", ErrLiMEFormat, len(p.Ranges)+1, p.off, start, end, w.Start, w.End)
	}
	p.Ranges = append(p.Ranges, LimeRange{Start: start, End: end})
	p.remain = end - start + 1
	return nil
}

// Finish reports whether the stream ended on a range boundary, after at
// least one range, and, when Want is set, after the last wanted range.
func (p *limeParser) Finish() error {
	switch {
	case p.remain > 0:
		return fmt.Errorf("%w: stream ended %d bytes short of the end of range %d (%#x-%#x)", ErrTruncated, p.remain,
			len(p.Ranges), p.Ranges[len(p.Ranges)-1].Start, p.Ranges[len(p.Ranges)-1].End)
	case p.have > 0:
		return fmt.Errorf("%w: stream ended inside a header (%d of %d bytes)", ErrTruncated, p.have, limeHeaderSize)
	case len(p.Ranges) == 0:
		return fmt.Errorf("%w: stream held no LiME range", ErrTruncated)
	case len(p.Ranges) < len(p.Want):
		next := p.Want[len(p.Ranges)]
		return fmt.Errorf("%w: stream ended after range %d of the %d System RAM ranges in /proc/iomem (%#x-%#x missing)", ErrTruncated,
			len(p.Ranges), len(p.Want), next.Start, next.End)
	}
	return nil
}

// wireSize is the number of bytes the ranges take on the wire.
func (p *limeParser) wireSize() int64 {
	var n int64
	for _, r := range p.Ranges {
		n += limeHeaderSize + int64(r.End-r.Start+1)
	}
	return n
}

// appendLimeRange appends a LiME header for [start, end] to b; tests and
// tools build images with it.
func appendLimeRange(b []byte, start, end uint64) []byte {
	var h [limeHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:], limeMagic)
	binary.LittleEndian.PutUint32(h[4:], limeVersion)
	binary.LittleEndian.PutUint64(h[8:], start)
	binary.LittleEndian.PutUint64(h[16:], end)
	return append(b, h[:]...)
}

// LimeSegment is one range of a LiME image file: where its bytes lie in
// the file and in physical memory.
type LimeSegment struct {
	LimeRange
	Offset int64 // file offset of the range's first byte (after its header)
}

// Physical maps a file offset to the physical address it holds, or false
// when the offset lies in a header or past the image.
func Physical(segs []LimeSegment, off int64) (uint64, bool) {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].Offset+int64(segs[i].End-segs[i].Start) >= off })
	if i == len(segs) || off < segs[i].Offset {
		return 0, false
	}
	return segs[i].Start + uint64(off-segs[i].Offset), true
}

// LimeLayout reads the headers of a LiME image of size bytes, seeking from
// one to the next (the ranges themselves are never read), with the checks
// a capture makes of its stream. It fails on an image that is not LiME or
// is cut short.
func LimeLayout(r io.ReaderAt, size int64) ([]LimeSegment, error) {
	p := &limeParser{}
	var segs []LimeSegment
	for off := int64(0); off < size; {
		if _, err := r.ReadAt(p.hdr[:], off); err != nil {
			return nil, fmt.Errorf("%w: reading header %d at offset %d: %v", ErrLiMEFormat, len(p.Ranges)+1, off, err)
		}
		p.off = off
		if err := p.header(); err != nil {
			return nil, err
		}
		rg := p.Ranges[len(p.Ranges)-1]
		segs = append(segs, LimeSegment{LimeRange: rg, Offset: off + limeHeaderSize})
		off += limeHeaderSize + int64(p.remain)
		if off > size {
			return nil, fmt.Errorf("%w: range %d (%#x-%#x) runs %d bytes past the end of the image", ErrTruncated, len(segs), rg.Start, rg.End, off-size)
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("%w: the image is empty", ErrTruncated)
	}
	return segs, nil
}

// IsLime reports whether b starts with a LiME header's magic.
func IsLime(b []byte) bool { return len(b) >= 4 && binary.LittleEndian.Uint32(b) == limeMagic }
