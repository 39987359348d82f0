// Package meso4 runs MesoNet's Meso4 (Afchar et al., 2018; the authors'
// weights converted to ONNX, Apache-2.0) on aligned face crops: a
// published baseline that trueframe eval measures its own detectors
// against, and one more opinion the fusion weighs. The authors trained two
// sets of weights: DF on face swaps (Deepfakes) and F2F on Face2Face, an
// expression reenactment that redraws the mouth and cheeks of a real face —
// the published training set closest to lip-sync and talking heads.
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
	"github.com/trueframe/trueframe/detectors/internal/region"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Weights names one of the authors' trained weight sets.
type Weights struct {
	Name    string // the detector's name in results
	File    string // the installed model (models/manifest.json)
	Version string // names the weights and the code around them (sampling)
	Label   string // the weights in explanations ("" for the usual DF ones)
}

// The two weight sets.
var (
	DF  = Weights{Name: Name, File: "meso4_DF.onnx", Version: "meso4-DF-2018+code3"}
	F2F = Weights{Name: Name + "_f2f", File: "meso4_F2F.onnx", Version: "meso4-F2F-2018+code3", Label: "reenactment (F2F) weights"}
)

// Name is the DF detector's name in results, the plain name it has always
// had.
const Name = "meso4"

const size = 256

// Meso4 reads a 256-px face, and the face swaps it learned from were
// generated small and scaled up: to it, blur from upscaling looks like a
// swap. A face that must be scaled up more than trustedUpscale times to
// reach its input is weighed less, and not at all from untrustedUpscale.
// On the real clips the project may measure on (the shared reals and the
// dev set's held-out train reals, as they are, at CRF 35 and at half size:
// 110 analyses), faces scaled up 2.25× or more (under about 75 px wide)
// got a mean of 0.81, 18 of 19 above 0.5 — near the 0.88 of fakes that
// size — against 0.30 under 2×.
const (
	trustedUpscale   = 2.0
	untrustedUpscale = 3.0
)

// resolutionTrust is the share of Meso4's confidence a face keeps when
// Align scales it up by upscale: 1 up to trustedUpscale, falling linearly
// to 0 at untrustedUpscale.
func resolutionTrust(upscale float64) float64 {
	switch {
	case !(upscale > trustedUpscale): // NaN too: no measurement, no penalty
		return 1
	case upscale >= untrustedUpscale:
		return 0
	}
	return (untrustedUpscale - upscale) / (untrustedUpscale - trustedUpscale)
}

// Detector is safe for concurrent use (the session is locked); its
// TrackDetectors are not. Callers must call Close.
type Detector struct {
	w    Weights
	mu   sync.Mutex
	sess *ortutil.Model
}

// New loads the weights w from modelDir. ONNX Runtime must be initialised.
func New(modelDir string, w Weights) (*Detector, error) {
	path := filepath.Join(modelDir, w.File)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w (scripts/setup installs it when a model mirror has it)", w.Name, err)
	}
	sess, err := ortutil.Load(path, []ortutil.Tensor{{Name: "input", Shape: []int64{1, 3, size, size}}},
		[]ortutil.Tensor{{Name: "prob", Shape: []int64{1, 1}}}, &ortutil.Options{AsIs: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w (installed by scripts/setup from the model mirror)", w.Name, err)
	}
	return &Detector{w: w, sess: sess}, nil
}

// Name returns the weights' detector name.
func (d *Detector) Name() string { return d.w.Name }

// Version names the weights and the code around them (sampling).
func (d *Detector) Version() string { return d.w.Version }

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
	// upscales holds, per scored frame, how many crop pixels Align made of
	// one image pixel.
	upscales []float64
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
	crop, m, err := landmark.Align(f.Image, landmark.Face{Points: f.Landmarks}, size)
	if err != nil {
		return nil
	}
	defer crop.Close()
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	if t.d.sess == nil {
		return fmt.Errorf("%s: closed", t.d.w.Name)
	}
	if err := media.FillCHW(t.d.sess.Input(0), crop, media.UnitRange); err != nil {
		return err
	}
	if err := t.d.sess.Run(); err != nil {
		return err
	}
	t.last = f.Time
	t.probs = append(t.probs, 1-float64(t.d.sess.Output(0)[0])) // the model gives P(real)
	// Align maps by a similarity: its scale is the length of a column.
	t.upscales = append(t.upscales, math.Hypot(m.A, m.D))
	return nil
}

// Result is the mean probability of manipulation over the scored frames;
// its confidence grows with their number and falls with the face's median
// upscale (resolutionTrust).
func (t *trackDetector) Result(context.Context, detectors.TrackInfo) (detectors.Result, error) {
	r := detectors.Result{Detector: t.d.w.Name, Score: 0.5, Measurements: map[string]float64{"frames_scored": float64(len(t.probs))}}
	if len(t.probs) == 0 {
		r.Explanation = "no face large enough to score"
		return r, nil
	}
	var mean float64
	for _, p := range t.probs {
		mean += p / float64(len(t.probs))
	}
	upscale := region.Median(t.upscales)
	trust := resolutionTrust(upscale)
	r.Score, r.Confidence = mean, math.Min(1, float64(len(t.probs))/8)*trust
	r.Measurements["upscale"], r.Measurements["resolution_trust"] = upscale, trust
	name := "Meso4"
	if t.d.w.Label != "" {
		name += " with its " + t.d.w.Label
	}
	r.Explanation = fmt.Sprintf("%s (2018 baseline) gives a mean manipulation probability of %.2f over %d frames", name, mean, len(t.probs))
	if trust < 1 {
		r.Explanation += fmt.Sprintf("; the face is scaled up %.1f× to its %d-px input, where upscaling alone looks like a swap to it, so it counts %.0f%%", upscale, size, 100*trust)
	}
	return r, nil
}
