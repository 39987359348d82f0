package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
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

	r = trueframe(t, "verify", "--data", data, clip, other, "--json")
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

	// The owner lets another account (another API node's key) register.
	if r := trueframe(t, "ledger", "add-registrar", "--data", data, "not-an-address"); r.code != 2 {
		t.Errorf("add-registrar of a non-address: exit %d, want 2: %s", r.code, r.stderr)
	}
	r = trueframe(t, "ledger", "add-registrar", "--data", data, "--json", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	var added struct {
		Registrar, Tx string
		Block         uint64
	}
	if err := json.Unmarshal([]byte(r.stdout), &added); err != nil || r.code != 0 || added.Block == 0 || len(added.Tx) != 66 {
		t.Errorf("add-registrar: exit %d %s %s", r.code, r.stdout, r.stderr)
	}

	// A scan report carries the provenance check.
	r = trueframe(t, "scan", "--json", "--data", data, "--evidence-dir", t.TempDir(), clip)
	var rep struct {
		Provenance struct{ Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Provenance.Status != "registered" {
		t.Errorf("scan provenance: exit %d, %q, %v", r.code, r.stdout, err)
	}

	// A copy with the face self-blended (media/blend) over 0.5–2.5 s comes
	// back altered_original naming the face, from verify (with the
	// evidence image) and at the top of a scan's summary.
	testutil.InitORT(t)
	fm := videofix.LoadFaceModels(t, filepath.Join(testutil.DepsDir(t), "models"))
	blended := filepath.Join(t.TempDir(), "blended.mp4")
	edited := 0
	videofix.Transcode(t, clip, blended, videofix.Options{Edit: fm.SelfBlend(t, nil, 500*time.Millisecond, 2500*time.Millisecond, &edited)})
	if edited == 0 {
		t.Fatal("the self-blend changed no frame")
	}
	evidence := t.TempDir()
	r = trueframe(t, "verify", "--data", data, "--evidence-dir", evidence, blended)
	if r.code != 0 || !strings.Contains(r.stdout, "ALTERED ORIGINAL") || !strings.Contains(r.stdout, "FACE DIFFERS: face #1, ") ||
		!strings.Contains(r.stdout, "skin colour") {
		t.Errorf("verify of a self-blended copy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if pngs, _ := filepath.Glob(filepath.Join(evidence, "*", "provenance-face-1-*.png")); len(pngs) != 1 {
		t.Errorf("evidence images %v, want one", pngs)
	}
	r = trueframe(t, "scan", "--data", data, "--evidence-dir", t.TempDir(), blended)
	if lines := strings.Split(r.stdout, "\n"); len(lines) < 3 || !strings.HasPrefix(lines[2], "  !!! FACES DIFFER FROM A REGISTERED ORIGINAL: face #1") {
		t.Errorf("scan summary of a self-blended copy does not lead with the provenance alert: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A file that is not a video fails clearly, in its worker.
	notVideo := filepath.Join(t.TempDir(), "notes.mp4")
	if err := os.WriteFile(notVideo, []byte("just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := trueframe(t, "verify", "--data", data, notVideo); r.code != 1 || !strings.Contains(r.stderr, "not a video") {
		t.Errorf("verify of a text file: exit %d, %s", r.code, r.stderr)
	}

	// Revoking, with the flags after the hash as the README writes it.
	sha, _ := recMap["sha256"].(string)
	r = trueframe(t, "ledger", "revoke", sha, "--reason", "superseded by a new cut", "--data", data, "--json")
	var revoked struct {
		Revoked      bool   `json:"revoked"`
		RevokeReason string `json:"revoke_reason"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &revoked); r.code != 0 || err != nil || !revoked.Revoked || revoked.RevokeReason != "superseded by a new cut" {
		t.Errorf("ledger revoke SHA --reason R: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
}
