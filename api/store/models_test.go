package store

import (
	"maps"
	"testing"
)

// The active model pointer changes one kind at a time; an initial value
// never replaces one that is set.
func TestActiveModels(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		a := openDSN(t, dsn, Options{})
		b := openDSN(t, dsn, Options{}) // another node
		if m, err := a.ActiveModels(ctx); err != nil || len(m) != 0 {
			t.Fatalf("fresh: %v, %v", m, err)
		}
		for _, set := range []struct {
			node     *Store
			kind, id string
			ifUnset  bool
		}{
			{a, "fusion", "fusion-1", true},
			{b, "fusion", "fusion-0", true}, // a's stays
			{b, "motion", "motion-1", true},
			{a, "fusion", "fusion-2", false},
		} {
			if err := set.node.SetActiveModel(ctx, set.kind, set.id, set.ifUnset); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]string{"fusion": "fusion-2", "motion": "motion-1"}
		for _, s := range []*Store{a, b} {
			if m, err := s.ActiveModels(ctx); err != nil || !maps.Equal(m, want) {
				t.Errorf("active %v, %v; want %v", m, err, want)
			}
		}
	})
}
