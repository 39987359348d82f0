package landmark

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
)

// Model files New loads from Options.ModelDir.
const (
	FaceMeshFile = "mediapipe_face_landmark_468.onnx"
	IrisFile     = "mediapipe_iris_landmark.onnx"
)

const (
	meshSize = 192 // Face Mesh input side
	irisSize = 64  // Iris input side
	irisOut  = 71  // eye contour and brow points of the Iris model
	irisPts  = 5   // iris centre and four iris edge points
)

// ErrBadROI is returned when a ROI's size is below a pixel, above 32768 or
// not finite, or its centre or angle is not finite (or absurdly far off).
var ErrBadROI = errors.New("landmark: bad ROI")

// Options configures New.
type Options struct {
	// ModelDir holds FaceMeshFile and IrisFile. It must be set.
	ModelDir string
	// Threads is the ONNX Runtime intra-op thread count; 0 means 1.
	Threads int
}

// Mesher runs MediaPipe Face Mesh and MediaPipe Iris through ONNX Runtime.
// It is not safe for concurrent use: give each goroutine its own Mesher.
// Callers must call Close.
type Mesher struct {
	mesh, iris *ortutil.Model
}

// New loads both models. ONNX Runtime must already be initialised
// (ortutil.Init).
func New(opts Options) (_ *Mesher, err error) {
	if opts.ModelDir == "" {
		return nil, errors.New("landmark: Options.ModelDir not set")
	}
	ortOpts := &ortutil.Options{IntraOpThreads: opts.Threads}
	m := &Mesher{}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	m.mesh, err = ortutil.Load(filepath.Join(opts.ModelDir, FaceMeshFile),
		[]ortutil.Tensor{{Name: "input_1", Shape: []int64{1, 3, meshSize, meshSize}}},
		[]ortutil.Tensor{
			{Name: "conv2d_20", Shape: []int64{1, 3 * NumPoints, 1, 1}},
			{Name: "conv2d_30", Shape: []int64{1, 1, 1, 1}},
		}, ortOpts)
	if err != nil {
		return nil, err
	}
	m.iris, err = ortutil.Load(filepath.Join(opts.ModelDir, IrisFile),
		[]ortutil.Tensor{{Name: "input_1", Shape: []int64{1, 3, irisSize, irisSize}}},
		[]ortutil.Tensor{
			{Name: "output_eyes_contours_and_brows", Shape: []int64{1, 3 * irisOut}},
			{Name: "output_iris", Shape: []int64{1, 3 * irisPts}},
		}, ortOpts)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Close frees both models. It is safe to call more than once.
func (m *Mesher) Close() error {
	var errs []error
	if m.mesh != nil {
		errs = append(errs, m.mesh.Close())
		m.mesh = nil
	}
	if m.iris != nil {
		errs = append(errs, m.iris.Close())
		m.iris = nil
	}
	return errors.Join(errs...)
}

// Face is one fitted Face Mesh.
type Face struct {
	// Points are the 468 landmarks in image pixels, indexed as in indices.go.
	Points []media.Point
	// Z is each landmark's relative depth in image-pixel units, as the model
	// predicts it (MediaPipe's convention: smaller is nearer the camera; not
	// checked here).
	Z []float64
	// Presence is the model's face-presence probability in [0,1]; a low
	// value means the ROI holds no face (tracking lost).
	Presence float64
	// ROI is the region the mesh was fitted in.
	ROI media.ROI
}

// Fit crops roi out of img (8-bit BGR), runs Face Mesh on it and maps the
// landmarks back to image pixels. It returns media.ErrBadImage or ErrBadROI
// (wrapped) for unusable input.
func (m *Mesher) Fit(img gocv.Mat, roi media.ROI) (Face, error) {
	if m.mesh == nil {
		return Face{}, errors.New("landmark: Mesher closed")
	}
	if err := checkBGR(img); err != nil {
		return Face{}, err
	}
	if err := checkROI(roi); err != nil {
		return Face{}, err
	}
	crop, toCrop, err := media.CropROI(img, roi, meshSize)
	if err != nil {
		return Face{}, err
	}
	defer crop.Close()
	// The model was trained on RGB in [-1,1]; [0,1] gives landmarks within
	// about a pixel, raw 0..255 gives wrong ones.
	if err := media.FillCHW(m.mesh.Input(0), crop, media.SymmetricRange); err != nil {
		return Face{}, err
	}
	if err := m.mesh.Run(); err != nil {
		return Face{}, err
	}
	toImg, ok := toCrop.Invert()
	if !ok {
		return Face{}, fmt.Errorf("%w: singular crop transform", ErrBadROI)
	}
	// The model's coordinates put the crop's left edge at 0 (MediaPipe's
	// normalised image coordinates); ours, like OpenCV's, put the first
	// pixel's centre there.
	out := m.mesh.Output(0)
	zScale := roi.Size / meshSize
	f := Face{
		Points:   make([]media.Point, NumPoints),
		Z:        make([]float64, NumPoints),
		Presence: sigmoid(float64(m.mesh.Output(1)[0])),
		ROI:      roi,
	}
	for i := range f.Points {
		p := media.Point{X: float64(out[3*i]) - 0.5, Y: float64(out[3*i+1]) - 0.5}
		f.Points[i] = toImg.Apply(p)
		f.Z[i] = float64(out[3*i+2]) * zScale
	}
	return f, nil
}

func checkROI(roi media.ROI) error {
	for _, v := range []float64{roi.Center.X, roi.Center.Y, roi.Size, roi.Angle} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %+v", ErrBadROI, roi)
		}
	}
	if roi.Size < 1 || roi.Size > 1<<15 {
		return fmt.Errorf("%w: size %v", ErrBadROI, roi.Size)
	}
	// Far-off centres would overflow OpenCV's fixed-point warp.
	if math.Abs(roi.Center.X) > 1<<20 || math.Abs(roi.Center.Y) > 1<<20 {
		return fmt.Errorf("%w: centre %v", ErrBadROI, roi.Center)
	}
	return nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

var colorBlack = color.RGBA{A: 255}

// checkBGR is media.CheckBGR, guarded for the zero gocv.Mat: CheckBGR's
// error message reads the Mat's type, which dereferences a nil Mat.
func checkBGR(img gocv.Mat) error {
	if img.Ptr() == nil {
		return fmt.Errorf("%w (nil Mat)", media.ErrBadImage)
	}
	return media.CheckBGR(img)
}
