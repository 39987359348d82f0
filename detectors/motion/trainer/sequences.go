// Package trainer trains the motion detector's network (detectors/motion)
// in Go with GoMLX and exports it to ONNX.
//
// Training material: the measurement sequences of face tracks (Extract
// runs the scan pipeline itself, so training sees exactly what the
// detector sees), real and fake, and fakes the project makes from real
// sequences: an upper face frozen while the mouth talks (a photo animated
// by audio) and a mouth whose motion comes from another clip (lip-sync).
// Sequences are split into training and validation by clip.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/motion"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/gobfile"
)

// Sequence is the measured track of one clip's subject (its longest face
// track).
type Sequence struct {
	Frames []motion.Frame
	Fake   bool
	Method string
	Source string
}

// Set is a collection of sequences, saved as one gob file.
type Set struct {
	Sequences []Sequence
	Sources   []SourceCount
}

// SourceCount is one source of a Set and how many sequences it gave.
type SourceCount struct {
	Spec      string `json:"spec"`
	Sequences int    `json:"sequences"`
}

// Save writes s to path (a temporary file renamed into place).
func (s *Set) Save(path string) error { return gobfile.Save(path, s) }

// LoadSet reads a Set written by Save.
func LoadSet(path string) (*Set, error) {
	var s Set
	if err := gobfile.Load(path, &s); err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	return &s, nil
}

// Clip is one video to measure, with its label.
type Clip struct {
	Path   string
	Fake   bool
	Method string
}

// ErrNoSequences is returned when no clip gave a usable track.
var ErrNoSequences = errors.New("trainer: no face tracks")

// Extract measures the subject of each clip with the scan pipeline
// (decoding, tracking, landmarks, eye states, at the analysis frame rate)
// opened by open with the recorder it is given as its only detector. A
// clip that cannot be analysed is passed over; progress, when set, is
// told each clip.
func Extract(ctx context.Context, open func(detectors.Detector) (*scan.Analyzer, error), clips []Clip, spec string, progress func(path string, frames int)) (*Set, error) {
	rec := &recorder{tracks: map[int][]motion.Frame{}}
	a, err := open(rec)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	set := &Set{}
	for _, c := range clips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec.reset()
		if _, err := a.Analyze(ctx, c.Path, nil); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if progress != nil {
				progress(c.Path, -1)
			}
			continue
		}
		longest := rec.longest()
		if progress != nil {
			progress(c.Path, len(longest))
		}
		if len(longest) < motion.WindowLen {
			continue
		}
		set.Sequences = append(set.Sequences, Sequence{Frames: longest, Fake: c.Fake, Method: c.Method, Source: c.Path})
	}
	set.Sources = []SourceCount{{Spec: spec, Sequences: len(set.Sequences)}}
	if len(set.Sequences) == 0 {
		return set, ErrNoSequences
	}
	return set, nil
}

// recorder is a detector that keeps every track's measurements.
type recorder struct {
	mu     sync.Mutex
	tracks map[int][]motion.Frame
}

func (r *recorder) Name() string { return "motion_recorder" }

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tracks = map[int][]motion.Frame{}
}

func (r *recorder) longest() []motion.Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best []motion.Frame
	for _, fr := range r.tracks {
		if len(fr) > len(best) {
			best = fr
		}
	}
	return best
}

func (r *recorder) NewTrack(track int) detectors.TrackDetector {
	return &recordTrack{r: r, track: track}
}

type recordTrack struct {
	r     *recorder
	track int
}

func (t *recordTrack) Observe(_ context.Context, f *detectors.FaceFrame) error {
	fr, ok := motion.Measure(f)
	if !ok {
		return nil
	}
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	prev := t.r.tracks[t.track]
	if n := len(prev); n > 0 && fr.T <= prev[n-1].T {
		return nil
	}
	t.r.tracks[t.track] = append(prev, fr)
	return nil
}

func (t *recordTrack) Result(context.Context, detectors.TrackInfo) (detectors.Result, error) {
	return detectors.Result{Detector: "motion_recorder", Score: 0.5}, nil
}
