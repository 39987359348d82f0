package lrnet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/internal/ortutil"
)

// BlockLen is the number of analysed frames the networks read at once: two
// seconds at the scan's 15 frames a second (LRNet's own blocks are 60
// frames of 25–30 a second; the networks take any length).
const BlockLen = 30

// Score scale: a track's score is sigmoid((mean logit sum − scoreCenter) /
// scoreScale). The published networks are far from their training data on
// Face Mesh landmarks — real clips get a logit sum around +10 — so the
// center sits at the project's permissive real clips' typical sum and the
// scale keeps the range real and fake clips span (about −5 to +25) inside
// the fusion's clipped log-odds.
const (
	scoreCenter = 10
	scoreScale  = 5
)

// ErrNotInstalled is returned when the weights are not in the model
// directory (they come only from a model mirror).
var ErrNotInstalled = errors.New("lrnet: weights not installed (they come from a model mirror: see scripts/setup)")

// Detector runs the two networks on the blocks of each track. It is safe
// for concurrent use; its TrackDetectors are not. Callers must call Close.
type Detector struct {
	mu      sync.Mutex
	sess    *ortutil.Model
	version string
}

// New reads the published weights from modelDir, converts them to one
// ONNX model and opens it. ONNX Runtime must already be initialised.
func New(modelDir string) (*Detector, error) {
	var branches [2]*branch
	for i, name := range []string{PositionsFile, StepsFile} {
		path := filepath.Join(modelDir, name)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotInstalled, err)
		}
		b, err := readBranch(path)
		if err != nil {
			return nil, err
		}
		branches[i] = b
	}
	// The weights of frederickszk/LRNet @ 9a172a0c, fed landmark.IBUG68.
	const version = "lrnet-ff-raw-2022-11-05+ibug68"
	model, err := buildModel(branches[0], branches[1], version)
	if err != nil {
		return nil, fmt.Errorf("lrnet: %w", err)
	}
	sess, err := ortutil.LoadData(Name+" "+version, model,
		[]ortutil.Tensor{
			{Name: positionsInput, Shape: []int64{1, BlockLen, inputs}},
			{Name: stepsInput, Shape: []int64{1, BlockLen - 1, inputs}},
		},
		[]ortutil.Tensor{
			{Name: positionsLogit, Shape: []int64{1, classes}},
			{Name: stepsLogit, Shape: []int64{1, classes}},
		}, &ortutil.Options{AsIs: true})
	if err != nil {
		return nil, fmt.Errorf("lrnet: %w", err)
	}
	return &Detector{sess: sess, version: version}, nil
}

// Name returns "lrnet".
func (d *Detector) Name() string { return Name }

// Version names the published weights.
func (d *Detector) Version() string { return d.version }

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

// Logits runs both networks on one block of BlockLen normalised frames and
// returns each one's fake-minus-real logit: g1 on the positions, g2 on the
// steps between them.
func (d *Detector) Logits(block []Frame) (positions, steps float64, err error) {
	if len(block) != BlockLen {
		return 0, 0, fmt.Errorf("lrnet: block of %d frames, want %d", len(block), BlockLen)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess == nil {
		return 0, 0, errors.New("lrnet: detector closed")
	}
	pos, step := d.sess.Input(0), d.sess.Input(1)
	for t := range block {
		copy(pos[t*inputs:], block[t][:])
		if t+1 < len(block) {
			for k := range inputs {
				step[t*inputs+k] = block[t+1][k] - block[t][k]
			}
		}
	}
	if err := d.sess.Run(); err != nil {
		return 0, 0, err
	}
	p, s := d.sess.Output(0), d.sess.Output(1)
	return float64(p[1] - p[0]), float64(s[1] - s[0]), nil
}

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{d: d, track: track}
}

type trackDetector struct {
	d      *Detector
	track  int
	cal    Calibrator
	frames []int
	points []Frame
}

// Observe maps the frame's mesh onto the 68 points and calibrates them.
func (t *trackDetector) Observe(ctx context.Context, f *detectors.FaceFrame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f == nil || f.Image.Empty() || f.Image.Channels() != 3 {
		return nil
	}
	det, ok := FromMesh(f.Landmarks)
	if !ok || (len(t.frames) > 0 && f.Frame <= t.frames[len(t.frames)-1]) {
		return nil
	}
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(f.Image, &grey, gocv.ColorBGRToGray)
	t.frames = append(t.frames, f.Frame)
	t.points = append(t.points, t.cal.Next(grey, f.Frame, det))
	return nil
}

// Close frees the frame the calibrator keeps (the scan closes every track
// analyser however its analysis ends). It is safe to call more than once.
func (t *trackDetector) Close() error {
	t.cal.Close()
	return nil
}

// Result scores the track's blocks; the score is the mean over blocks of
// both networks' logits, scaled (see scoreCenter).
func (t *trackDetector) Result(_ context.Context, info detectors.TrackInfo) (detectors.Result, error) {
	t.cal.Close() // the frame it keeps is no longer needed
	r := detectors.Result{Detector: Name, Score: 0.5, Measurements: map[string]float64{"frames_measured": float64(len(t.frames))}}
	var sums, pos, steps []float64
	for _, run := range runs(t.frames) {
		norm := Normalise(t.points[run[0]:run[1]])
		for s := 0; s+BlockLen <= len(norm); s += BlockLen {
			p, st, err := t.d.Logits(norm[s : s+BlockLen])
			if err != nil {
				return r, fmt.Errorf("lrnet: track %d: %w", t.track, err)
			}
			pos, steps, sums = append(pos, p), append(steps, st), append(sums, p+st)
			if info.FPS > 0 {
				from, to := t.frames[run[0]+s], t.frames[run[0]+s+BlockLen-1]
				r.Evidence = append(r.Evidence, detectors.Evidence{Kind: "interval",
					Start: float64(from) / info.FPS, End: float64(to) / info.FPS,
					Score: sigmoid((p + st - scoreCenter) / scoreScale),
					Note:  "how the 68 landmarks move over this block, to LRNet (positions and steps)"})
			}
		}
	}
	r.Measurements["blocks"] = float64(len(sums))
	if len(sums) == 0 {
		r.Explanation = fmt.Sprintf("too little continuous face for LRNet (needs %d analysed frames in a row)", BlockLen)
		return r, nil
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	r.Measurements["positions_logit"] = mean(pos)
	r.Measurements["steps_logit"] = mean(steps)
	r.Score = sigmoid((mean(sums) - scoreCenter) / scoreScale)
	r.Confidence = math.Min(1, float64(len(sums))/3)
	r.Explanation = fmt.Sprintf("LRNet's published networks read the landmarks' positions and steps over %d two-second blocks: fake-minus-real logits %.1f and %.1f on average",
		len(sums), mean(pos), mean(steps))
	return r, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// runs splits a track's frame indices where a step exceeds twice the usual
// one (the face was lost for a while) and returns [start, end) index pairs.
func runs(frames []int) [][2]int {
	if len(frames) == 0 {
		return nil
	}
	stepsSeen := make([]int, 0, len(frames))
	for i := 1; i < len(frames); i++ {
		stepsSeen = append(stepsSeen, frames[i]-frames[i-1])
	}
	usual := 1
	if len(stepsSeen) > 0 {
		sort.Ints(stepsSeen)
		usual = stepsSeen[len(stepsSeen)/2]
	}
	var out [][2]int
	start := 0
	for i := 1; i < len(frames); i++ {
		if frames[i]-frames[i-1] > 2*usual {
			out = append(out, [2]int{start, i})
			start = i
		}
	}
	return append(out, [2]int{start, len(frames)})
}
