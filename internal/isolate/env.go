package isolate

import (
	"os"
	"strings"
)

// childVars are the variables a child inherits: what a process needs to
// run (its search path, home and temporary directory, locale, time zone,
// shared libraries), the Go runtime's and the native libraries' tuning,
// and the two trueframe settings children read from the environment.
// Nothing else: children decode untrusted files, and the parent's
// environment can hold secrets (TRUEFRAME_LEDGER_KEY, a node's RPC URL
// with its API key, cloud credentials).
var childVars = []string{
	"PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
	"LD_LIBRARY_PATH", "XDG_CACHE_HOME",
	"GOMAXPROCS", "GOMEMLIMIT", "GOGC", "GODEBUG", "GOTRACEBACK", "GOCOVERDIR",
	"OMP_NUM_THREADS", "ONNXRUNTIME_SHARED_LIBRARY_PATH",
	"TRUEFRAME_DEPS", "TRUEFRAME_GENERATOR_BACKEND",
}

// childPrefixes are families of variables that tune native libraries
// (OpenCV's logging and FFmpeg options, GoMLX's backends).
var childPrefixes = []string{"OPENCV_", "GOMLX_"}

// ChildEnv returns the environment of a child process: the parent's
// variables a child needs (see childVars), then extra ("NAME=value"),
// which wins over an inherited variable of the same name.
func ChildEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if inherited(name) {
			env = append(env, kv)
		}
	}
	// exec.Cmd keeps the last of duplicate names.
	return append(env, extra...)
}

func inherited(name string) bool {
	for _, v := range childVars {
		if name == v {
			return true
		}
	}
	for _, p := range childPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
