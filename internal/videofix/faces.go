package videofix

import (
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/blend"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// FaceModels are the models the face edits follow faces with. ONNX
// Runtime must be initialised (testutil.InitORT).
type FaceModels struct {
	det    face.Detector
	mesher *landmark.Mesher
}

// LoadFaceModels loads BlazeFace and Face Mesh from modelDir; they are
// closed when the test ends.
func LoadFaceModels(tb testing.TB, modelDir string) *FaceModels {
	tb.Helper()
	pair, err := facepair.Open(modelDir, face.Options{MinFaceSize: 40})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pair.Close() })
	return &FaceModels{det: pair.Detector, mesher: pair.Mesher}
}

// follower tracks the largest face through the frames it is shown, in
// order.
type follower struct{ tr *track.Tracker }

func (m *FaceModels) follower() *follower {
	return &follower{tr: track.New(m.det, m.mesher, &track.Options{DetectEvery: 5})}
}

func (f *follower) face(tb testing.TB, img gocv.Mat) (landmark.Face, bool) {
	obs, err := f.tr.Update(img)
	if err != nil {
		tb.Fatal(err)
	}
	return track.Largest(obs)
}

// donorClip yields the frames of a clip at increasing times, with the
// largest face in each.
type donorClip struct {
	tb  testing.TB
	d   *video.Decoder
	fol *follower
	cur gocv.Mat
	t   time.Duration
	lms landmark.Face
	ok  bool
	end bool
}

func (m *FaceModels) openDonor(tb testing.TB, path string) *donorClip {
	tb.Helper()
	d, err := video.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	dc := &donorClip{tb: tb, d: d, fol: m.follower(), cur: gocv.NewMat(), t: -1}
	tb.Cleanup(func() { d.Close(); dc.cur.Close() })
	return dc
}

// at returns the donor frame nearest after or at t, and its face (ok false
// without one, or past the end of the clip).
func (dc *donorClip) at(t time.Duration) (gocv.Mat, landmark.Face, bool) {
	for !dc.end && dc.t < t {
		if !dc.d.Next() {
			if err := dc.d.Err(); err != nil {
				dc.tb.Fatal(err)
			}
			dc.end = true
			break
		}
		f := dc.d.Frame()
		f.Image.CopyTo(&dc.cur)
		dc.t = f.Time
		dc.lms, dc.ok = dc.fol.face(dc.tb, dc.cur)
	}
	return dc.cur, dc.lms, dc.ok && !dc.end
}

// Edit is a per-frame edit for Options.Edit.
type Edit = func(time.Duration, *gocv.Mat)

// SelfBlend returns an edit that self-blends the largest face (media/blend
// with opts; nil: its defaults) in frames from <= t < to: the face pasted
// back onto itself, colour-shifted and resampled, as face-swap tools
// leave it. Frames without a face are left alone; *edited counts the
// frames changed.
func (m *FaceModels) SelfBlend(tb testing.TB, opts *blend.Options, from, to time.Duration, edited *int) Edit {
	fol := m.follower()
	return func(t time.Duration, img *gocv.Mat) {
		lms, ok := fol.face(tb, *img) // every frame, so tracking stays continuous
		if t < from || t >= to || !ok {
			return
		}
		out, err := blend.SelfBlend(*img, lms.Points, opts)
		if err != nil {
			return
		}
		out.CopyTo(img)
		out.Close()
		count(edited)
	}
}

// SwapFrom returns an edit that replaces the largest face, in frames from
// <= t < to, with the face of the donor clip at the same time (media/blend
// SwapFace: warped onto the target's landmarks, colour-shifted per opts,
// feathered). A stand-in for a face-swap generator that needs no training.
func (m *FaceModels) SwapFrom(tb testing.TB, donor string, opts *blend.Options, from, to time.Duration, edited *int) Edit {
	fol := m.follower()
	dc := m.openDonor(tb, donor)
	return func(t time.Duration, img *gocv.Mat) {
		lms, ok := fol.face(tb, *img)
		if t < from || t >= to || !ok {
			return
		}
		dimg, dlms, dok := dc.at(t)
		if !dok {
			return
		}
		if dimg.Cols() != img.Cols() || dimg.Rows() != img.Rows() {
			resized := gocv.NewMat()
			defer resized.Close()
			sx, sy := float64(img.Cols())/float64(dimg.Cols()), float64(img.Rows())/float64(dimg.Rows())
			gocv.Resize(dimg, &resized, image.Pt(img.Cols(), img.Rows()), 0, 0, gocv.InterpolationLinear)
			pts := make([]media.Point, len(dlms.Points))
			for i, p := range dlms.Points {
				pts[i] = media.Point{X: p.X * sx, Y: p.Y * sy}
			}
			dimg, dlms = resized, landmark.Face{Points: pts}
		}
		out, err := blend.SwapFace(*img, dimg, lms.Points, dlms.Points, opts)
		if err != nil {
			return
		}
		out.CopyTo(img)
		out.Close()
		count(edited)
	}
}

