//go:build unix

package memory

import "syscall"

// allocPartBuffer maps n bytes of anonymous memory, outside the Go heap,
// or falls back to the heap.
func allocPartBuffer(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}
