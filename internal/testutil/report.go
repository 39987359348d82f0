package testutil

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// A number in a report may move from the golden one by reportTolerance,
// or by reportRelTolerance of its size where that is more. ONNX Runtime's
// float kernels differ between CPUs (AVX2 and AVX-512 ones round
// differently), so face boxes and landmarks move by a fraction of a pixel
// from one CPU to another (0.07 px on a GRID clip between an AVX2 and an
// AVX-512 machine), and the scores built on them by a little.
const (
	reportTolerance    = 0.03
	reportRelTolerance = 0.002
)

// argmaxTolerance says how far a measurement that says where a maximum
// lies, rather than how large it is, may move: where two candidates nearly
// tie, a fraction of a pixel picks the other one. The edges detector's
// seam_scale (the relative scale, searched over 0.80–0.97, at which the
// seam ridge peaks) moved from 0.925 to 0.870 between an AVX-512 and an
// AVX2 machine while the ridge it measures (seam_ridge) and every score
// stayed within reportTolerance. ok is false for every other field.
func argmaxTolerance(field string) (tol float64, ok bool) {
	switch field {
	case "seam_scale":
		return 0.1, true
	}
	return 0, false
}

// volatileReportFields differ between two analyses of one file for
// reasons that are not the analysis: where the file was, how long it took,
// and the provenance check, which depends on the ledger at hand.
var volatileReportFields = []string{"file", "timing", "provenance", "warnings"}

// GoldenReport compares a scan report (the JSON `trueframe scan --json`
// prints and the service returns) with testdata/reports/NAME.json at the
// repository's root: the same fields at every level, the same lengths, the
// same words, numbers within reportTolerance. The command line and the
// service compare against one file, so it also pins that they give the
// same report. TRUEFRAME_UPDATE_GOLDEN=1 rewrites the file from got.
func GoldenReport(tb testing.TB, got []byte, name string) {
	tb.Helper()
	var g map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("report is not a JSON object: %v", err)
	}
	for _, k := range volatileReportFields {
		delete(g, k)
	}
	file := filepath.Join(RepoRoot(tb), "testdata", "reports", name+".json")
	if os.Getenv("TRUEFRAME_UPDATE_GOLDEN") == "1" {
		b, _ := json.MarshalIndent(g, "", "  ")
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatalf("golden report: %v (TRUEFRAME_UPDATE_GOLDEN=1 writes it)", err)
	}
	var w map[string]any
	if err := json.Unmarshal(b, &w); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	var diffs []string
	compareReport("", w, g, &diffs)
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = append(diffs[:20], fmt.Sprintf("… and %d more", len(diffs)-20))
		}
		tb.Errorf("report differs from %s (TRUEFRAME_UPDATE_GOLDEN=1 rewrites it after a deliberate change):\n  %s",
			file, strings.Join(diffs, "\n  "))
	}
}

// digits are the numbers inside a text (an explanation quotes its
// measurements); they move with the scores, so texts are compared with
// them blanked.
var digits = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

func compareReport(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: %T, want an object", path, got))
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing", path, k))
			case !inW:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: not in the golden report", path, k))
			default:
				compareReport(path+"."+k, wv, gv, diffs)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d items, want %d", path, len(g), len(w)))
			return
		}
		for i := range w {
			compareReport(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	case float64:
		g, ok := got.(float64)
		tol := max(reportTolerance, reportRelTolerance*math.Abs(w))
		if at, found := argmaxTolerance(path[strings.LastIndexByte(path, '.')+1:]); found {
			tol = at
		}
		if !ok || math.Abs(g-w) > tol {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v, want %v", path, got, w))
		}
	case string:
		g, ok := got.(string)
		if !ok || digits.ReplaceAllString(g, "#") != digits.ReplaceAllString(w, "#") {
			*diffs = append(*diffs, fmt.Sprintf("%s: %q, want %q", path, got, w))
		}
	default: // bool, null
		if fmt.Sprint(got) != fmt.Sprint(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v, want %v", path, got, w))
		}
	}
}
