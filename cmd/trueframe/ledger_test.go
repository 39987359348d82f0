package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// TestLedgerCLI registers a clip on the embedded chain through the CLI
// (fingerprinting in worker processes) and verifies it and another clip.
func TestLedgerCLI(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	clip, other := filepath.Join(grid, "bbaf2n.mpg"), filepath.Join(grid, "sbia1a.mpg")
	data := t.TempDir()

	r := trueframe(t, "register", "--data", data, "--meta", "grid/bbaf2n", "--json", clip)
	if r.code != 0 {
		t.Fatalf("register: exit %d: %s", r.code, r.stderr)
	}
	var recMap map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &recMap); err != nil || recMap["tx_hash"] == "" || recMap["meta"] != "grid/bbaf2n" {
		t.Fatalf("register printed %q (%v)", r.stdout, err)
	}

	if r := trueframe(t, "register", "--data", data, clip); r.code != 1 || !strings.Contains(r.stderr, "already registered") {
		t.Errorf("registering twice: exit %d, %s", r.code, r.stderr)
	}

	r = trueframe(t, "verify", "--data", data, "--json", clip, other)
	if r.code != 0 {
		t.Fatalf("verify: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := []string{"registered", "unknown"}
	for i, line := range lines {
		var v struct{ Status string }
		if err := json.Unmarshal([]byte(line), &v); err != nil || i >= len(want) || v.Status != want[i] {
			t.Errorf("verify line %d: %s (%v)", i, line, err)
		}
	}

	r = trueframe(t, "ledger", "status", "--data", data, "--json")
	var st struct {
		Originals int
		Registrar bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 || st.Originals != 1 || !st.Registrar {
		t.Errorf("ledger status: exit %d %s %s", r.code, r.stdout, r.stderr)
	}

	// A scan report carries the provenance check.
	r = trueframe(t, "scan", "--json", "--data", data, "--evidence-dir", t.TempDir(), clip)
	var rep struct {
		Provenance struct{ Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Provenance.Status != "registered" {
		t.Errorf("scan provenance: exit %d, %q, %v", r.code, r.stdout, err)
	}

	// A file that is not a video fails clearly, in its worker.
	notVideo := filepath.Join(t.TempDir(), "notes.mp4")
	if err := os.WriteFile(notVideo, []byte("just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := trueframe(t, "verify", "--data", data, notVideo); r.code != 1 || !strings.Contains(r.stderr, "not a video") {
		t.Errorf("verify of a text file: exit %d, %s", r.code, r.stderr)
	}
}
