package scan

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestSetProvenance(t *testing.T) {
	for _, c := range []struct {
		name  string
		check json.RawMessage
		want  []string
	}{
		{"faces differ: the alert leads", json.RawMessage(`{"status":"altered_original","alert":"FACES DIFFER"}`), []string{"FACES DIFFER", "low light"}},
		{"a copy: no alert", json.RawMessage(`{"status":"matches_original"}`), []string{"low light"}},
		{"unavailable", ProvenanceUnavailable("no ledger"), []string{"low light"}},
		{"not JSON", json.RawMessage(`{`), []string{"low light"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Report{Warnings: []string{"low light"}}
			r.SetProvenance(c.check)
			if !slices.Equal(r.Warnings, c.want) || string(r.Provenance) != string(c.check) {
				t.Errorf("warnings %q, provenance %s; want %q", r.Warnings, r.Provenance, c.want)
			}
		})
	}
	var u struct{ Status, Error string }
	if err := json.Unmarshal(ProvenanceUnavailable("no ledger"), &u); err != nil || u.Status != "unavailable" || u.Error != "no ledger" {
		t.Errorf("ProvenanceUnavailable = %+v, %v", u, err)
	}
}