// MouthFrom returns an edit that replaces the mouth of the largest face,
// in frames from <= t < to, with the mouth of the donor clip's face at
// t+shift: a lip-sync stand-in when the donor is another clip of the same
// person, or the same clip at another moment. The donor's lower face is
// warped onto the target's by the similarity of their nose and mouth
// landmarks, its mean colour matched, and pasted through a feathered mask
// around the lips (grown 1.6 times about their centre, as lip-sync tools
// regenerate the lips and the skin around them).
func (m *FaceModels) MouthFrom(tb testing.TB, donor string, shift, from, to time.Duration, edited *int) Edit {
	fol := m.follower()
	dc := m.openDonor(tb, donor)
	return func(t time.Duration, img *gocv.Mat) {
		lms, ok := fol.face(tb, *img)
		if t < from || t >= to || !ok {
			return
		}
		dimg, dlms, dok := dc.at(t + shift)
		if !dok {
			return
		}
		if pasteMouth(img, dimg, lms, dlms) {
			count(edited)
		}
	}
}

// mouthAnchors are the landmarks the mouth paste is aligned on: nose tip,
// nostrils, mouth corners, upper and lower lip centre, chin.
var mouthAnchors = []int{1, 98, 327, 61, 291, 0, 17, 152}

func pasteMouth(img *gocv.Mat, donor gocv.Mat, target, src landmark.Face) bool {
	var ps, pt []media.Point
	for _, i := range mouthAnchors {
		ps, pt = append(ps, src.Points[i]), append(pt, target.Points[i])
	}
	a, ok := similarity(ps, pt)
	if !ok {
		return false
	}
	warped, err := media.Warp(donor, a, img.Cols(), img.Rows())
	if err != nil {
		return false
	}
	defer warped.Close()
	// The mask: the target's outer lips grown about their centre.
	var c media.Point
	for _, i := range landmark.LipsOuter {
		c = c.Add(target.Points[i])
	}
	c = c.Scale(1 / float64(len(landmark.LipsOuter)))
	poly := make([]image.Point, len(landmark.LipsOuter))
	for k, i := range landmark.LipsOuter {
		p := c.Add(target.Points[i].Sub(c).Scale(1.6))
		poly[k] = image.Pt(int(math.Round(p.X)), int(math.Round(p.Y)))
	}
	mask := gocv.NewMatWithSize(img.Rows(), img.Cols(), gocv.MatTypeCV8U)
	defer mask.Close()
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{poly})
	defer pv.Close()
	gocv.FillPoly(&mask, pv, color.RGBA{R: 255, G: 255, B: 255, A: 255})
	width := target.Points[landmark.MouthRight].Dist(target.Points[landmark.MouthLeft])
	sigma := max(1, width/12)
	gocv.GaussianBlur(mask, &mask, image.Pt(0, 0), sigma, sigma, gocv.BorderConstant)
	md, err1 := mask.DataPtrUint8()
	wd, err2 := warped.DataPtrUint8()
	id, err3 := img.DataPtrUint8()
	if err1 != nil || err2 != nil || err3 != nil {
		return false
	}
	// Match the donor's mean colour inside the mask to the target's.
	var sumT, sumD [3]float64
	var n float64
	for i, mv := range md {
		if mv < 128 {
			continue
		}
		for k := range 3 {
			sumT[k] += float64(id[3*i+k])
			sumD[k] += float64(wd[3*i+k])
		}
		n++
	}
	if n == 0 {
		return false
	}
	for i, mv := range md {
		if mv == 0 {
			continue
		}
		al := float64(mv) / 255
		for k := range 3 {
			v := float64(wd[3*i+k]) + (sumT[k]-sumD[k])/n
			id[3*i+k] = uint8(max(0, min(255, math.Round(al*v+(1-al)*float64(id[3*i+k])))))
		}
	}
	return true
}

// similarity returns the least-squares rotation, scale and translation
// mapping src onto dst.
func similarity(src, dst []media.Point) (media.Affine, bool) {
	var ms, md media.Point
	for i := range src {
		ms, md = ms.Add(src[i]), md.Add(dst[i])
	}
	n := float64(len(src))
	ms, md = ms.Scale(1/n), md.Scale(1/n)
	var a, b, norm float64
	for i := range src {
		p, q := src[i].Sub(ms), dst[i].Sub(md)
		a += p.X*q.X + p.Y*q.Y
		b += p.X*q.Y - p.Y*q.X
		norm += p.X*p.X + p.Y*p.Y
	}
	if norm < 1e-9 || math.IsNaN(a) || math.IsNaN(b) {
		return media.Affine{}, false
	}
	c, s := a/norm, b/norm
	return media.Affine{A: c, B: -s, C: md.X - (c*ms.X - s*ms.Y), D: s, E: c, F: md.Y - (s*ms.X + c*ms.Y)}, true
}

func count(n *int) {
	if n != nil {
		*n++
	}
}

// FramesFrom returns an edit that replaces whole frames, from <= t < to,
// with the frames of another clip of the same size at the same time (a
// face-swap tool's output, say): a clip manipulated over a known span.
func FramesFrom(tb testing.TB, other string, from, to time.Duration, edited *int) Edit {
	tb.Helper()
	d, err := video.Open(other, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cur := gocv.NewMat()
	tb.Cleanup(func() { d.Close(); cur.Close() })
	at, end := time.Duration(-1), false
	return func(t time.Duration, img *gocv.Mat) {
		for !end && at < t {
			if !d.Next() {
				end = true
				break
			}
			f := d.Frame()
			f.Image.CopyTo(&cur)
			at = f.Time
		}
		if t < from || t >= to || cur.Empty() || cur.Cols() != img.Cols() || cur.Rows() != img.Rows() {
			return
		}
		cur.CopyTo(img)
		count(edited)
	}
}
