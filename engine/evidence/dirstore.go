package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Evidence is private to the operator, as the journal is: instance
// metadata holds user data and its secrets, memory images hold everything.
const (
	filePerm = 0o600
	dirPerm  = 0o700
)

// DirStore is a Store in a local directory. Put writes to a temporary file
// beside the target, fsyncs and renames it into place, so a reader never
// sees a partial object. It is safe for concurrent use.
type DirStore struct {
	root string
	// mu serialises Appends: O_APPEND writes of one line are atomic on
	// local file systems, but the lock also keeps fsync order equal to
	// write order.
	mu sync.Mutex
}

var _ Store = (*DirStore)(nil)

// NewDirStore returns a store rooted at dir, creating it when missing.
func NewDirStore(dir string) (*DirStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("creating evidence dir %q: %w", abs, err)
	}
	return &DirStore{root: abs}, nil
}

// Root returns the store's absolute directory.
func (d *DirStore) Root() string { return d.root }

// open checks key and opens the store's root, through which every file
// operation goes: os.Root refuses paths, symlinks included, that lead
// outside it, so a link planted in the evidence dir cannot redirect a write.
func (d *DirStore) open(key string) (*os.Root, string, error) {
	if err := CheckKey(key); err != nil {
		return nil, "", err
	}
	root, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, "", fmt.Errorf("opening evidence dir %q: %w", d.root, err)
	}
	return root, filepath.FromSlash(key), nil
}

// full turns a write error into one that says what to do when the disk is full.
func (d *DirStore) full(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("evidence dir %q is full: %w; what was stored before is intact: free space or use another --evidence location, then resume", d.root, err)
	}
	return err
}

// Put implements Store.
func (d *DirStore) Put(ctx context.Context, key string, r io.Reader) (ObjectInfo, error) {
	root, name, err := d.open(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer root.Close()
	dir := filepath.Dir(name)
	if err := root.MkdirAll(dir, dirPerm); err != nil {
		return ObjectInfo{}, d.full(fmt.Errorf("creating %q: %w", dir, err))
	}
	if err := realDirs(root, name); err != nil {
		return ObjectInfo{}, fmt.Errorf("storing %q: %w", key, err)
	}
	tmpName := filepath.Join(dir, "."+filepath.Base(name)+".part-"+randomHex())
	tmp, err := root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return ObjectInfo{}, d.full(fmt.Errorf("storing %q: %w", key, err))
	}
	info, err := d.write(ctx, tmp, r)
	if err == nil {
		err = root.Rename(tmpName, name)
	}
	if err != nil {
		_ = root.Remove(tmpName)
		return ObjectInfo{}, d.full(fmt.Errorf("storing %q: %w", key, err))
	}
	syncDir(root, dir)
	info.URI = d.URI(key)
	return info, nil
}

// write copies r into f, hashing as it goes, and fsyncs and closes f.
func (d *DirStore) write(ctx context.Context, f *os.File, r io.Reader) (ObjectInfo, error) {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// syncDir makes a rename durable. Failure is not fatal: the data is synced.
func syncDir(root *os.Root, dir string) {
	if f, err := root.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// Open implements Store.
func (d *DirStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	root, name, err := d.open(key)
	if err != nil {
		return nil, err
	}
	defer root.Close() // an open file outlives its Root
	if segs := d.segments(root, key); len(segs) > 0 {
		return d.joinSegments(root, key, segs)
	}
	return openRegularIn(root, name, os.O_RDONLY, 0)
}

// Append implements Store.
func (d *DirStore) Append(_ context.Context, key string, line []byte) error {
	root, name, err := d.open(key)
	if err != nil {
		return err
	}
	defer root.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	if segs := d.segments(root, key); len(segs) > 0 {
		name = filepath.FromSlash(segs[len(segs)-1]) // a log copied from S3 goes on in its last segment
	}
	if err := root.MkdirAll(filepath.Dir(name), dirPerm); err != nil {
		return d.full(fmt.Errorf("creating %q: %w", filepath.Dir(name), err))
	}
	f, err := openRegularIn(root, name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, filePerm)
	if err != nil {
		return d.full(fmt.Errorf("appending to %q: %w", key, err))
	}
	var before int64
	if fi, serr := f.Stat(); serr == nil {
		before = fi.Size()
	}
	buf := append(append(make([]byte, 0, len(line)+1), line...), '\n')
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// A short write would leave half a line that breaks every later
		// line's parse; cut it off so the log stays as it was.
		_ = f.Truncate(before)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return d.full(fmt.Errorf("appending to %q: %w", key, err))
	}
	return nil
}

// Stat implements Store. It does not hash the object.
func (d *DirStore) Stat(_ context.Context, key string) (ObjectInfo, error) {
	root, name, err := d.open(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer root.Close()
	fi, err := lstatRegular(root, name)
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{URI: d.URI(key), Size: fi.Size()}, nil
}

// URI implements Store: a file:// URL of the key's absolute path.
func (d *DirStore) URI(key string) string {
	u := url.URL{Scheme: "file", Path: path.Join(filepath.ToSlash(d.root), key)}
	return u.String()
}

// ctxReader stops a long copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var _ Lister = (*DirStore)(nil)

// List implements Lister: the entries under prefix, links and pipes
// named as what they are and never followed.
func (d *DirStore) List(ctx context.Context, prefix string) ([]Listed, error) {
	dir := strings.TrimSuffix(prefix, "/")
	root, name, err := d.openDir(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := realDirs(root, filepath.Join(name, "x")); err != nil {
		return nil, err
	}
	var out []Listed
	err = fs.WalkDir(root.FS(), filepath.ToSlash(name), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		if len(out) == MaxListed {
			return fmt.Errorf("%s holds more than %d entries", Printable(dir), MaxListed)
		}
		e := Listed{Key: p}
		fi, err := de.Info()
		switch {
		case err != nil:
			return err
		case fi.Mode().IsRegular():
			e.Size = fi.Size()
		default:
			e.NotRegular = fileKind(fi.Mode())
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// openDir is open for a folder key, "" being the store's root.
func (d *DirStore) openDir(dir string) (*os.Root, string, error) {
	if dir != "" {
		return d.open(dir)
	}
	root, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, "", fmt.Errorf("opening evidence dir %q: %w", d.root, err)
	}
	return root, ".", nil
}
