// Package testutil finds the shared data, the installed models, the ONNX
// Runtime library and the test engines (PostgreSQL, an S3 server) for
// tests, skipping or failing with a clear message.
package testutil

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/cluster"
	"github.com/trueframe/trueframe/internal/ortutil"
)

// RepoRoot returns the directory holding go.mod, searching up from the
// working directory (go test runs in the package's directory).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// SharedDir returns the shared data folder ($TRUEFRAME_SHARED, default
// ../shared beside the repository) joined with elem, and skips the test
// when it is absent — unless TRUEFRAME_REQUIRE_SHARED=1 (set by .ci/run,
// where the data is always there), which turns the skip into a failure so
// that a missing folder cannot make CI pass by testing nothing.
func SharedDir(tb testing.TB, elem ...string) string {
	tb.Helper()
	root := os.Getenv("TRUEFRAME_SHARED")
	if root == "" {
		root = filepath.Join(RepoRoot(tb), "..", "shared")
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("TRUEFRAME_REQUIRE_SHARED") == "1" {
			tb.Fatalf("shared data %s absent but TRUEFRAME_REQUIRE_SHARED=1: %v", p, err)
		}
		tb.Skipf("shared data %s absent (set TRUEFRAME_SHARED): %v", p, err)
	}
	return p
}

// DepsDir returns the directory scripts/setup installs the ONNX Runtime
// library and models into ($TRUEFRAME_DEPS, default <repo>/deps). The deps are
// part of the build, not optional data, so a missing directory fails the test.
func DepsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("TRUEFRAME_DEPS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(tb), "deps")
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); err != nil {
		tb.Fatalf("deps not installed in %s (run scripts/setup): %v", dir, err)
	}
	return dir
}

// ModelPath returns the path of an installed model file.
func ModelPath(tb testing.TB, file string) string {
	tb.Helper()
	p := filepath.Join(DepsDir(tb), "models", file)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("model %s not installed (run scripts/setup): %v", file, err)
	}
	return p
}

// InitORT initialises ONNX Runtime from the installed library.
func InitORT(tb testing.TB) {
	tb.Helper()
	if err := ortutil.Init(filepath.Join(DepsDir(tb), "lib", "libonnxruntime.so.1.30.0")); err != nil {
		tb.Fatal(err)
	}
}

// Postgres returns the URL of a new, empty PostgreSQL database made for
// this test on the server $TRUEFRAME_TEST_POSTGRES names (scripts/test-engines
// starts one), and drops it when the test ends. Without the variable the
// test is skipped, or fails under TRUEFRAME_REQUIRE_SHARED=1, as in CI.
func Postgres(tb testing.TB) string {
	tb.Helper()
	server := engine(tb, "TRUEFRAME_TEST_POSTGRES")
	dsn, drop, err := cluster.NewDatabase(context.Background(), server)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Errorf("dropping test database: %v", err)
		}
	})
	return dsn
}

// S3 returns a gocloud.dev/blob URL of the test bucket on the S3 server
// $TRUEFRAME_TEST_S3 names (scripts/test-engines starts one), with a prefix
// of its own (blob.OpenBucket applies the prefix= parameter), so that tests
// sharing the bucket never see each other's objects. Without the variable
// the test is skipped, or fails under TRUEFRAME_REQUIRE_SHARED=1.
func S3(tb testing.TB) string {
	tb.Helper()
	u, err := cluster.WithPrefix(engine(tb, "TRUEFRAME_TEST_S3"), "test")
	if err != nil {
		tb.Fatalf("TRUEFRAME_TEST_S3: %v", err)
	}
	return u
}

// engine returns the value of the variable naming a test engine's
// address, skipping the test when it is unset, or failing it where the
// engines must be there (TRUEFRAME_REQUIRE_SHARED=1, as in CI).
func engine(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("TRUEFRAME_REQUIRE_SHARED") == "1" {
			tb.Fatalf("%s is unset but TRUEFRAME_REQUIRE_SHARED=1: start the engines (eval \"$(scripts/test-engines start)\", as make test does)", name)
		}
		tb.Skipf("%s unset: run eval \"$(scripts/test-engines start)\" to test against it", name)
	}
	return v
}
