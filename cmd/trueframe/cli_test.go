package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
)

// TestFlagsAfterArguments: flags count wherever they stand, before or
// after the arguments, and "--" ends them.
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d")
	in := runOptions{dir: dir}
	r := trueframeWith(t, in, "keys", "create", "--data", data, "--role", "analyst", "--name", "first")
	if r.code != 0 {
		t.Fatalf("keys create: exit %d: %s", r.code, r.stderr)
	}
	id := regexp.MustCompile(`created key (\S+)`).FindStringSubmatch(r.stderr)
	if id == nil {
		t.Fatalf("keys create named no key: %q", r.stderr)
	}
	if r := trueframeWith(t, in, "keys", "revoke", id[1], "--data", data); r.code != 0 || !strings.Contains(r.stderr, "revoked key "+id[1]) {
		t.Fatalf("keys revoke ID --data D: exit %d: %s", r.code, r.stderr)
	}
	if r := trueframeWith(t, in, "keys", "list", "--data", data); r.code != 0 || !strings.Contains(r.stdout, id[1]) {
		t.Errorf("keys list --data D: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Errorf("a flag after the argument was not read: ./data was created")
	}
	// After "--", what looks like a flag is an argument.
	if r := trueframeWith(t, in, "keys", "revoke", "--data", data, "--", "--data"); r.code != 1 || !strings.Contains(r.stderr, "key --data") {
		t.Errorf("keys revoke -- --data: exit %d: %s", r.code, r.stderr)
	}
}

