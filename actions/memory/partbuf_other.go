//go:build !unix

package memory

func allocPartBuffer(n int) []byte { return make([]byte, n) }
