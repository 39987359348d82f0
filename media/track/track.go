// Package track follows faces across the frames of a video and gives each
// one a stable id.
//
// Face detection is the expensive, occasional step: it runs every few frames
// (and whenever a track is lost) to start new tracks. In between, each face
// is followed by refitting its landmarks in a region predicted from the
// previous frame's landmarks, which is both cheaper and steadier than
// detecting again. A track ends when the mesh's face-presence score stays low
// for a while; a face found again near where a recent track ended gets that
// track's id back.
package track

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/landmark"
)

// FaceFinder finds faces in a whole frame.
type FaceFinder interface {
	Detect(img gocv.Mat) ([]face.Detection, error)
}

// MeshFitter fits landmarks inside a region.
type MeshFitter interface {
	Fit(img gocv.Mat, roi media.ROI) (landmark.Face, error)
}

// Options tunes a Tracker; zero fields take the defaults.
type Options struct {
	DetectEvery int     // run the face detector every N frames (default 5)
	MinPresence float64 // mesh face-presence below this loses the face (default 0.5)
	MaxMissed   int     // frames a lost track may be revived within (default 15)
	MaxFaces    int     // faces tracked at once (default 8)
	MinFaceSize float64 // faces narrower than this (px) are not tracked (default 40)
	// LowLight, when set, finds faces and fits their landmarks in frames
	// darker than DarkBelow on a copy brightened to a mid-grey mean (a
	// gamma curve): in dim footage the face models miss faces a viewer sees
	// (a DFDC clip of a dim room: no face in any frame). Only where the
	// faces are comes from the copy; callers analyse the frame as it is.
	// Off by default, so that what has been fingerprinted stays the same.
	LowLight bool
}

// DarkBelow is the mean grey level (0–255) under which a frame counts as
// dark for Options.LowLight, and brightMean the mean its copy is
// brightened to.
const (
	DarkBelow  = 64
	brightMean = 110
)

func (o Options) withDefaults() Options {
	if o.DetectEvery <= 0 {
		o.DetectEvery = 5
	}
	if o.MinPresence <= 0 {
		o.MinPresence = 0.5
	}
	if o.MaxMissed <= 0 {
		o.MaxMissed = 15
	}
	if o.MaxFaces <= 0 {
		o.MaxFaces = 8
	}
	if o.MinFaceSize <= 0 {
		o.MinFaceSize = 40
	}
	return o
}

// Observation is one tracked face in the current frame.
type Observation struct {
	ID   int
	Face landmark.Face
	// Detected is true when the face detector (not landmark tracking)
	// placed the face in this frame.
	Detected bool
}

// Largest returns the face of obs with the largest landmark box: the main
// subject, for the callers that follow one face per clip. ok is false when
// obs has no face of positive area.
func Largest(obs []Observation) (landmark.Face, bool) {
	best, area := -1, 0.0
	for i, o := range obs {
		if a := o.Face.Box().Area(); a > area {
			best, area = i, a
		}
	}
	if best < 0 {
		return landmark.Face{}, false
	}
	return obs[best].Face, true
}

type state struct {
	id     int
	face   landmark.Face
	box    media.Rect
	missed int // consecutive frames without a fit
}

// Tracker follows faces through consecutive frames of one video. It is not
// safe for concurrent use.
type Tracker struct {
	finder FaceFinder
	fitter MeshFitter
	opts   Options
	tracks []*state
	nextID int
	frame  int
	lut    gocv.Mat // gamma table of the last dark frame, when LowLight
	gamma  float64  // the table's gamma
	bright gocv.Mat // the brightened copy of the current frame
}

// New returns a Tracker using finder and fitter; opts may be nil.
func New(finder FaceFinder, fitter MeshFitter, opts *Options) *Tracker {
	var o Options
	if opts != nil {
		o = *opts
	}
	return &Tracker{finder: finder, fitter: fitter, opts: o.withDefaults(), nextID: 1}
}

