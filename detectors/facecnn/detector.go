package facecnn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Options configures a Detector. Zero fields take the defaults shown.
type Options struct {
	// Backbone is the content of BackboneFile; Head the trained head's ONNX
	// file, Config its architecture and Version its version (from the
	// model card). All are required.
	Backbone []byte
	Head     []byte
	Config   Config
	Version  string
	// Interval is the least time between analysed frames of a track
	// (500 ms: two frames a second; the track's score is their mean, which
	// more frames hardly move, and each costs a backbone run).
	Interval time.Duration
	// MinFaceWidth is the narrowest face, in image pixels, analysed (40):
	// below it the crop is mostly interpolation.
	MinFaceWidth float64
	// Phases is how many sub-pixel phases of the alignment a frame is
	// scored at, their logits and patch maps averaged: 4 (the default)
	// scores the crop shifted by ±¼ pixel across and down, 1 the alignment
	// as fitted. The network answers to the crop's sub-pixel phase, and
	// landmarks move by fractions of a pixel between frames and between
	// CPUs: on the worst clips found, a tenth of a pixel moved a frame's
	// probability by 0.13 and 0.12 at one phase, by 0.02 and 0.05 at four,
	// which cost four backbone runs a frame.
	Phases int
}

// errNoCrop marks a frame whose face could not be cropped: the track
// skips it, as one without landmarks.
var errNoCrop = errors.New("facecnn: face cannot be cropped")

// phaseOffsets returns the shifts, in crop pixels, of the n×n grid of
// phases: evenly spaced, one pixel period in all, centred on the fitted
// alignment.
func phaseOffsets(n int) []float64 {
	offs := make([]float64, n)
	for i := range offs {
		offs[i] = (float64(i)+0.5)/float64(n) - 0.5
	}
	return offs
}

// Detector runs the network on the faces of a video. It is safe for
// concurrent use (the session is locked); its TrackDetectors are not.
// Callers must call Close.
type Detector struct {
	opts     Options
	cut      Cut
	mu       sync.Mutex
	backbone *Backbone
	head     *ortutil.Model
	face     []float32 // InputSize² RGB in [0,1]
}

// New loads the backbone and the head. ONNX Runtime must already be
// initialised.
func New(opts Options) (_ *Detector, err error) {
	if len(opts.Backbone) == 0 || len(opts.Head) == 0 || opts.Version == "" {
		return nil, errors.New("facecnn: no model")
	}
	opts.Config = opts.Config.WithDefaults()
	cut, err := opts.Config.FeatureCut()
	if err != nil {
		return nil, err
	}
	if opts.Interval <= 0 {
		opts.Interval = 500 * time.Millisecond
	}
	if opts.MinFaceWidth <= 0 {
		opts.MinFaceWidth = 40
	}
	switch opts.Phases {
	case 0:
		opts.Phases = 4
	case 1, 4, 9:
	default:
		return nil, fmt.Errorf("facecnn: %d phases, want 1, 4 or 9", opts.Phases)
	}
	d := &Detector{opts: opts, cut: cut, face: make([]float32, 3*InputSize*InputSize)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.backbone, err = NewBackbone(opts.Backbone, cut, 1, 1); err != nil {
		return nil, err
	}
	d.head, err = ortutil.LoadData(Name+" "+opts.Version, opts.Head,
		[]ortutil.Tensor{{Name: InputName, Shape: []int64{1, int64(cut.H), int64(cut.W), int64(cut.C)}}},
		[]ortutil.Tensor{{Name: OutputName, Shape: []int64{1, GridSize, GridSize, 1}}}, &ortutil.Options{AsIs: true})
	if err != nil {
		return nil, fmt.Errorf("facecnn: %w", err)
	}
	return d, nil
}

// Name returns "face_cnn".
func (d *Detector) Name() string { return Name }

// CodeVersion is the version of the detector's code around the model:
// bump it whenever a change (sampling, aggregation) moves its scores.
const CodeVersion = "3"

// Version returns the model's version and the code's.
func (d *Detector) Version() string {
	v := d.opts.Version + "+code" + CodeVersion
	if d.opts.Phases != 4 {
		v += fmt.Sprintf("+phases%d", d.opts.Phases)
	}
	return v
}

// Close frees the sessions. It is safe to call more than once.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	if d.backbone != nil {
		errs = append(errs, d.backbone.Close())
		d.backbone = nil
	}
	if d.head != nil {
		errs = append(errs, d.head.Close())
		d.head = nil
	}
	return errors.Join(errs...)
}

// Frame is the network's verdict on one aligned face crop.
type Frame struct {
	Logit   float64                      // the frame's: mean of the patches'
	Patches [GridSize * GridSize]float64 // patch logits, row-major
}

