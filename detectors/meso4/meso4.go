// Package meso4 runs MesoNet's Meso4 (Afchar et al., 2018; the authors'
// DF weights converted to ONNX, Apache-2.0) on aligned face crops: a
// published baseline that trueframe eval measures its own detectors
// against. It is not part of the default scan.
package meso4

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Name is the detector's name in results.
const Name = "meso4"

// File is the installed model (models/manifest.json: meso4_df).
const File = "meso4_DF.onnx"

const size = 256

// Detector is safe for concurrent use (the session is locked); its
// TrackDetectors are not. Callers must call Close.
type Detector struct {
	mu   sync.Mutex
	sess *ortutil.Model
}

// New loads the model from modelDir. ONNX Runtime must be initialised.
func New(modelDir string) (*Detector, error) {
	path := filepath.Join(modelDir, File)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("meso4: %w (scripts/setup installs it when a model mirror has it)", err)
	}
	sess, err := ortutil.Load(path, []ortutil.Tensor{{Name: "input", Shape: []int64{1, 3, size, size}}},
		[]ortutil.Tensor{{Name: "prob", Shape: []int64{1, 1}}}, &ortutil.Options{AsIs: true})
	if err != nil {
		return nil, fmt.Errorf("meso4: %w (installed by scripts/setup from the model mirror)", err)
	}
	return &Detector{sess: sess}, nil
}

// Name returns "meso4".
func (d *Detector) Name() string { return Name }

// Version names the weights and the code around them (sampling).
func (d *Detector) Version() string { return "meso4-DF-2018+code2" }

// Close frees the session.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess == nil {
		return nil
	}
	err := d.sess.Close()
	d.sess = nil
	return err
}

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{d: d, track: track}
}

type trackDetector struct {
	d     *Detector
	track int
	last  time.Duration
	probs []float64
}

// Observe scores a frame every 500 ms.
func (t *trackDetector) Observe(ctx context.Context, f *detectors.FaceFrame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f == nil || (len(t.probs) > 0 && f.Time-t.last < 500*time.Millisecond && f.Time > t.last) {
		return nil
	}
	if f.Box.W < 40 || media.CheckBGR(f.Image) != nil || len(f.Landmarks) != landmark.NumPoints {
		return nil
	}
	crop, _, err := landmark.Align(f.Image, landmark.Face{Points: f.Landmarks}, size)
	if err != nil {
		return nil
	}
	defer crop.Close()
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	if t.d.sess == nil {
		return fmt.Errorf("meso4: closed")
	}
	if err := media.FillCHW(t.d.sess.Input(0), crop, media.UnitRange); err != nil {
		return err
	}
	if err := t.d.sess.Run(); err != nil {
		return err
	}
	t.last = f.Time
	t.probs = append(t.probs, 1-float64(t.d.sess.Output(0)[0])) // the model gives P(real)
	return nil
}

// Result is the mean probability of manipulation over the scored frames.
func (t *trackDetector) Result(context.Context, detectors.TrackInfo) (detectors.Result, error) {
	r := detectors.Result{Detector: Name, Score: 0.5, Measurements: map[string]float64{"frames_scored": float64(len(t.probs))}}
	if len(t.probs) == 0 {
		r.Explanation = "no face large enough to score"
		return r, nil
	}
	var mean float64
	for _, p := range t.probs {
		mean += p / float64(len(t.probs))
	}
	r.Score, r.Confidence = mean, math.Min(1, float64(len(t.probs))/8)
	r.Explanation = fmt.Sprintf("Meso4 (2018 baseline) gives a mean manipulation probability of %.2f over %d frames", mean, len(t.probs))
	return r, nil
}
