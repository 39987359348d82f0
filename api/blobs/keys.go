package blobs

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidKey is returned for a key or prefix the store refuses: empty,
// absolute, with "." or ".." or empty segments, control characters or
// backslashes, not UTF-8, or too long. A key made from a client's input
// that ends up here was not checked by its caller.
var ErrInvalidKey = errors.New("blobs: invalid key")

// maxKeyLen is S3's limit on a key, in bytes.
const maxKeyLen = 1024

// checkKey refuses keys that could name something outside their place on
// one backend or another: ".." climbs out of the directory of a file
// store, a leading slash is absolute there, and S3 would take both
// literally, so the same key would mean two things.
func checkKey(key string) error {
	if strings.HasSuffix(key, "/") {
		return invalid(key, "a key does not end with a slash")
	}
	// fileblob keeps each blob's attributes beside it in "<key>.attrs", and
	// refuses such keys: refused everywhere, so that both stores agree.
	if strings.HasSuffix(key, ".attrs") {
		return invalid(key, `a key does not end with ".attrs"`)
	}
	return checkPath(key)
}

// checkPrefix checks a prefix: a directory, so "" (everything) or a path
// that ends with a slash. Without the slash, "uploads/an_1" would also
// take in "uploads/an_10".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !strings.HasSuffix(prefix, "/") {
		return invalid(prefix, "a prefix ends with a slash")
	}
	return checkPath(strings.TrimSuffix(prefix, "/"))
}

func checkPath(p string) error {
	switch {
	case p == "":
		return invalid(p, "empty")
	case len(p) > maxKeyLen:
		return invalid(p[:32]+"…", fmt.Sprintf("longer than %d bytes", maxKeyLen))
	case !utf8.ValidString(p):
		return invalid(p, "not UTF-8")
	case strings.HasPrefix(p, "/"):
		return invalid(p, "absolute")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return invalid(p, "control character or backslash")
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return invalid(p, "empty segment")
		case ".", "..":
			return invalid(p, `"." or ".." segment`)
		}
	}
	return nil
}

func invalid(key, why string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why)
}