// Update processes the next frame and returns the faces in it, by id.
func (t *Tracker) Update(img gocv.Mat) ([]Observation, error) {
	if err := media.CheckBGR(img); err != nil {
		return nil, err
	}
	defer func() { t.frame++ }()
	img = t.seeing(img)
	var out []Observation
	lost := false
	for _, s := range t.tracks {
		if s.missed > 0 {
			s.missed++
			continue
		}
		f, ok, err := t.fit(img, s.face.NextROI())
		if err != nil {
			return nil, err
		}
		if !ok {
			s.missed, lost = 1, true
			continue
		}
		s.face, s.box = f, f.Box()
		out = append(out, Observation{ID: s.id, Face: f})
	}

	// Detect on schedule, at once when a face was lost, and twice as often
	// while no face is on screen.
	if t.frame%t.opts.DetectEvery == 0 || lost || len(out) == 0 && t.frame%max(1, t.opts.DetectEvery/2) == 0 {
		found, err := t.detect(img, out)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	out = t.dedupe(out)

	kept := t.tracks[:0]
	for _, s := range t.tracks {
		if s.missed <= t.opts.MaxMissed {
			kept = append(kept, s)
		}
	}
	t.tracks = kept
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// seeing returns the image faces are sought in: img itself, or with
// Options.LowLight and a dark img, a copy brightened by a gamma curve that
// takes its mean grey level to brightMean.
func (t *Tracker) seeing(img gocv.Mat) gocv.Mat {
	if !t.opts.LowLight {
		return img
	}
	m := img.Mean()
	grey := 0.114*m.Val1 + 0.587*m.Val2 + 0.299*m.Val3
	if grey >= DarkBelow || grey < 1 {
		return img
	}
	gamma := min(1, max(0.3, math.Log(brightMean/255.0)/math.Log(grey/255)))
	if t.lut.Ptr() == nil || math.Abs(gamma-t.gamma) > 0.01 {
		if t.lut.Ptr() == nil {
			t.lut = gocv.NewMatWithSize(1, 256, gocv.MatTypeCV8UC1)
		}
		for i := range 256 {
			t.lut.SetUCharAt(0, i, uint8(math.Round(255*math.Pow(float64(i)/255, gamma))))
		}
		t.gamma = gamma
	}
	if t.bright.Ptr() == nil {
		t.bright = gocv.NewMat()
	}
	gocv.LUT(img, t.lut, &t.bright)
	return t.bright
}

// Close frees the brightening buffers of Options.LowLight. A Tracker
// without them needs no Close.
func (t *Tracker) Close() error {
	if t.lut.Ptr() != nil {
		t.lut.Close()
	}
	if t.bright.Ptr() != nil {
		t.bright.Close()
	}
	return nil
}

// detect runs the face detector and starts or revives tracks for faces not
// already followed.
func (t *Tracker) detect(img gocv.Mat, current []Observation) ([]Observation, error) {
	dets, err := t.finder.Detect(img)
	if err != nil {
		return nil, fmt.Errorf("face detection: %w", err)
	}
	sort.Slice(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
	var out []Observation
	for _, d := range dets {
		if d.Box.W < t.opts.MinFaceSize {
			continue
		}
		if covered(d.Box, current) || covered(d.Box, out) {
			continue
		}
		var re, le *media.Point
		if len(d.Keypoints) >= 2 {
			re, le = &d.Keypoints[0], &d.Keypoints[1]
		}
		f, ok, err := t.fit(img, landmark.ROIFromBox(d.Box, re, le))
		if err != nil {
			return nil, err
		}
		if !ok || covered(f.Box(), current) || covered(f.Box(), out) {
			continue
		}
		s := t.revive(f.Box())
		if s == nil {
			if t.active()+len(out) >= t.opts.MaxFaces {
				continue
			}
			s = &state{id: t.nextID}
			t.nextID++
			t.tracks = append(t.tracks, s)
		}
		s.face, s.box, s.missed = f, f.Box(), 0
		out = append(out, Observation{ID: s.id, Face: f, Detected: true})
	}
	return out, nil
}

// revive returns the lost track nearest to box, if one is close enough to be
// the same face.
func (t *Tracker) revive(box media.Rect) *state {
	var best *state
	bestDist := math.Inf(1)
	for _, s := range t.tracks {
		if s.missed == 0 {
			continue
		}
		d := s.box.Center().Dist(box.Center())
		if d < bestDist && d < 0.75*math.Max(s.box.W, box.W) && box.W < 2*s.box.W && s.box.W < 2*box.W {
			best, bestDist = s, d
		}
	}
	return best
}

func (t *Tracker) fit(img gocv.Mat, roi media.ROI) (landmark.Face, bool, error) {
	b := roi.Bounds()
	inside := b.Intersect(media.Rect{W: float64(img.Cols()), H: float64(img.Rows())}).Area()
	// Written so that NaN (a degenerate prediction) fails the test too.
	if !(roi.Size >= t.opts.MinFaceSize) || !(inside >= 0.25*b.Area()) {
		return landmark.Face{}, false, nil // too small, mostly outside the frame, or not a region
	}
	f, err := t.fitter.Fit(img, roi)
	if errors.Is(err, landmark.ErrBadROI) {
		return landmark.Face{}, false, nil // lose the face, not the scan
	}
	if err != nil {
		return landmark.Face{}, false, err
	}
	return f, f.Presence >= t.opts.MinPresence, nil
}

// dedupe drops the younger of two tracks that converged on the same face.
func (t *Tracker) dedupe(obs []Observation) []Observation {
	sort.Slice(obs, func(i, j int) bool { return obs[i].ID < obs[j].ID })
	var out []Observation
	for _, o := range obs {
		if covered(o.Face.Box(), out) {
			for _, s := range t.tracks {
				if s.id == o.ID {
					s.missed = t.opts.MaxMissed + 1 // end it
				}
			}
			continue
		}
		out = append(out, o)
	}
	return out
}

func (t *Tracker) active() int {
	n := 0
	for _, s := range t.tracks {
		if s.missed == 0 {
			n++
		}
	}
	return n
}

func covered(box media.Rect, obs []Observation) bool {
	for _, o := range obs {
		if box.IoU(o.Face.Box()) > 0.4 {
			return true
		}
	}
	return false
}