// TestHelpAndUsage: -h and --help print the command's usage on stdout and
// exit 0; bad usage exits 2 with a message on stderr; neither touches the
// data directory.
func TestHelpAndUsage(t *testing.T) {
	dir := t.TempDir()
	in := runOptions{dir: dir}
	// Every command of the table, groups and hidden ones included.
	var paths [][]string
	var walk func(c *command, path []string)
	walk = func(c *command, path []string) {
		paths = append(paths, path)
		for _, s := range c.subcommands {
			walk(s, append(slices.Clone(path), s.name))
		}
	}
	walk(commands(), nil)
	if len(paths) < 30 {
		t.Fatalf("the command table has only %d commands: %q", len(paths), paths)
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"trueframe"}, path...), " ")
		for _, h := range []string{"-h", "--help"} {
			r := trueframeWith(t, in, append(slices.Clone(path), h)...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: "+name+" ") || r.stderr != "" {
				t.Errorf("%s %s: exit %d, stdout %.80q, stderr %.200q; want 0 and the usage on stdout", name, h, r.code, r.stdout, r.stderr)
			}
		}
	}
	if r := trueframeWith(t, in, "help", "ledger", "revoke"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: trueframe ledger revoke [flags] SHA256") ||
		!strings.Contains(r.stdout, "--reason") {
		t.Errorf("help ledger revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{}, {"bogus"}, {"keys"}, {"keys", "bogus"}, {"keys", "create"}, {"keys", "create", "--role", "boss"}, {"keys", "revoke"},
		{"keys", "list", "extra"}, {"ledger", "bogus"}, {"ledger", "revoke", "--reason", "r"}, {"models", "bogus"},
		{"detectors", "train", "bogus"}, {"scan"}, {"scan", "--nope", "x.mp4"}, {"completion", "fish"}, {"version", "extra"},
	} {
		r := trueframeWith(t, in, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "trueframe") || !strings.Contains(r.stderr, "--help") {
			t.Errorf("%q: exit %d, stderr %q; want 2, a message and where to find the usage", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("help or bad usage created ./data")
	}
}

// TestEnvironmentDefaults: every flag reads TRUEFRAME_<FLAG> as its
// default; booleans take on/off/yes/no besides strconv's spellings; a
// malformed value is an error, not ignored.
func TestEnvironmentDefaults(t *testing.T) {
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg")
	dir := t.TempDir()
	env := func(kv ...string) runOptions { return runOptions{dir: dir, env: kv} }

	for _, bad := range [][]string{
		{"TRUEFRAME_PROVENANCE=maybe"}, {"TRUEFRAME_MAX_FRAMES=lots"}, {"TRUEFRAME_TIMEOUT=0s"}, {"TRUEFRAME_JOBS=0"},
	} {
		r := trueframeWith(t, env(bad...), "scan", "--evidence-dir", dir, clip)
		name, _, _ := strings.Cut(bad[0], "=")
		if r.code != 2 || !strings.Contains(r.stderr, strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(name, "_", "-")), "trueframe-")) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message naming it", bad, r.code, r.stderr)
		}
	}
	// Flags that had no environment default before: --json, --max-file-size.
	r := trueframeWith(t, env("TRUEFRAME_JSON=yes", "TRUEFRAME_MAX_FILE_SIZE=10", "TRUEFRAME_PROVENANCE=off"), "scan", "--evidence-dir", dir, clip)
	var rec struct {
		File  string
		Error struct{ Code, Message string }
	}
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &rec) != nil || rec.Error.Code != "too_large" {
		t.Errorf("TRUEFRAME_JSON=yes TRUEFRAME_MAX_FILE_SIZE=10: exit %d, stdout %q, stderr %q; want 1 and a too_large JSON record", r.code, r.stdout, r.stderr)
	}
	r = trueframeWith(t, env("TRUEFRAME_PROVENANCE=false"), "scan", "--json", "--evidence-dir", dir, clip)
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("scan: exit %d: %v %s", r.code, err, r.stderr)
	}
	if _, ok := rep["provenance"]; ok {
		t.Errorf("TRUEFRAME_PROVENANCE=false: the report has a provenance check: %v", rep["provenance"])
	}
	// The command line wins over the environment.
	if r := trueframeWith(t, env("TRUEFRAME_TIMEOUT=0s"), "scan", "--timeout", "1m", "--json", "--provenance=false", "--evidence-dir", dir, clip); r.code != 0 {
		t.Errorf("--timeout 1m over TRUEFRAME_TIMEOUT=0s: exit %d: %s", r.code, r.stderr)
	}
	if r := trueframeWith(t, env("TRUEFRAME_LEDGER=nope"), "serve", "--data", filepath.Join(dir, "d"), "--addr", "127.0.0.1:no-port"); r.code != 2 || !strings.Contains(r.stderr, "TRUEFRAME_LEDGER") {
		t.Errorf("TRUEFRAME_LEDGER=nope serve: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServeLedgerOffByEnvironment: TRUEFRAME_LEDGER=false turns the
// service's ledger off (its routes answer 503); it used to take only "off".
func TestServeLedgerOffByEnvironment(t *testing.T) {
	data := t.TempDir()
	r := trueframe(t, "keys", "create", "--role", "analyst", "--data", data)
	key := strings.TrimSpace(r.stdout)
	t.Setenv("TRUEFRAME_LEDGER", "false")
	srv := startServer(t, data, "--workers", "1", "--generator=false")
	req, _ := http.NewRequest("GET", srv.url+"/v1/originals/"+strings.Repeat("0", 64), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with TRUEFRAME_LEDGER=false, GET /v1/originals/… = %d, want 503", resp.StatusCode)
	}
}

// TestSignalExitCodes: a command stopped by SIGINT exits 130 and by
// SIGTERM 143 (128 + the signal's number), as a shell reports them.
func TestSignalExitCodes(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		// A "node" that takes the connection and never answers: the
		// command waits on it until the signal comes.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cmd := exec.CommandContext(t.Context(), exe, "ledger", "status", "--data", t.TempDir(),
			"--ledger-rpc", "http://"+ln.Addr().String(), "--ledger-chain-id", "1")
		cmd.Env = append(os.Environ(), "TRUEFRAME_CLI_TEST=1", "TRUEFRAME_DEPS="+testutil.DepsDir(t),
			"TRUEFRAME_LEDGER_KEY="+strings.Repeat("11", 32))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case c := <-accepted:
			defer c.Close()
		case err := <-exited:
			t.Fatalf("ledger status ended before reaching the node: %v: %s", err, stderr.String())
		}
		cmd.Process.Signal(sig)
		err = <-exited
		var ee *exec.ExitError
		if want := 128 + int(sig); !errors.As(err, &ee) || ee.ExitCode() != want {
			t.Errorf("%v: %v, want exit %d (stderr %q)", sig, err, want, stderr.String())
		}
	}
}

