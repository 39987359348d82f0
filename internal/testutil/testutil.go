// Package testutil finds the shared data, the installed models and the ONNX
// Runtime library for tests, skipping or failing with a clear message.
package testutil

import (
	"os"
	"path/filepath"
	"testing"

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
