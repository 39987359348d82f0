// Package motion is the temporal landmark detector: it watches how a face
// moves rather than how it looks. Reenacted faces, talking heads animated
// from one photo and lip-synced mouths can blend perfectly and still move
// wrongly — a mouth whose motion does not carry into the jaw and cheeks, an
// upper face frozen while the mouth talks, head motion too smooth or too
// jittery. Each analysed frame of a track gives a vector of geometric
// measurements from its Face Mesh landmarks and eye states (Features);
// windows of those, resampled to a fixed rate, go through a small 1-D
// convolutional network trained by the project (package motion/trainer)
// and run here with ONNX Runtime.
package motion

import (
	"math"
	"time"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Name is the detector's name in results.
const Name = "motion"

// Channels of the per-frame measurement vector. Positions are in the
// aligned face's frame (eyes 0.3 apart, level), so they describe the face's
// expression, not where it is in the picture; pose and placement come
// separately.
const (
	MouthOpen  = iota // inner-lip gap
	MouthWidth        // mouth-corner distance
	UpperLip          // upper lip below the nose tip
	Chin              // chin below the eye line
	EyeRight          // eye openness (lid gap over corner distance)
	EyeLeft
	BrowRight // brow above its eye
	BrowLeft
	Yaw   // nose tip right of the eyes' midpoint, over the eye distance
	Pitch // nose tip below the eyes' midpoint, over the eye distance
	Roll  // eye-line angle, radians
	Scale // log of the eye distance in pixels
	PosX  // face centre over the frame width
	PosY  // face centre over the frame height
	NumChannels
)

// ChannelNames name the channels in explanations.
var ChannelNames = [NumChannels]string{"mouth_open", "mouth_width", "upper_lip", "chin", "eye_right", "eye_left",
	"brow_right", "brow_left", "yaw", "pitch", "roll", "scale", "pos_x", "pos_y"}

// Frame is one frame's measurements.
type Frame struct {
	T time.Duration
	V [NumChannels]float64
}

// Landmark indices of the measurements (Face Mesh).
const (
	innerLipTop, innerLipBottom = 13, 14
	upperLipOuter               = 0
	chinPoint                   = 152
	rightBrowMid, leftBrowMid   = 105, 334
)

// Measure returns the measurements of one tracked face; ok is false when
// its landmarks are unusable.
func Measure(f *detectors.FaceFrame) (Frame, bool) {
	if len(f.Landmarks) != landmark.NumPoints || f.Image.Empty() {
		return Frame{}, false
	}
	face := landmark.Face{Points: f.Landmarks}
	// The aligned face at 100 px, in units of its side.
	m, err := landmark.AlignTransform(face, 100)
	if err != nil {
		return Frame{}, false
	}
	m.A, m.B, m.C, m.D, m.E, m.F = m.A/100, m.B/100, m.C/100, m.D/100, m.E/100, m.F/100
	p := func(i int) media.Point { return m.Apply(f.Landmarks[i]) }
	re, le := face.RightEyeCenter(), face.LeftEyeCenter()
	eyeDist := re.Dist(le)
	if !(eyeDist > 1) {
		return Frame{}, false
	}
	mid := media.Mid(re, le)
	ar, al := m.Apply(re), m.Apply(le)
	eyeY := (ar.Y + al.Y) / 2
	var fr Frame
	fr.T = f.Time
	v := &fr.V
	v[MouthOpen] = p(innerLipTop).Dist(p(innerLipBottom))
	v[MouthWidth] = p(landmark.MouthRight).Dist(p(landmark.MouthLeft))
	v[UpperLip] = p(upperLipOuter).Y - p(landmark.NoseTip).Y
	v[Chin] = p(chinPoint).Y - eyeY
	v[EyeRight], v[EyeLeft] = f.RightEyeOpenness, f.LeftEyeOpenness
	if math.IsNaN(v[EyeRight]) || math.IsNaN(v[EyeLeft]) {
		r, l := face.MeshOpenness()
		v[EyeRight], v[EyeLeft] = r, l
	}
	v[BrowRight] = ar.Y - p(rightBrowMid).Y
	v[BrowLeft] = al.Y - p(leftBrowMid).Y
	// Pose from the raw landmarks, in units of the eye distance. The
	// subject's right eye is on the image's left.
	axis := le.Sub(re).Scale(1 / eyeDist)
	nose := f.Landmarks[landmark.NoseTip].Sub(mid)
	v[Yaw] = (nose.X*axis.X + nose.Y*axis.Y) / eyeDist
	v[Pitch] = (-nose.X*axis.Y + nose.Y*axis.X) / eyeDist
	v[Roll] = math.Atan2(axis.Y, axis.X)
	v[Scale] = math.Log(eyeDist)
	c := f.Box.Center()
	v[PosX], v[PosY] = c.X/float64(f.Image.Cols()), c.Y/float64(f.Image.Rows())
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Frame{}, false
		}
	}
	return fr, true
}

