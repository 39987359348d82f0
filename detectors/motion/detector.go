package motion

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/internal/ortutil"
)

// Options configures a Detector.
type Options struct {
	// Model is the network's ONNX file, Config its architecture and
	// normalisation and Version its version (from the model card); all are
	// required.
	Model   []byte
	Config  Config
	Version string
	// Stride is the number of samples between the starts of windows (8:
	// 0.8 s).
	Stride int
}

// Detector runs the network on the windows of each track. It is safe for
// concurrent use; its TrackDetectors are not. Callers must call Close.
type Detector struct {
	opts Options
	mu   sync.Mutex
	sess *ortutil.Model
}

// New loads the network. ONNX Runtime must already be initialised.
func New(opts Options) (*Detector, error) {
	if len(opts.Model) == 0 || opts.Version == "" {
		return nil, errors.New("motion: no model")
	}
	opts.Config = opts.Config.WithDefaults()
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Stride <= 0 {
		opts.Stride = 8
	}
	sess, err := ortutil.LoadData(Name+" "+opts.Version, opts.Model,
		[]ortutil.Tensor{{Name: InputName, Shape: []int64{1, 1, WindowLen, InputChannels}}},
		[]ortutil.Tensor{{Name: OutputName, Shape: []int64{1, 1, 1, 1}}}, &ortutil.Options{AsIs: true})
	if err != nil {
		return nil, fmt.Errorf("motion: %w", err)
	}
	return &Detector{opts: opts, sess: sess}, nil
}

// Name returns "motion".
func (d *Detector) Name() string { return Name }

// Version returns the model's version.
func (d *Detector) Version() string { return d.opts.Version }

// Close frees the session. It is safe to call more than once.
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

// Logit runs the network on one window of WindowLen resampled frames.
func (d *Detector) Logit(w [][NumChannels]float64) (float64, error) {
	if len(w) != WindowLen {
		return 0, fmt.Errorf("motion: window of %d samples, want %d", len(w), WindowLen)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess == nil {
		return 0, errors.New("motion: detector closed")
	}
	WindowInput(w, d.opts.Config.Norm, d.sess.Input(0))
	if err := d.sess.Run(); err != nil {
		return 0, err
	}
	return float64(d.sess.Output(0)[0]), nil
}

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{d: d, track: track}
}

type trackDetector struct {
	d       *Detector
	track   int
	frames  []Frame
	skipped int
}

// Observe records the frame's measurements (14 numbers a frame).
func (t *trackDetector) Observe(ctx context.Context, f *detectors.FaceFrame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f == nil {
		return nil
	}
	if n := len(t.frames); n > 0 && f.Time <= t.frames[n-1].T {
		return nil
	}
	fr, ok := Measure(f)
	if !ok {
		t.skipped++
		return nil
	}
	t.frames = append(t.frames, fr)
	return nil
}

// minWindows is the number of windows at which the result's confidence
// reaches 1 (about 6 s of face).
const minWindows = 6

// Result judges the track's measured frames (Judge).
func (t *trackDetector) Result(_ context.Context, info detectors.TrackInfo) (detectors.Result, error) {
	r, err := t.d.Judge(t.frames)
	if err != nil {
		return r, fmt.Errorf("motion: track %d: %w", t.track, err)
	}
	r.Measurements["frames_skipped"] = float64(t.skipped)
	return r, nil
}

// Judge scores every window of a track's measured frames (in time order)
// and summarises them: the mean window probability, and per window the
// seconds it covers. The detector's track results are made here, so that
// recorded sequences (motion/trainer's sets) are scored exactly as a scan
// scores a face.
func (d *Detector) Judge(frames []Frame) (detectors.Result, error) {
	r := detectors.Result{Detector: Name, Score: 0.5, Measurements: map[string]float64{"frames_measured": float64(len(frames))}}
	step := time.Duration(float64(time.Second) / Rate)
	var probs []float64
	for _, run := range Resample(frames) {
		for s := 0; s+WindowLen <= len(run.Samples); s += d.opts.Stride {
			z, err := d.Logit(run.Samples[s : s+WindowLen])
			if err != nil {
				return r, err
			}
			p := 1 / (1 + math.Exp(-z))
			probs = append(probs, p)
			from := run.Start + time.Duration(s)*step
			r.Evidence = append(r.Evidence, detectors.Evidence{Kind: "interval", Start: from.Seconds(),
				End: (from + time.Duration(WindowLen-1)*step).Seconds(), Score: p,
				Note: "how wrongly the face moves over this window (landmark dynamics)"})
		}
	}
	r.Measurements["windows"] = float64(len(probs))
	if len(probs) == 0 {
		r.Explanation = fmt.Sprintf("too little continuous face for motion analysis (needs %.1f s)", float64(WindowLen)/Rate)
		return r, nil
	}
	var mean, top float64
	high := 0
	for _, p := range probs {
		mean += p / float64(len(probs))
		top = math.Max(top, p)
		if p >= 0.5 {
			high++
		}
	}
	r.Score = mean
	r.Confidence = math.Min(1, float64(len(probs))/minWindows)
	r.Measurements["mean_probability"] = mean
	r.Measurements["max_probability"] = top
	r.Measurements["share_windows_high"] = float64(high) / float64(len(probs))
	r.Explanation = fmt.Sprintf("the face's motion (mouth, jaw, eyes, brows, head) looks generated in %d of %d windows of %.1f s (mean probability %.2f)",
		high, len(probs), float64(WindowLen)/Rate, mean)
	return r, nil
}