// TestVersion: version names the build (module version, VCS revision)
// and the models in use: the embedded ones and the registry's active ones.
func TestVersion(t *testing.T) {
	data := t.TempDir()
	motion, weights, err := models.Trained("motion")
	if err != nil {
		t.Fatal(err)
	}
	fusion, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	r := trueframe(t, "version", "--data", data)
	if r.code != 0 {
		t.Fatalf("version: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"trueframe ", "revision", "go1.", motion.Version, fusion.Version} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "active") {
		t.Errorf("version names active models of a data directory without a registry:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(data, "models")); err == nil {
		t.Error("version created a model registry")
	}

	// With a registry whose active motion model is another version.
	dir := t.TempDir()
	child := *motion
	child.Version = "motion-version-test"
	raw, _ := json.Marshal(child)
	os.WriteFile(filepath.Join(dir, child.File), weights, 0o644)
	card := filepath.Join(dir, "card.json")
	os.WriteFile(card, raw, 0o644)
	for _, args := range [][]string{{"models", "add", card}, {"models", "activate", child.Version}} {
		if r := trueframe(t, append(args, "--data", data)...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	r = trueframe(t, "version", "--data", data)
	if r.code != 0 || !regexp.MustCompile(`(?m)^\s*motion\s+motion-version-test\b`).MatchString(r.stdout) {
		t.Errorf("version does not name the active motion model:\n%s%s", r.stdout, r.stderr)
	}
}

// TestCompletion: the bash script completes commands, subcommands and
// flags from the command table; the zsh one is well-formed.
func TestCompletion(t *testing.T) {
	r := trueframe(t, "completion", "bash")
	if r.code != 0 {
		t.Fatalf("completion bash: exit %d: %s", r.code, r.stderr)
	}
	script := filepath.Join(t.TempDir(), "trueframe.bash")
	os.WriteFile(script, []byte(r.stdout), 0o644)
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"trueframe", "led"}, []string{"ledger"}},
		{[]string{"trueframe", "ledger", "re"}, []string{"reindex", "revoke"}},
		{[]string{"trueframe", "detectors", "train", ""}, []string{"face_cnn", "fusion", "motion"}},
		{[]string{"trueframe", "scan", "--js"}, []string{"--json"}},
		{[]string{"trueframe", "scan", "clip.mp4", "--data", "d", "--jo"}, []string{"--jobs"}},
		{[]string{"trueframe", "keys", "create", "--ro"}, []string{"--role"}},
		{[]string{"trueframe", "completion", ""}, []string{"bash", "zsh"}},
	} {
		cmd := exec.Command("bash", append([]string{"-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _trueframe; printf '%s\n' "${COMPREPLY[@]}"`,
			"bash", script}, c.words...)...)
		out, err := cmd.CombinedOutput()
		if got := strings.Fields(string(out)); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("completing %q: %q (%v), want %q", c.words, got, err, c.want)
		}
	}

	r = trueframe(t, "completion", "zsh")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "#compdef trueframe") || !strings.Contains(r.stdout, "--max-analysed-frames") ||
		!strings.Contains(r.stdout, "reindex") {
		t.Fatalf("completion zsh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		script := filepath.Join(t.TempDir(), "_trueframe")
		os.WriteFile(script, []byte(r.stdout), 0o644)
		if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v: %s", err, out)
		}
	} else {
		t.Log("zsh not installed: its script is checked only for content")
	}
}

