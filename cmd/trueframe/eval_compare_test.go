package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
)

// TestEvalCompare measures two GRID clips (one filed as a fake) with the
// embedded fusion, then again with the same weights but thresholds that
// call everything manipulated, set beside the first run: the comparison
// names the first run's models, finds the same clips, and shows the
// verdict counts moved and the AUCs not (the scores are the same). A file
// that is no eval output is refused before any clip is analysed.
func TestEvalCompare(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	src := t.TempDir()
	for dir, clip := range map[string]string{"real": "lbax4n.mpg", filepath.Join("fake", "some_method"): "bbaf2n.mpg"} {
		if err := os.MkdirAll(filepath.Join(src, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(grid, clip), filepath.Join(src, dir, clip)); err != nil {
			t.Fatal(err)
		}
	}
	cache, dir := t.TempDir(), t.TempDir()

	first := trueframe(t, "eval", "--json", "--cache", cache, src)
	if first.code != 0 {
		t.Fatalf("exit %d: %s", first.code, first.stderr)
	}
	base := filepath.Join(dir, "base.json")
	if err := os.WriteFile(base, []byte(first.stdout), 0o644); err != nil {
		t.Fatal(err)
	}

	m, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "fusion-everything-manipulated"
	m.Verdict.AuthenticBelow, m.Verdict.ManipulatedFrom = 1e-9, 2e-9
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	loud := filepath.Join(dir, "loud.json")
	if err := os.WriteFile(loud, b, 0o644); err != nil {
		t.Fatal(err)
	}

	second := trueframe(t, "eval", "--json", "--cache", cache, "--fusion", loud, "--compare", base, src)
	if second.code != 0 {
		t.Fatalf("exit %d: %s", second.code, second.stderr)
	}
	var out evalOutput
	if err := json.Unmarshal([]byte(second.stdout), &out); err != nil {
		t.Fatal(err)
	}
	c := out.Comparison
	if c == nil || len(c.Runs) != 1 || c.Runs[0].Run != "original" {
		t.Fatalf("comparison %+v: want one run, the original clips", c)
	}
	if !strings.Contains(c.BaseInfo, "fusion "+mustDefaultVersion(t)) {
		t.Errorf("the comparison names the first run's models as %q", c.BaseInfo)
	}
	r := c.Runs[0]
	if r.OnlyBase != 0 || r.OnlyNew != 0 {
		t.Errorf("the same clips counted as different: %d, %d", r.OnlyBase, r.OnlyNew)
	}
	if r.New.RealsManipulated != 1 || r.New.FakesManipulated != 1 || r.Base.RealsManipulated+r.Base.FakesManipulated == 2 {
		t.Errorf("calls before %+v, after %+v: after, both clips are likely_manipulated, before not both", r.Base, r.New)
	}
	for _, ch := range r.Changes {
		if ch.Scope == eval.ScopeMethod && ch.Name == "some_method" && ch.Base != ch.New {
			t.Errorf("%s: AUC %v → %v with the same scores", ch.Name, ch.Base, ch.New)
		}
	}

	// The printout says the same to a person.
	text := trueframe(t, "eval", "--cache", cache, "--fusion", loud, "--compare", base, src)
	for _, want := range []string{"compared with " + base, "reals likely_manipulated", "some_method"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("printout lacks %q:\n%s", want, text.stdout)
		}
	}

	// Not an eval output: refused at once, before analysing.
	bad := trueframe(t, "eval", "--cache", t.TempDir(), "--compare", loud, src)
	if bad.code == 0 || !strings.Contains(bad.stderr, "not an eval --json output") {
		t.Errorf("a fusion file as --compare: exit %d, %s", bad.code, bad.stderr)
	}
}

func mustDefaultVersion(t *testing.T) string {
	t.Helper()
	m, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	return m.Version
}
