package store

import (
	"errors"
	"testing"
)

// A key's uploads in progress are capped across every node that uses the
// database; an ended upload frees its place; a row whose node died (not
// touched for UploadStale) no longer counts.
func TestUploadsInProgress(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		nodes := []*Store{openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})}
		for i, id := range []string{"u1", "u2"} {
			if n, err := nodes[i].BeginUpload(ctx, id, "k", true, 2); err != nil || n != i+1 {
				t.Fatalf("BeginUpload %s = %d, %v", id, n, err)
			}
		}
		if n, err := nodes[1].BeginUpload(ctx, "u3", "k", false, 2); !errors.Is(err, ErrTooManyUploads) || n != 2 {
			t.Fatalf("third upload of the key = %d, %v; want 2, ErrTooManyUploads", n, err)
		}
		if _, err := nodes[0].BeginUpload(ctx, "o1", "other", false, 2); err != nil {
			t.Fatalf("another key's upload: %v", err)
		}
		if all, mine, err := nodes[0].AnalysesUploading(ctx, "k"); err != nil || all != 2 || mine != 2 {
			t.Fatalf("AnalysesUploading = %d, %d, %v; want 2, 2", all, mine, err)
		}
		if err := nodes[1].EndUpload(ctx, "u2"); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].BeginUpload(ctx, "u3", "k", false, 2); err != nil {
			t.Fatalf("after one ended: %v", err)
		}
		// u1's node dies: its row ages past UploadStale and stops counting.
		if _, err := nodes[0].exec(ctx, `UPDATE uploads SET touched_at = ? WHERE id = 'u1'`, now()-2*UploadStale.Milliseconds()); err != nil {
			t.Fatal(err)
		}
		if all, _, _ := nodes[0].AnalysesUploading(ctx, "k"); all != 0 {
			t.Errorf("a dead node's upload still counts: %d analyses uploading", all)
		}
		if err := nodes[1].TouchUpload(ctx, "u3"); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].BeginUpload(ctx, "u4", "k", false, 2); err != nil {
			t.Fatalf("with the dead node's upload gone: %v", err)
		}
	})
}
