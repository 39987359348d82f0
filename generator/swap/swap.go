// Package swap converts a target video with a trained face-swap autoencoder:
// in every frame the target's tracked face is aligned (media/landmark.Align),
// encoded and decoded as the other identity by an exported ONNX model
// (generator/onnxexport, run through ONNX Runtime), colour-matched to the
// target face (Reinhard: mean and deviation per channel in Lab, inside the
// face), warped back and blended in with a feathered mask made from the
// convex hull of the face landmarks. Frames without a face are copied. The
// output keeps the target's size and frame rate (no audio) and is written
// with OpenCV's MPEG-4 Part 2 encoder ("mp4v").
package swap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"sort"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/generator/faceset"
	"github.com/trueframe/trueframe/generator/onnxexport"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// ErrWrite is returned when the output video cannot be written.
var ErrWrite = errors.New("swap: cannot write output video")

// Converter runs one exported encoder+decoder on single faces. It is not
// safe for concurrent use. Callers must call Close.
type Converter struct {
	sess *ortutil.Model
	size int
}

// NewConverter loads the ONNX file at path (written by onnxexport) for
// size×size faces. ONNX Runtime must already be initialised.
func NewConverter(path string, size int) (*Converter, error) {
	shape := []int64{1, int64(size), int64(size), 3}
	sess, err := ortutil.Load(path, []ortutil.Tensor{{Name: onnxexport.InputName, Shape: shape}},
		[]ortutil.Tensor{{Name: onnxexport.OutputName, Shape: shape}}, nil)
	if err != nil {
		return nil, fmt.Errorf("swap: loading %s: %w", path, err)
	}
	return &Converter{sess: sess, size: size}, nil
}

// Size returns the side of the faces the converter takes.
func (c *Converter) Size() int { return c.size }

// Convert encodes and decodes one aligned BGR crop of Size×Size and returns
// the generated face as a BGR Mat, which the caller must Close.
func (c *Converter) Convert(crop gocv.Mat) (gocv.Mat, error) {
	f, err := faceset.ToFloat(crop, c.size)
	if err != nil {
		return gocv.NewMat(), err
	}
	copy(c.sess.Input(0), f)
	if err := c.sess.Run(); err != nil {
		return gocv.NewMat(), err
	}
	return faceset.FromFloat(c.sess.Output(0), c.size)
}

// Close frees the session. It is safe to call more than once.
func (c *Converter) Close() error { return c.sess.Close() }

// Options configures a Swapper. Zero fields take the defaults shown.
type Options struct {
	// FaceModels is the directory of the face detector and landmark models
	// (deps/models). It must be set.
	FaceModels string
	// Feather is the mask edge's Gaussian sigma as a fraction of the face
	// width (0.05).
	Feather float64
	// Shrink scales the landmark hull about its centre before feathering
	// (0.92), so the seam falls inside the face.
	Shrink float64
	// MinFaceSize is the narrowest face (px) looked for and swapped (64):
	// smaller ones gain nothing from a 64 px model, and looking for them
	// makes detection on large frames several times dearer.
	MinFaceSize int
	// MaxFrames stops after this many frames (0: all).
	MaxFrames int
	// Codec is the fourcc of the output ("mp4v").
	Codec string
}

func (o Options) withDefaults() Options {
	if o.Feather <= 0 {
		o.Feather = 0.05
	}
	if o.Shrink <= 0 {
		o.Shrink = 0.92
	}
	if o.MinFaceSize <= 0 {
		o.MinFaceSize = 64
	}
	if o.Codec == "" {
		o.Codec = "mp4v"
	}
	return o
}

// FrameFace is a face that was swapped in one frame.
type FrameFace struct {
	Frame int        `json:"frame"`
	Box   media.Rect `json:"box"` // the target face's landmark box
}

// Result describes a converted video.
type Result struct {
	Frames        int           `json:"frames"`
	FramesTouched int           `json:"frames_touched"`
	Width         int           `json:"width"`
	Height        int           `json:"height"`
	FPS           float64       `json:"fps"`
	Faces         []FrameFace   `json:"-"`
	Elapsed       time.Duration `json:"-"`
}

// Swapper converts videos. It is not safe for concurrent use. Callers must
// call Close.
type Swapper struct {
	opts   Options
	conv   *Converter
	det    face.Detector
	mesher *landmark.Mesher
}

// New returns a Swapper that uses conv (not closed by Swapper.Close).
func New(conv *Converter, opts Options) (*Swapper, error) {
	opts = opts.withDefaults()
	if opts.FaceModels == "" {
		return nil, errors.New("swap: Options.FaceModels must be set")
	}
	pair, err := facepair.Open(opts.FaceModels, face.Options{MinFaceSize: opts.MinFaceSize})
	if err != nil {
		return nil, err
	}
	return &Swapper{opts: opts, conv: conv, det: pair.Detector, mesher: pair.Mesher}, nil
}

