//go:build !unix

package evidence

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// Without flock a local case is not protected against a second writer;
// the custody chain check still refuses a forked log on the next open.
func flock(*os.File) error { return nil }

// Without O_NONBLOCK and O_NOFOLLOW the checks before and after each
// open (lstat, fstat, same file) still refuse links and pipes.
const (
	openNonblock = 0
	openNofollow = 0
)

// hardLinks is not known here: 1.
func hardLinks(os.FileInfo) uint64 { return 1 }
