package memory

import "sync"

// S3 part buffers live outside the Go heap where the platform allows
// (partbuf_unix.go). The SSH library allocates a fresh buffer for every
// packet it reads; the garbage collector lets the heap grow to twice what
// is live, so tens of MiB of part buffers on the heap would double into
// the process's peak memory. Off the heap they count once.
//
// Buffers are pooled by size and never returned to the system: an HTTP
// transport may still read a request body after the call returns, so
// unmapping could fault. The pool holds at most what the most concurrent
// S3 captures needed at once.
var partPool = struct {
	sync.Mutex
	free map[int][][]byte
}{free: map[int][][]byte{}}

// getPartBuffer returns an empty buffer with capacity n.
func getPartBuffer(n int) []byte {
	partPool.Lock()
	if l := partPool.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		partPool.free[n] = l[:len(l)-1]
		partPool.Unlock()
		return b[:0]
	}
	partPool.Unlock()
	return allocPartBuffer(n)[:0]
}

// putPartBuffer gives b back for a later part of the same size.
func putPartBuffer(b []byte) {
	if cap(b) == 0 {
		return
	}
	partPool.Lock()
	defer partPool.Unlock()
	partPool.free[cap(b)] = append(partPool.free[cap(b)], b[:0])
}
