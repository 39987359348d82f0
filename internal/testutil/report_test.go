package testutil

import "testing"

// TestCompareReportTolerances: numbers may move by the report tolerance, a
// measurement of where a maximum lies by its own wider one, and nothing
// more.
func TestCompareReportTolerances(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got map[string]any
		differs   bool
	}{
		{"score within tolerance", map[string]any{"score": 0.50}, map[string]any{"score": 0.52}, false},
		{"score past tolerance", map[string]any{"score": 0.50}, map[string]any{"score": 0.55}, true},
		{"large number within its share", map[string]any{"x": 1000.0}, map[string]any{"x": 1001.5}, false},
		{"seam scale on a near tie", map[string]any{"m": map[string]any{"seam_scale": 0.925}}, map[string]any{"m": map[string]any{"seam_scale": 0.87}}, false},
		{"seam scale across the range", map[string]any{"m": map[string]any{"seam_scale": 0.925}}, map[string]any{"m": map[string]any{"seam_scale": 0.80}}, true},
		{"the same move elsewhere", map[string]any{"m": map[string]any{"seam_ridge": 0.925}}, map[string]any{"m": map[string]any{"seam_ridge": 0.87}}, true},
		{"a word changed", map[string]any{"verdict": "likely_authentic"}, map[string]any{"verdict": "suspicious"}, true},
		{"a field missing", map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": 1.0}, true},
	} {
		var diffs []string
		compareReport("", tc.want, tc.got, &diffs)
		if got := len(diffs) > 0; got != tc.differs {
			t.Errorf("%s: differs %v (%v), want %v", tc.name, got, diffs, tc.differs)
		}
	}
}
