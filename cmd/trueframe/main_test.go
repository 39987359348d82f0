package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// With TRUEFRAME_CLI_TEST set, the test binary is trueframe itself: the
// tests run it as a subprocess. It is too when its first argument is not a
// flag (go test always passes -test.* flags first): scan and serve start it
// again as their worker or generator child, with a minimal environment
// that does not carry TRUEFRAME_CLI_TEST.
func TestMain(m *testing.M) {
	if os.Getenv("TRUEFRAME_CLI_TEST") == "1" || (len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-")) {
		os.Exit(runWithSignals(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

func trueframe(t *testing.T, args ...string) result {
	t.Helper()
	return trueframeWith(t, runOptions{}, args...)
}

// runOptions are what a test may change about how trueframe is run.
type runOptions struct {
	dir string   // working directory (default: the test's)
	env []string // NAME=value added to the environment
}

func trueframeWith(t *testing.T, opts runOptions, args ...string) result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Dir = opts.dir
	cmd.Env = append(append(os.Environ(), "TRUEFRAME_CLI_TEST=1", "TRUEFRAME_DEPS="+testutil.DepsDir(t)), opts.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

func TestScanJSON(t *testing.T) {
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "lbax4n.mpg") // api's goldenClip: why this one
	// Flags after the file, as most command lines allow.
	r := trueframe(t, "scan", clip, "--json", "--evidence-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	for _, key := range []string{"file", "sha256", "score", "verdict", "detectors", "faces", "timeline", "duration_s"} {
		if _, ok := rep[key]; !ok {
			t.Errorf("report lacks %q", key)
		}
	}
	dets, _ := rep["detectors"].(map[string]any)
	for _, name := range []string{"blink", "skin_tone", "edges"} {
		d, _ := dets[name].(map[string]any)
		if _, ok := d["score"].(float64); !ok {
			t.Errorf("detectors.%s.score missing: %v", name, d)
		}
		if _, ok := d["confidence"].(float64); !ok {
			t.Errorf("detectors.%s.confidence missing", name)
		}
	}
	if d, _ := rep["duration_s"].(float64); d < 2.9 || d > 3.1 {
		t.Errorf("duration_s = %v, want 3", d)
	}
	if tl, _ := rep["timeline"].([]any); len(tl) != 3 {
		t.Errorf("timeline has %d seconds, want 3", len(tl))
	}
	// The whole report, as the service gives it too (api's
	// TestAnalysisLifecycle compares its report with the same file).
	testutil.GoldenReport(t, []byte(r.stdout), "grid-lbax4n")
}

func TestScanSummaryAndExitCodes(t *testing.T) {
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "sbia1a.mpg")
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	os.WriteFile(text, []byte("not a video at all\n"), 0o644)

	r := trueframe(t, "scan", "--evidence-dir", dir, clip)
	if r.code != 0 || !strings.Contains(r.stdout, "score") || !strings.Contains(r.stdout, "detectors (face #") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	// One bad file among good ones: the good one is reported, the bad one
	// named on stderr and given a record of its own, so that the output
	// lines up with the inputs; the exit status is 1.
	r = trueframe(t, "scan", "--json", "--evidence-dir", dir, text, clip)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "notes.mp4") || !strings.Contains(r.stderr, "not a video") {
		t.Errorf("stderr does not explain the bad file: %q", r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want two records on stdout, got %d:\n%s", len(lines), r.stdout)
	}
	var failed struct {
		File  string
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(lines[0]), &failed); err != nil || failed.File != text || failed.Error.Code != "not_video" ||
		!strings.Contains(failed.Error.Message, "not a video") {
		t.Errorf("the failed file's record: %s (%v)", lines[0], err)
	}
	var rep struct{ File, Verdict string }
	if err := json.Unmarshal([]byte(lines[1]), &rep); err != nil || rep.File != clip || rep.Verdict == "" {
		t.Errorf("the analysed file's record: %.200s (%v)", lines[1], err)
	}

	for name, args := range map[string][]string{
		"no files":     {"scan"},
		"unknown flag": {"scan", "--nope", clip},
		"unknown cmd":  {"frobnicate"},
		"bad memory":   {"scan", "--max-memory", "lots", clip},
		"NaN memory":   {"scan", "--max-memory", "NaN", clip},
		"zero timeout": {"scan", "--timeout", "0s", clip},
		"bad model":    {"scan", "--face-model", "haar", clip},
		"no rounds":    {"bench", "--rounds", "0", clip},
	} {
		if r := trueframe(t, args...); r.code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %q)", name, r.code, r.stderr)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512MiB": 512 << 20, "4GiB": 4 << 30, "1e9": 1e9, "2 GB": 2e9, "100B": 100} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "1e30GiB", "NaN", "+Inf"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

func TestProgressBar(t *testing.T) {
	var b strings.Builder
	bar := progressBar(&b, "clip.mp4")
	bar(0.25)
	bar(0.25) // unchanged: nothing redrawn
	bar(1)
	out := b.String()
	if strings.Count(out, "\r") != 2 || !strings.Contains(out, " 25%") || !strings.Contains(out, "100%") || !strings.Contains(out, "clip.mp4") {
		t.Fatalf("progress output %q", out)
	}
}
