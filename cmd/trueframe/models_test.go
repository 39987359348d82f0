package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
)

// TestModelsActivateReachesScan: a model version added to the registry and
// activated is the one the next scan runs and names in its report; the
// version before it is named before.
func TestModelsActivateReachesScan(t *testing.T) {
	data := t.TempDir()
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg")
	scanMotion := func() string {
		t.Helper()
		r := trueframe(t, "scan", "--json", "--data", data, "--evidence-dir", t.TempDir(), clip)
		if r.code != 0 {
			t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
		}
		var rep struct {
			Models struct {
				Detectors map[string]string `json:"detectors"`
			} `json:"models"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		return rep.Models.Detectors["motion"]
	}
	embedded, weights, err := models.Trained("motion")
	if err != nil {
		t.Fatal(err)
	}
	if r := trueframe(t, "models", "list", "--data", data); r.code != 0 || !strings.Contains(r.stdout, embedded.Version) {
		t.Fatalf("models list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := scanMotion(); got != embedded.Version {
		t.Fatalf("before: scan ran motion %q, want the embedded %q", got, embedded.Version)
	}

	// A child version: the same weights under a new version id.
	dir := t.TempDir()
	child := *embedded
	child.Version = "motion-test-child"
	raw, _ := json.Marshal(child)
	os.WriteFile(filepath.Join(dir, child.File), weights, 0o644)
	card := filepath.Join(dir, "card.json")
	os.WriteFile(card, raw, 0o644)
	if r := trueframe(t, "models", "add", "--data", data, "--parent", embedded.Version, card); r.code != 0 {
		t.Fatalf("models add: exit %d: %s", r.code, r.stderr)
	}
	if got := scanMotion(); got != embedded.Version {
		t.Errorf("added but not activated: scan ran %q", got)
	}
	if r := trueframe(t, "models", "activate", "--data", data, child.Version); r.code != 0 {
		t.Fatalf("models activate: exit %d: %s", r.code, r.stderr)
	}
	if got := scanMotion(); got != child.Version {
		t.Errorf("after activation: scan ran motion %q, want %q", got, child.Version)
	}
	r := trueframe(t, "models", "show", "--data", data, child.Version)
	var e struct{ Parent string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &e) != nil || e.Parent != embedded.Version {
		t.Errorf("models show: exit %d, parent %q\n%s", r.code, e.Parent, r.stdout)
	}
	if r := trueframe(t, "models", "verify", "--data", data); r.code != 0 {
		t.Errorf("models verify: exit %d: %s", r.code, r.stderr)
	}
	// Bad usage is refused with exit 2 and a message.
	for _, args := range [][]string{{"models", "activate", "--data", data}, {"models", "bogus", "--data", data}} {
		if r := trueframe(t, args...); r.code != 2 || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, r.code, r.stderr)
		}
	}
	if r := trueframe(t, "models", "activate", "--data", data, "nope"); r.code != 1 || !strings.Contains(r.stderr, "no such model version") {
		t.Errorf("activate nope: exit %d, %q", r.code, r.stderr)
	}
}
