package facecnn_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
	"github.com/trueframe/trueframe/models"
)

// TestSubpixelShiftOfGoldenClips: face landmarks come out of ONNX Runtime's
// float kernels, which round differently on different CPUs, so from one
// machine to another they move by a fraction of a pixel (0.07 px measured
// on a GRID clip between an AVX2 and an AVX-512 machine), and face_cnn's
// aligned crops with them. The clips whose reports the golden tests pin
// must be ones where a shift of a tenth of a pixel moves face_cnn's frame
// probabilities by little, or those goldens would hold on one kind of CPU
// only. It is not true of every clip, and this logs two that it is not
// true of: MuseV's frames move by about 0.13 (its pinned track score, a
// mean over frames, stayed within 0.031 across the two machines) and GRID
// bbaf2n's by about 0.12 (its verdict changed between them, so it is no
// longer the golden report's clip). Making the network itself indifferent
// to the crop's sub-pixel phase is open work (README, "Same file, same
// verdict?").
func TestSubpixelShiftOfGoldenClips(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes and analyses clips")
	}
	testutil.InitORT(t)
	modelDir := filepath.Dir(testutil.ModelPath(t, facecnn.BackboneFile))
	d := embeddedDetector(t, modelDir)
	pair, err := facepair.Open(modelDir, face.Options{MinFaceSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()

	for _, c := range []struct {
		clip  string
		limit float64 // NaN: measured only
	}{
		{"real/grid/lbax4n.mpg", 0.05}, // the api and scan --json golden report
		{"real/portrait/d3.mp4", 0.05}, // detectors/scan's golden scores
		{"dev/fake/MuseV/linly_sit_musev.mp4", math.NaN()},
		{"real/grid/bbaf2n.mpg", math.NaN()},
	} {
		t.Run(filepath.Base(c.clip), func(t *testing.T) {
			delta, n := shiftDelta(t, d, pair, testutil.SharedDir(t, "data", "videos", c.clip))
			if n < 5 {
				t.Fatalf("only %d faces scored", n)
			}
			t.Logf("%d frames: mean |Δ probability| %.3f under a (0.1, 0.07) px shift of the landmarks", n, delta)
			if delta > c.limit {
				t.Errorf("face_cnn moves %.3f on average when the face moves a tenth of a pixel (limit %.2f)", delta, c.limit)
			}
		})
	}
}

// shiftDelta scores the largest face of frames half a second apart, aligned
// on its landmarks as fitted and on the same landmarks moved by a tenth of
// a pixel, and returns the mean absolute difference of the probabilities.
func shiftDelta(t *testing.T, d *facecnn.Detector, pair *facepair.Pair, path string) (float64, int) {
	t.Helper()
	dec, err := video.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tr := track.New(pair.Detector, pair.Mesher, &track.Options{MinFaceSize: 40, MaxFaces: 1})
	prob := func(img video.Frame, f landmark.Face) float64 {
		crop, _, err := landmark.Align(img.Image, f, facecnn.InputSize)
		if err != nil {
			t.Fatal(err)
		}
		defer crop.Close()
		fr, err := d.Score(crop)
		if err != nil {
			t.Fatal(err)
		}
		return 1 / (1 + math.Exp(-fr.Logit))
	}
	var sum, signed float64
	n := 0
	next := time.Duration(0)
	for dec.Next() && n < 12 {
		fr := dec.Frame()
		obs, err := tr.Update(fr.Image)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := track.Largest(obs)
		if !ok || fr.Time < next {
			continue
		}
		next = fr.Time + 500*time.Millisecond
		moved := landmark.Face{Points: make([]media.Point, len(f.Points))}
		for i, p := range f.Points {
			moved.Points[i] = media.Point{X: p.X + 0.1, Y: p.Y + 0.07}
		}
		diff := prob(fr, moved) - prob(fr, f)
		sum += math.Abs(diff)
		signed += diff
		n++
	}
	if err := dec.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("clip mean moves %.3f", signed/float64(max(n, 1)))
	return sum / float64(max(n, 1)), n
}

// embeddedDetector is face_cnn with the model embedded in the binary.
func embeddedDetector(t *testing.T, modelDir string) *facecnn.Detector {
	t.Helper()
	card, head, err := models.Trained(facecnn.Name)
	if err != nil {
		t.Fatal(err)
	}
	var cfg facecnn.Config
	if err := json.Unmarshal(card.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	backbone, err := os.ReadFile(filepath.Join(modelDir, facecnn.BackboneFile))
	if err != nil {
		t.Fatal(err)
	}
	d, err := facecnn.New(facecnn.Options{Backbone: backbone, Head: head, Config: cfg, Version: card.Version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