// Rate is the fixed rate (samples per second) sequences are resampled to,
// and WindowLen the number of samples the network sees at once (3.2 s).
const (
	Rate      = 10.0
	WindowLen = 32
	// MaxGap is the longest time without a measurement that a window may
	// span: longer, and the face was lost.
	MaxGap = 400 * time.Millisecond
)

// Run is a stretch of a track resampled at Rate: Samples[i] is at
// Start + i/Rate.
type Run struct {
	Start   time.Duration
	Samples [][NumChannels]float64
}

// Resample returns the frames at Rate by linear interpolation, as runs
// without gaps longer than MaxGap; frames must be in time order.
func Resample(frames []Frame) []Run {
	if len(frames) == 0 {
		return nil
	}
	step := time.Duration(float64(time.Second) / Rate)
	var runs []Run
	cur := [][NumChannels]float64{frames[0].V}
	t0 := frames[0].T
	for i := 1; i < len(frames); i++ {
		a, b := frames[i-1], frames[i]
		if b.T-a.T > MaxGap || b.T <= a.T {
			runs = append(runs, Run{t0, cur})
			cur, t0 = [][NumChannels]float64{b.V}, b.T
			continue
		}
		for {
			t := t0 + time.Duration(len(cur))*step
			if t > b.T {
				break
			}
			w := float64(t-a.T) / float64(b.T-a.T)
			var v [NumChannels]float64
			for k := range v {
				v[k] = a.V[k] + w*(b.V[k]-a.V[k])
			}
			cur = append(cur, v)
		}
	}
	return append(runs, Run{t0, cur})
}

// InputChannels is the width of the network's input: each channel's
// deviation from its window mean, and its change from the sample before.
const InputChannels = 2 * NumChannels

// Norm scales each channel before the network sees it, so that all are of
// order one: the spread of deviations and of changes on real faces,
// measured by the trainer and kept in the model card.
type Norm struct {
	Value  [NumChannels]float64 `json:"value"`
	Change [NumChannels]float64 `json:"change"`
}

// Valid reports whether every scale is positive and finite.
func (n Norm) Valid() bool {
	for k := range NumChannels {
		for _, v := range []float64{n.Value[k], n.Change[k]} {
			if !(v > 0) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}

// WindowInput writes the network input of the window w (WindowLen
// samples) into dst, [WindowLen][InputChannels]: per channel the
// deviation from the window's mean and the first difference, scaled by n.
func WindowInput(w [][NumChannels]float64, n Norm, dst []float32) {
	var mean [NumChannels]float64
	for _, v := range w {
		for k := range v {
			mean[k] += v[k] / float64(len(w))
		}
	}
	for t, v := range w {
		for k := range v {
			dst[t*InputChannels+k] = float32((v[k] - mean[k]) / n.Value[k])
			d := 0.0
			if t > 0 {
				d = v[k] - w[t-1][k]
			}
			dst[t*InputChannels+NumChannels+k] = float32(d / n.Change[k])
		}
	}
}