// Score runs the network on an InputSize² BGR aligned crop.
func (d *Detector) Score(crop gocv.Mat) (Frame, error) {
	if err := media.CheckBGR(crop); err != nil {
		return Frame{}, err
	}
	if crop.Cols() != InputSize || crop.Rows() != InputSize {
		return Frame{}, fmt.Errorf("facecnn: crop is %dx%d, want %d", crop.Cols(), crop.Rows(), InputSize)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.head == nil {
		return Frame{}, errors.New("facecnn: detector closed")
	}
	if err := media.FillHWC(d.face, crop, media.UnitRange); err != nil {
		return Frame{}, err
	}
	return d.score(d.face)
}

// ScoreRGB runs the network on an aligned face given as InputSize² RGB
// values in [0,1], interleaved (HWC).
func (d *Detector) ScoreRGB(face []float32) (Frame, error) {
	if len(face) != 3*InputSize*InputSize {
		return Frame{}, fmt.Errorf("facecnn: face has %d values, want %d", len(face), 3*InputSize*InputSize)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.head == nil {
		return Frame{}, errors.New("facecnn: detector closed")
	}
	return d.score(face)
}

// score runs backbone and head on face; d.mu must be held.
func (d *Detector) score(face []float32) (Frame, error) {
	if err := d.backbone.Features([][]float32{face}, d.head.Input(0)); err != nil {
		return Frame{}, err
	}
	if err := d.head.Run(); err != nil {
		return Frame{}, err
	}
	var f Frame
	for i, v := range d.head.Output(0) {
		f.Patches[i] = float64(v)
	}
	f.Logit = FrameLogit(f.Patches[:])
	return f, nil
}

// ScorePhases scores the InputSize² crop that m maps img to at each of
// the detector's sub-pixel phases (Options.Phases) and returns the mean of
// their patch logits with its frame logit, and the first phase's crop,
// which the caller must Close.
func (d *Detector) ScorePhases(img gocv.Mat, m media.Affine) (Frame, gocv.Mat, error) {
	offs := phaseOffsets(int(math.Round(math.Sqrt(float64(d.opts.Phases)))))
	n := float64(len(offs) * len(offs))
	var mean Frame
	var crops []gocv.Mat
	fail := func(err error) (Frame, gocv.Mat, error) {
		for _, c := range crops {
			c.Close()
		}
		return Frame{}, gocv.Mat{}, err
	}
	for _, oy := range offs {
		for _, ox := range offs {
			shifted := m
			shifted.C += ox
			shifted.F += oy
			crop, err := media.Warp(img, shifted, InputSize, InputSize)
			if err != nil {
				return fail(fmt.Errorf("%w: %w", errNoCrop, err))
			}
			crops = append(crops, crop)
			fr, err := d.Score(crop)
			if err != nil {
				return fail(err)
			}
			for k, v := range fr.Patches {
				mean.Patches[k] += v / n
			}
		}
	}
	for _, c := range crops[1:] {
		c.Close()
	}
	mean.Logit = FrameLogit(mean.Patches[:])
	return mean, crops[0], nil
}

// FrameLogit is the frame's logit from its patch logits: the log of the
// mean of their exponentials, a soft maximum (what training optimised).
func FrameLogit(patches []float64) float64 {
	top := math.Inf(-1)
	for _, v := range patches {
		top = math.Max(top, v)
	}
	var sum float64
	for _, v := range patches {
		sum += math.Exp(v - top)
	}
	return top + math.Log(sum/float64(len(patches)))
}

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{d: d, track: track, best: -1}
}

type frameScore struct {
	frame int
	t     time.Duration
	prob  float64
}

type trackDetector struct {
	d       *Detector
	track   int
	last    time.Duration
	started bool
	frames  []frameScore
	skipped int

	best      float64 // probability of the strongest frame so far
	bestFrame frameScore
	bestBox   media.Rect
	bestCrop  []byte // BGR InputSize² crop of that frame
	bestMap   Frame
}

// Observe scores f when a frame is due (one per Interval).
func (t *trackDetector) Observe(ctx context.Context, f *detectors.FaceFrame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f == nil || (t.started && f.Time-t.last < t.d.opts.Interval && f.Time > t.last) {
		return nil
	}
	if f.Box.W < t.d.opts.MinFaceWidth || media.CheckBGR(f.Image) != nil || len(f.Landmarks) != landmark.NumPoints {
		t.skipped++
		return nil
	}
	m, err := landmark.AlignTransform(landmark.Face{Points: f.Landmarks}, InputSize)
	if err != nil {
		t.skipped++
		return nil
	}
	fr, crop, err := t.d.ScorePhases(f.Image, m)
	if errors.Is(err, errNoCrop) {
		t.skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("facecnn: track %d frame %d: %w", t.track, f.Frame, err)
	}
	defer crop.Close()
	t.started, t.last = true, f.Time
	fs := frameScore{frame: f.Frame, t: f.Time, prob: sigmoid(fr.Logit)}
	t.frames = append(t.frames, fs)
	if fs.prob > t.best {
		if data, err := crop.DataPtrUint8(); err == nil {
			t.best, t.bestFrame, t.bestBox, t.bestMap = fs.prob, fs, f.Box, fr
			t.bestCrop = append(t.bestCrop[:0], data...)
		}
	}
	return nil
}

// minFrames is the number of scored frames at which the result's
// confidence reaches 1.
const minFrames = 8

// Result summarises the track: the mean of the frames' probabilities, the
// seconds where they were high, and the patch map of the strongest frame.
func (t *trackDetector) Result(_ context.Context, info detectors.TrackInfo) (detectors.Result, error) {
	r := detectors.Result{Detector: Name, Score: 0.5, Measurements: map[string]float64{
		"frames_scored": float64(len(t.frames)), "frames_skipped": float64(t.skipped)}}
	if len(t.frames) == 0 {
		r.Explanation = "no frame with a face large enough to score"
		return r, nil
	}
	probs := make([]float64, len(t.frames))
	var mean float64
	high := 0
	for i, f := range t.frames {
		probs[i] = f.prob
		mean += f.prob / float64(len(t.frames))
		if f.prob >= 0.5 {
			high++
		}
	}
	sort.Float64s(probs)
	r.Score = mean
	r.Confidence = math.Min(1, float64(len(t.frames))/minFrames)
	r.Measurements["mean_probability"] = mean
	r.Measurements["median_probability"] = probs[len(probs)/2]
	r.Measurements["max_probability"] = probs[len(probs)-1]
	r.Measurements["share_frames_high"] = float64(high) / float64(len(t.frames))
	r.Explanation = fmt.Sprintf("the face network finds traces of pasting or synthesis in %d of %d sampled frames (mean probability %.2f; strongest %.2f at %.1f s)",
		high, len(t.frames), mean, t.best, t.bestFrame.t.Seconds())

	// Per-second evidence for the timeline: the mean probability of the
	// frames of each second.
	bySecond := map[int][]float64{}
	for _, f := range t.frames {
		s := int(f.t.Seconds())
		bySecond[s] = append(bySecond[s], f.prob)
	}
	secs := make([]int, 0, len(bySecond))
	for s := range bySecond {
		secs = append(secs, s)
	}
	sort.Ints(secs)
	for _, s := range secs {
		var m float64
		for _, p := range bySecond[s] {
			m += p / float64(len(bySecond[s]))
		}
		r.Evidence = append(r.Evidence, detectors.Evidence{Kind: "interval", Start: float64(s), End: float64(s + 1), Score: m,
			Note: fmt.Sprintf("mean probability of %d sampled frames", len(bySecond[s]))})
	}
	if png, err := t.heatmap(); err == nil {
		name := fmt.Sprintf("face_cnn_track%d.png", t.track)
		r.Artifacts = map[string][]byte{name: png}
		box := t.bestBox
		r.Evidence = append(r.Evidence, detectors.Evidence{Kind: "frame", Start: t.bestFrame.t.Seconds(), End: t.bestFrame.t.Seconds(),
			Frame: t.bestFrame.frame, Region: &box, Image: name, Score: t.best,
			Note: "the strongest frame: each patch of the aligned face coloured by how manipulated the network finds it (red high)"})
	}
	return r, nil
}

// heatmap renders the strongest frame's aligned crop at twice its size
// with each patch tinted by its probability: red where the network found
// manipulation, untouched where it did not.
func (t *trackDetector) heatmap() ([]byte, error) {
	if len(t.bestCrop) != 3*InputSize*InputSize {
		return nil, errors.New("facecnn: no crop")
	}
	const scale = 1
	side := InputSize * scale
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	cell := InputSize / GridSize
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			sx, sy := x/scale, y/scale
			i := 3 * (sy*InputSize + sx)
			b, g, r := float64(t.bestCrop[i]), float64(t.bestCrop[i+1]), float64(t.bestCrop[i+2])
			p := sigmoid(t.bestMap.Patches[(sy/cell)*GridSize+sx/cell])
			a := 0.6 * p
			grey := 0.299*r + 0.587*g + 0.114*b
			img.Set(x, y, color.RGBA{R: uint8((1-a)*grey + a*255), G: uint8((1 - a) * grey), B: uint8((1 - a) * grey), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
