package fingerprint

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_* from the shared clips")

// goldenClips are the shared clips whose fingerprints are pinned: the
// 720x1280 portrait and a 360x288 GRID take.
var goldenClips = []struct{ folder, name string }{{"portrait", "d13.mp4"}, {"grid", "sbia1a.mpg"}}

// TestGoldenV1 pins the digests of the version 1 fingerprints of two
// shared clips. From the decoded pixels on, version 1 is integer
// arithmetic: any change of a bit is a change of the algorithm, which must
// then be a new version.
func TestGoldenV1(t *testing.T) {
	path := filepath.Join("testdata", "golden_v1.json")
	got := map[string]string{}
	for _, c := range goldenClips {
		d, err := compute(t, realClip(t, c.folder, c.name), nil).Digest()
		if err != nil {
			t.Fatal(err)
		}
		got[c.name] = hex.EncodeToString(d[:])
	}
	if *updateGolden {
		writeJSON(t, path, got)
		return
	}
	var want map[string]string
	readJSON(t, path, &want)
	for name, d := range got {
		if want[name] != d {
			t.Errorf("%s: digest %s, golden %s", name, d, want[name])
		}
	}
}

// TestGoldenV2 compares the version 2 fingerprints of two shared clips
// with pinned ones (thumbnails left out). The frame and grid hashes must
// be equal; the faces come through ONNX Runtime in floating point, whose
// kernels round differently on different CPUs, so they must be what a
// verification on another machine needs: the same faces in every sample,
// descriptors within half their match thresholds (these goldens, written
// on an AVX2 machine, are within 0.375 of them on an AVX-512 one). Version 2 is still made on request (Options.Version),
// as registrations before version 3 were.
func TestGoldenV2(t *testing.T) { goldenFaces(t, Version2) }

// TestGoldenV3 is TestGoldenV2 for version 3, the lips' detail included.
func TestGoldenV3(t *testing.T) { goldenFaces(t, Version3) }

func goldenFaces(t *testing.T, version int) {
	m := measureModels(t)
	for _, c := range goldenClips {
		t.Run(c.name, func(t *testing.T) {
			fp, err := Compute(t.Context(), realClip(t, c.folder, c.name), &Options{Faces: m, Version: version})
			if err != nil {
				t.Fatal(err)
			}
			fp.ThinThumbs(len(fp.Frames) + 1) // keep none but the first sample's
			for i := range fp.Frames[0].Faces {
				fp.Frames[0].Faces[i].Thumb = nil
			}
			path := filepath.Join("testdata", fmt.Sprintf("golden_v%d_%s.json", version, strings.TrimSuffix(c.name, filepath.Ext(c.name))))
			if *updateGolden {
				writeJSON(t, path, fp)
				return
			}
			var want Fingerprint
			readJSON(t, path, &want)
			if want.Version != version || fp.Version != version || len(want.Frames) != len(fp.Frames) {
				t.Fatalf("version %d/%d, %d/%d samples", fp.Version, want.Version, len(fp.Frames), len(want.Frames))
			}
			faces, details, worst := 0, 0, 0.0
			for k, f := range fp.Frames {
				w := want.Frames[k]
				if f.Global != w.Global || !equalCells(f.Cells, w.Cells) {
					t.Errorf("sample %d: frame or grid hashes differ", k)
				}
				if len(f.Faces) != len(w.Faces) {
					t.Errorf("sample %d: %d faces, golden %d", k, len(f.Faces), len(w.Faces))
					continue
				}
				for i, fc := range f.Faces {
					wc := w.Faces[i]
					a, b := fc.Box.rect(), wc.Box.rect()
					if math.Abs(a.X-b.X) > 0.01 || math.Abs(a.W-b.W) > 0.01 {
						t.Errorf("sample %d face %d: box %+v, golden %+v", k, i, fc.Box, wc.Box)
					}
					if (fc.Detail != nil) != (version >= Version3) {
						t.Errorf("sample %d face %d: detail %v in version %d", k, i, fc.Detail != nil, version)
					}
					for r := range NumMeasures {
						if r < NumRegions && fc.Inside&wc.Inside&(1<<r) == 0 {
							continue
						}
						d := faceMeasure(&fc, &wc, r)
						if math.IsNaN(d) {
							continue
						}
						if r == MeasureMouthDetail {
							// The lips less the nose band may be negative:
							// bound the lips' own distance too.
							d = max(d, detailDistance(fc.Detail.Lips[:], wc.Detail.Lips[:], lipsWindow))
							details++
						}
						worst = max(worst, d/Thresholds[r])
						if d > Thresholds[r]/2 {
							t.Errorf("sample %d face %d: %s %.3f from the golden (limit %.3f)", k, i, measureName(r), d, Thresholds[r]/2)
						}
					}
					faces++
				}
			}
			if version >= Version3 && details == 0 {
				t.Error("no lips detail compared")
			}
			t.Logf("%d samples, %d faces (%d with lips detail); the largest difference is %.3f of its threshold", len(fp.Frames), faces, details, worst)
		})
	}
}

// measureName names measure i in messages.
func measureName(i int) string {
	switch i {
	case MeasureChroma:
		return "chroma"
	case MeasureMouthOpen:
		return "mouth openness"
	case MeasureEyesOpen:
		return "eye openness"
	case MeasureMouthDetail:
		return "lips detail"
	}
	return RegionName(i)
}

func equalCells(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update-golden to write it)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
