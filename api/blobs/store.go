package blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/s3blob" // s3://
	"gocloud.dev/gcerrors"
	"golang.org/x/sync/errgroup"
)

// ErrNotFound is returned when a blob does not exist.
var ErrNotFound = errors.New("blobs: not found")

// Streams to S3 go up in parts of partSize, at most partUploads at once:
// what an upload holds in memory, whatever its size.
const (
	partSize    = 8 << 20
	partUploads = 2
)

// parallel bounds the requests PutDir and DeleteAll make at once.
const parallel = 8

// Store is a blob store. All methods are safe for concurrent use. Callers
// must call Close.
type Store struct {
	bucket *blob.Bucket
	url    string // for String
	// dir is the directory of a file store, prefix included ("" for other
	// stores): fileblob leaves directories behind, and writes no data to
	// disk until told to.
	dir string
}

// Open opens the blob store at rawURL:
//
//   - file:///abs/dir, or a plain directory path: a directory, created
//     (0700) when missing. fileblob's query parameters apply.
//   - s3://bucket?endpoint=http://host:port&region=R&use_path_style=true:
//     a bucket of an S3-compatible server (for AWS itself, leave out
//     endpoint and use_path_style). Credentials come from the AWS
//     environment variables or configuration files, never the URL. See
//     gocloud.dev/blob/s3blob and gocloud.dev/aws for the other parameters.
//
// prefix=some/dir/ in the query keeps every key under that prefix, so that
// several services (or tests) can share one bucket. An S3 bucket must
// exist and be reachable: Open checks.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("blobs: prefix of %s: %w", u.Redacted(), err)
	}
	s := &Store{url: u.Redacted()}
	switch u.Scheme {
	case fileblob.Scheme:
		s.dir = u.Path
		if u.Host == "." {
			if s.dir, err = filepath.Abs(strings.TrimPrefix(u.Path, "/")); err != nil {
				return nil, err
			}
		}
		s.dir = filepath.Join(s.dir, filepath.FromSlash(prefix))
		for k, v := range map[string]string{
			"create_dir":    "1",
			"dir_file_mode": "0700",
			// Temporary files beside the blobs, not in os.TempDir: the
			// rename that completes a write fails across file systems, and
			// /tmp is often another one.
			"no_tmp_dir": "1",
		} {
			if !q.Has(k) {
				q.Set(k, v)
			}
		}
	case "s3":
		// The SDK validates response checksums when the server sends them,
		// and logs a line to stderr for every read when it does not, as
		// many S3-compatible servers do not. What is fetched for analysis is
		// checked against its SHA-256 anyway.
		if !q.Has("response_checksum_validation") {
			q.Set("response_checksum_validation", "when_required")
		}
	default:
		return nil, fmt.Errorf("blobs: %s: unsupported store (want file:// or s3://, or a directory)", u.Redacted())
	}
	u.RawQuery = q.Encode()
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("blobs: opening %s: %w", s.url, err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix)
	}
	s.bucket = b
	if ok, err := b.IsAccessible(ctx); !ok || err != nil {
		b.Close()
		if err == nil {
			err = errors.New("the bucket does not exist")
		}
		return nil, fmt.Errorf("blobs: %s is not accessible: %w", s.url, err)
	}
	return s, nil
}

// parseURL reads a store URL; a plain path is a file store.
func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("blobs: no store URL")
	}
	if !strings.Contains(raw, "://") {
		dir, err := filepath.Abs(raw)
		if err != nil {
			return nil, err
		}
		return &url.URL{Scheme: fileblob.Scheme, Path: filepath.ToSlash(dir)}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("blobs: store URL: %w", err)
	}
	return u, nil
}

// String returns the store's URL, without a password if it had one.
func (s *Store) String() string { return s.url }

// Close releases the store's connections.
func (s *Store) Close() error { return s.bucket.Close() }

// PutOptions tune a Put. The zero value (or nil) is usable.
type PutOptions struct {
	// ContentType is stored with the blob; default application/octet-stream.
	ContentType string
}

// Put stores what r yields under key, replacing any blob there, and
// returns its size and SHA-256 (hex), computed on the way. It streams: an
// upload holds a few parts in memory (S3) or none (files), whatever its
// size. The blob appears whole or not at all: when r or the store fails,
// nothing is stored. On a file store the data is on disk when Put returns.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts *PutOptions) (size int64, sum string, err error) {
	if err := checkKey(key); err != nil {
		return 0, "", err
	}
	contentType := "application/octet-stream"
	if opts != nil && opts.ContentType != "" {
		contentType = opts.ContentType
	}
	// A write is abandoned by cancelling its context before Close.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var file *os.File // a file store's temporary file, to sync
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{
		ContentType: contentType, BufferSize: partSize, MaxConcurrency: partUploads,
		BeforeWrite: func(as func(any) bool) error { as(&file); return nil },
	})
	if err != nil {
		return 0, "", s.wrap("storing", key, err)
	}
	h := sha256.New()
	size, err = io.Copy(w, io.TeeReader(r, h))
	if err == nil && file != nil {
		err = file.Sync()
	}
	if err != nil {
		cancel()
		w.Close()
		return 0, "", s.wrap("storing", key, err)
	}
	if err := w.Close(); err != nil {
		return 0, "", s.wrap("storing", key, err)
	}
	if s.dir != "" {
		syncDir(filepath.Dir(s.path(key))) // the rename that completed the write
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// PutFile stores the file at path under key; see Put.
func (s *Store) PutFile(ctx context.Context, key, path string, opts *PutOptions) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	return s.Put(ctx, key, f, opts)
}