// Close frees the detector and landmark models. It is safe to call more than once.
func (s *Swapper) Close() error {
	var errs []error
	if s.det != nil {
		errs = append(errs, s.det.Close())
		s.det = nil
	}
	if s.mesher != nil {
		errs = append(errs, s.mesher.Close())
		s.mesher = nil
	}
	return errors.Join(errs...)
}

// Video converts the video at target into out.
func (s *Swapper) Video(ctx context.Context, target, out string) (Result, error) {
	t0 := time.Now()
	var res Result
	dec, err := video.Open(target, nil)
	if err != nil {
		return res, err
	}
	defer dec.Close()
	cfg := dec.Config()
	res.Width, res.Height, res.FPS = cfg.Width, cfg.Height, cfg.FPS
	vw, err := gocv.VideoWriterFile(out, s.opts.Codec, cfg.FPS, cfg.Width, cfg.Height, true)
	if err != nil {
		return res, fmt.Errorf("%w: %s: %v", ErrWrite, out, err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		return res, fmt.Errorf("%w: %s: encoder %q did not open", ErrWrite, out, s.opts.Codec)
	}
	tr := track.New(s.det, s.mesher, &track.Options{MinFaceSize: float64(s.opts.MinFaceSize)})
	for dec.Next() {
		if res.Frames%16 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		fr := dec.Frame()
		obs, err := tr.Update(fr.Image)
		if err != nil {
			return res, fmt.Errorf("swap: frame %d: %w", fr.Index, err)
		}
		img := fr.Image.Clone()
		if f, ok := track.Largest(obs); ok && f.Box().W >= float64(s.opts.MinFaceSize)/2 {
			if err := s.swapFace(&img, f); err != nil {
				img.Close()
				return res, fmt.Errorf("swap: frame %d: %w", fr.Index, err)
			}
			res.FramesTouched++
			res.Faces = append(res.Faces, FrameFace{Frame: fr.Index, Box: f.Box()})
		}
		if cfg.Width != img.Cols() || cfg.Height != img.Rows() {
			img.Close()
			return res, fmt.Errorf("swap: frame %d changes size", fr.Index)
		}
		err = vw.Write(img)
		img.Close()
		if err != nil {
			return res, fmt.Errorf("%w: %v", ErrWrite, err)
		}
		res.Frames++
		if s.opts.MaxFrames > 0 && res.Frames >= s.opts.MaxFrames {
			break
		}
	}
	if err := dec.Err(); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// swapFace replaces face f in *img.
func (s *Swapper) swapFace(img *gocv.Mat, f landmark.Face) error {
	size := s.conv.Size()
	crop, toCrop, err := landmark.Align(*img, f, size)
	if err != nil {
		return err
	}
	defer crop.Close()
	gen, err := s.conv.Convert(crop)
	if err != nil {
		return err
	}
	defer gen.Close()

	// The face hull in crop pixels, shrunk about its centroid.
	pts := make([]media.Point, len(f.Points))
	for i, p := range f.Points {
		pts[i] = toCrop.Apply(p)
	}
	hull := convexHull(pts)
	var c media.Point
	for _, p := range hull {
		c = c.Add(p)
	}
	c = c.Scale(1 / float64(len(hull)))
	ipts := make([]image.Point, len(hull))
	for i, p := range hull {
		q := c.Add(p.Sub(c).Scale(s.opts.Shrink))
		ipts[i] = image.Pt(int(math.Round(q.X)), int(math.Round(q.Y)))
	}
	mask := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), size, size, gocv.MatTypeCV8UC3)
	defer mask.Close()
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{ipts})
	gocv.FillPoly(&mask, pv, color.RGBA{255, 255, 255, 0})
	pv.Close()

	if err := reinhard(gen, crop, mask); err != nil {
		return err
	}

	inv, ok := toCrop.Invert()
	if !ok {
		return errors.New("singular alignment")
	}
	// Work only in the frame region the mask reaches, grown by three
	// feather sigmas: warping, blurring and blending a whole 720p frame per
	// face costs several times more.
	sigma := math.Max(1, s.opts.Feather*f.Box().W)
	var frameHull []media.Point
	for _, q := range ipts {
		frameHull = append(frameHull, inv.Apply(media.Point{X: float64(q.X), Y: float64(q.Y)}))
	}
	roi := media.BoundingRect(frameHull)
	roi = media.Rect{X: roi.X - 3*sigma - 2, Y: roi.Y - 3*sigma - 2, W: roi.W + 6*sigma + 4, H: roi.H + 6*sigma + 4}
	r := roi.Image(image.Rect(0, 0, img.Cols(), img.Rows()))
	if r.Empty() {
		return nil
	}
	toROI := media.Affine{A: inv.A, B: inv.B, C: inv.C - float64(r.Min.X), D: inv.D, E: inv.E, F: inv.F - float64(r.Min.Y)}
	back, err := media.Warp(gen, toROI, r.Dx(), r.Dy())
	if err != nil {
		return err
	}
	defer back.Close()
	fmask, err := media.Warp(mask, toROI, r.Dx(), r.Dy())
	if err != nil {
		return err
	}
	defer fmask.Close()
	gocv.GaussianBlur(fmask, &fmask, image.Pt(0, 0), sigma, sigma, gocv.BorderConstant)
	return blend(img, back, fmask, r.Min)
}