// TestScanDirectory: scan DIR walks the folder, scans the files that are
// videos by their content (whatever their names), N at once, prints one
// record per file in the walk's order and one summary at the end.
func TestScanDirectory(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	dir := t.TempDir()
	put := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clip, _ := os.ReadFile(filepath.Join(grid, "bbaf2n.mpg"))
	other, _ := os.ReadFile(filepath.Join(grid, "sbia1a.mpg"))
	first := put("a/one.mpg", clip)
	second := put("b/c/no-extension", other) // a video by its content
	put("b/notes.mp4", []byte("a text file named like a video\n"))
	put("b/empty.mp4", nil)

	r := trueframe(t, "scan", dir, "--json", "--jobs", "2", "--evidence-dir", t.TempDir(), "--provenance=false")
	if r.code != 0 {
		t.Fatalf("scan DIR: exit %d: %s", r.code, r.stderr)
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var rep struct {
			File    string
			Verdict string
		}
		if err := json.Unmarshal([]byte(line), &rep); err != nil || rep.Verdict == "" {
			t.Fatalf("not a report: %q (%v)", line, err)
		}
		files = append(files, rep.File)
	}
	if want := []string{first, second}; !slices.Equal(files, want) {
		t.Errorf("reports for %q, want %q in this order", files, want)
	}
	// The summary: counts per verdict that add up to the files analysed.
	m := regexp.MustCompile(`scanned 2 files in [0-9.]+ s: (.*)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no summary on stderr:\n%s", r.stderr)
	}
	total := 0
	for _, c := range regexp.MustCompile(`(likely_authentic|suspicious|likely_manipulated|inconclusive) (\d+)`).FindAllStringSubmatch(m[1], -1) {
		n, _ := strconv.Atoi(c[2])
		total += n
	}
	if total != 2 || !strings.Contains(m[1], "failed 0") || !strings.Contains(r.stderr, "skipped 2 files that are not videos") {
		t.Errorf("summary %q (skips: %q)", m[1], r.stderr)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args, want []string
		json       bool
		data       string
	}{
		{[]string{"a", "--json", "b"}, []string{"a", "b"}, true, ""},
		{[]string{"--data", "d", "a", "b", "-json"}, []string{"a", "b"}, true, "d"},
		{[]string{"a", "--data=d", "--", "--json", "-"}, []string{"a", "--json", "-"}, false, "d"},
		{[]string{"-", "b"}, []string{"-", "b"}, false, ""},
		{nil, nil, false, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "")
		data := fs.String("data", "", "")
		got, err := parseInterspersed(fs, c.args)
		if err != nil || !slices.Equal(got, c.want) || *asJSON != c.json || *data != c.data {
			t.Errorf("%q: %q json=%v data=%q (%v); want %q json=%v data=%q", c.args, got, *asJSON, *data, err, c.want, c.json, c.data)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseInterspersed(fs, []string{"a", "--nope"}); err == nil {
		t.Error("an unknown flag after an argument was accepted")
	}
	if _, err := parseInterspersed(fs, []string{"a", "-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h after an argument: %v, want flag.ErrHelp", err)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "true": true, "TRUE": true, "t": true, "on": true, "ON": true, "yes": true, "Yes": true,
		"0": false, "false": false, "F": false, "off": false, "Off": false, "no": false, "NO": false} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "maybe", "2", "onn", "y"} {
		if _, err := parseBool(bad); err == nil {
			t.Errorf("parseBool(%q) accepted", bad)
		}
	}
}

// TestBuildStamp: the version and its description come from the build's
// VCS stamp when it has one.
func TestBuildStamp(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "3c4bb4a1f0e2d3c4b5a69788a9b0c1d2e3f40516"},
		{Key: "vcs.time", Value: "2026-12-07T10:15:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if v := versionOf(stamped); v != "devel-3c4bb4a1f0e2+dirty" {
		t.Errorf("versionOf = %q", v)
	}
	var b strings.Builder
	writeBuild(&b, stamped)
	for _, want := range []string{"trueframe devel-3c4bb4a1f0e2+dirty\n", "revision   3c4bb4a1f0e2d3c4b5a69788a9b0c1d2e3f40516, with uncommitted changes (dirty)",
		"committed  2026-12-07T10:15:00Z", "go         go1.26.8"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("writeBuild lacks %q:\n%s", want, b.String())
		}
	}
	tagged := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: stamped.Settings[:3]}
	if v := versionOf(tagged); v != "v1.2.0" {
		t.Errorf("versionOf(tagged) = %q", v)
	}
	if v := versionOf(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); v != "devel" {
		t.Errorf("versionOf(unstamped) = %q", v)
	}
}