// PutDir stores every regular file under dir as prefix + its path relative
// to dir (slash-separated), with a content type from its extension, and
// returns how many it stored. Other files (symbolic links, devices) are
// skipped. On error some files may have been stored.
func (s *Store) PutDir(ctx context.Context, prefix, dir string) (int, error) {
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("blobs: reading %s: %w", dir, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, p := range files {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return 0, err
		}
		g.Go(func() error {
			_, _, err := s.PutFile(gctx, prefix+filepath.ToSlash(rel), p, &PutOptions{ContentType: mime.TypeByExtension(filepath.Ext(p))})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(files), nil
}

// Attributes describe a blob.
type Attributes struct {
	Size        int64
	ModTime     time.Time
	ContentType string
}

// Attributes returns the attributes of the blob at key, or ErrNotFound.
func (s *Store) Attributes(ctx context.Context, key string) (Attributes, error) {
	if err := checkKey(key); err != nil {
		return Attributes{}, err
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Attributes{}, s.wrap("reading the attributes of", key, err)
	}
	return Attributes{Size: a.Size, ModTime: a.ModTime, ContentType: a.ContentType}, nil
}

// Exists reports whether a blob is stored at key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, s.wrap("looking for", key, err)
	}
	return ok, nil
}

// Fetch copies the blob at key to the local file dst (its directory is
// created if needed) and returns its size and SHA-256 (hex). The copy is
// written to a temporary file beside dst, synced, then renamed: dst is
// never a partial copy, even after a crash, so a file found at dst can be
// used as it is. On error dst is unchanged.
func (s *Store) Fetch(ctx context.Context, key, dst string) (size int64, sum string, err error) {
	r, err := s.NewReader(ctx, key)
	if err != nil {
		return 0, "", err
	}
	defer r.Close()
	size, sum, err = writeAtomic(dst, r, r.Size())
	if err != nil {
		return 0, "", fmt.Errorf("blobs: fetching %q: %w", key, err)
	}
	return size, sum, nil
}

// writeAtomic writes what r yields, which must be size bytes, to dst
// through a temporary file renamed once complete and synced.
func writeAtomic(dst string, r io.Reader, size int64) (n int64, sum string, err error) {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, "", err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return 0, "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if n, err = io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		return 0, "", err
	}
	// A blob that changed under us, or a body cut short without an error,
	// must not pass for the whole blob.
	if n != size {
		return 0, "", fmt.Errorf("got %d bytes of %d", n, size)
	}
	if err := tmp.Sync(); err != nil {
		return 0, "", err
	}
	if err := tmp.Close(); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, "", err
	}
	syncDir(dir)
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Object is a blob in a listing.
type Object struct {
	Key     string // the whole key, prefix included
	Size    int64
	ModTime time.Time
}

// List returns the blobs whose keys start with prefix ("" for all), at any
// depth, sorted by key.
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var out []Object
	err := s.walk(ctx, prefix, func(obj *blob.ListObject) {
		if s.dir == "" || !fileTemp.MatchString(obj.Key) {
			out = append(out, Object{Key: obj.Key, Size: obj.Size, ModTime: obj.ModTime})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// walk calls fn with every blob under prefix.
func (s *Store) walk(ctx context.Context, prefix string, fn func(*blob.ListObject)) error {
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return s.wrap("listing", prefix, err)
		}
		if !obj.IsDir {
			fn(obj)
		}
	}
}

// fileTemp matches the temporary files of fileblob's writes in progress
// (or abandoned by a crash): "<key>.<hex nanoseconds>.tmp". They are not
// blobs, but they are deleted with their prefix.
var fileTemp = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// Delete removes the blob at key, or returns ErrNotFound.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, key); err != nil {
		return s.wrap("deleting", key, err)
	}
	return nil
}

// DeleteAll removes every blob under prefix, which must not be empty, and
// returns how many it removed. Blobs deleted meanwhile by someone else are
// not an error.
func (s *Store) DeleteAll(ctx context.Context, prefix string) (int, error) {
	if prefix == "" {
		return 0, invalid(prefix, "DeleteAll needs a prefix")
	}
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	var keys []string
	if err := s.walk(ctx, prefix, func(obj *blob.ListObject) { keys = append(keys, obj.Key) }); err != nil {
		return 0, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, k := range keys {
		g.Go(func() error {
			if err := s.bucket.Delete(gctx, k); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return s.wrap("deleting", k, err)
			}
			return nil
		})
	}
	err := g.Wait()
	if s.dir != "" {
		removeEmptyDirs(s.path(prefix))
	}
	if err != nil {
		return 0, err
	}
	return len(keys), nil
}

// path is where a file store keeps key. Checked keys need none of
// fileblob's escapes, so the mapping is direct.
func (s *Store) path(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// removeEmptyDirs removes dir and the directories under it that are empty,
// deepest first: a file store would otherwise keep one empty directory
// for every job it ever had.
func removeEmptyDirs(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for _, d := range slices.Backward(dirs) {
		os.Remove(d) // fails, as it should, on one that is not empty
	}
}

// syncDir makes the entries of dir (a rename into it) durable. Best effort:
// not every file system can sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// wrap adds the operation and key to err, and ErrNotFound when the store
// says the blob does not exist.
func (s *Store) wrap(op, key string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidKey) {
		return err
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %s %q: %w", ErrNotFound, op, key, err)
	}
	return fmt.Errorf("blobs: %s %q: %w", op, key, err)
}
