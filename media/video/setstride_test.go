package video

import (
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// Frames skipped by SetStride are grabbed without conversion, yet still
// counted: the count and duration match a full decode.
func TestSetStrideCountsEveryFrame(t *testing.T) {
	real := testutil.SharedDir(t, "data", "videos", "real")
	for _, name := range []string{"grid/bbaf2n.mpg", "portrait/d13.mp4", "multiface/short_hamilton_clip.mp4"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(real, name)
			full, err := Probe(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, stride := range []int{2, 3} {
				d, err := Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				d.SetStride(stride)
				yielded := 0
				for d.Next() {
					if f := d.Frame(); f.Index%stride != 0 || f.Image.Empty() {
						t.Fatalf("stride %d yielded frame %d (empty %v)", stride, f.Index, f.Image.Empty())
					}
					yielded++
				}
				if err := d.Err(); err != nil {
					t.Fatal(err)
				}
				if d.Decoded() != full.Frames || yielded != (full.Frames+stride-1)/stride {
					t.Errorf("stride %d: counted %d (full %d), yielded %d", stride, d.Decoded(), full.Frames, yielded)
				}
				if d.LastTime() <= 0 {
					t.Errorf("stride %d: last time %v", stride, d.LastTime())
				}
				d.Close()
			}
		})
	}
}