// blend sets dst = dst·(1-m) + src·m in the region of dst at off of src's
// size, with m the mask's first channel / 255.
func blend(dst *gocv.Mat, src, mask gocv.Mat, off image.Point) error {
	d, err := dst.DataPtrUint8()
	if err != nil {
		return err
	}
	sb, err := src.DataPtrUint8()
	if err != nil {
		return err
	}
	mb, err := mask.DataPtrUint8()
	if err != nil {
		return err
	}
	w, h := src.Cols(), src.Rows()
	if len(sb) != w*h*3 || len(mb) != len(sb) || off.X < 0 || off.Y < 0 ||
		off.X+w > dst.Cols() || off.Y+h > dst.Rows() || len(d) != dst.Cols()*dst.Rows()*3 {
		return fmt.Errorf("blend: region %v+%dx%d does not fit %dx%d", off, w, h, dst.Cols(), dst.Rows())
	}
	stride := dst.Cols() * 3
	for y := range h {
		row := d[(off.Y+y)*stride+off.X*3:]
		for x := range w {
			i := (y*w + x) * 3
			m := int(mb[i])
			if m == 0 {
				continue
			}
			for c := range 3 {
				row[x*3+c] = uint8((int(row[x*3+c])*(255-m) + int(sb[i+c])*m + 127) / 255)
			}
		}
	}
	return nil
}

// reinhard shifts gen's colours, in Lab, so that inside mask their mean and
// deviation per channel equal ref's (E. Reinhard et al., "Color transfer
// between images", 2001).
func reinhard(gen, ref, mask gocv.Mat) error {
	gl, rl := gocv.NewMat(), gocv.NewMat()
	defer gl.Close()
	defer rl.Close()
	gocv.CvtColor(gen, &gl, gocv.ColorBGRToLab)
	gocv.CvtColor(ref, &rl, gocv.ColorBGRToLab)
	g, err := gl.DataPtrUint8()
	if err != nil {
		return err
	}
	r, err := rl.DataPtrUint8()
	if err != nil {
		return err
	}
	m, err := mask.DataPtrUint8()
	if err != nil {
		return err
	}
	var gs, rs [3][2]float64 // sum, sum of squares
	n := 0.0
	for i := 0; i < len(g); i += 3 {
		if m[i] == 0 {
			continue
		}
		n++
		for c := range 3 {
			gv, rv := float64(g[i+c]), float64(r[i+c])
			gs[c][0] += gv
			gs[c][1] += gv * gv
			rs[c][0] += rv
			rs[c][1] += rv * rv
		}
	}
	if n < 16 {
		return nil
	}
	var scale, shift [3]float64
	for c := range 3 {
		gm, rm := gs[c][0]/n, rs[c][0]/n
		gsd := math.Sqrt(math.Max(gs[c][1]/n-gm*gm, 1e-6))
		rsd := math.Sqrt(math.Max(rs[c][1]/n-rm*rm, 1e-6))
		scale[c] = math.Min(rsd/gsd, 4)
		shift[c] = rm - gm*scale[c]
	}
	for i := 0; i < len(g); i += 3 {
		for c := range 3 {
			v := float64(g[i+c])*scale[c] + shift[c]
			g[i+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	gocv.CvtColor(gl, &gen, gocv.ColorLabToBGR)
	return nil
}

// convexHull returns the hull of pts in order (Andrew's monotone chain).
func convexHull(pts []media.Point) []media.Point {
	p := append([]media.Point(nil), pts...)
	sort.Slice(p, func(i, j int) bool { return p[i].X < p[j].X || (p[i].X == p[j].X && p[i].Y < p[j].Y) })
	cross := func(o, a, b media.Point) float64 { return (a.X-o.X)*(b.Y-o.Y) - (a.Y-o.Y)*(b.X-o.X) }
	var h []media.Point
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], p[i]) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p[i])
	}
	return h[:len(h)-1]
}

// Sidecar is the JSON written beside a generated fake.
type Sidecar struct {
	Label         string    `json:"label"`  // always "fake"
	Method        string    `json:"method"` // "autoencoder_swap"
	ModelID       string    `json:"model_id"`
	Source        string    `json:"source"` // the identity decoded into
	Target        string    `json:"target"` // the video whose face was replaced
	Output        string    `json:"output"`
	Frames        int       `json:"frames"`
	FramesTouched int       `json:"frames_touched"`
	Width         int       `json:"width"`
	Height        int       `json:"height"`
	FPS           float64   `json:"fps"`
	Created       time.Time `json:"created"`
}

// WriteSidecar writes sc as JSON to path.
func WriteSidecar(path string, sc Sidecar) error {
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
