package face

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// Detection is one face found in an image.
type Detection struct {
	// Box is the face's bounding box in image pixels. BlazeFace boxes run
	// from the brow to the chin; UltraFace boxes include the forehead.
	Box   media.Rect
	Score float64 // detector confidence in [0,1]
	// Keypoints are, for BlazeFace, six points in image pixels: the
	// subject's right eye, left eye, nose tip, mouth centre, right ear
	// tragion and left ear tragion (so the subject's right eye is usually
	// on the image's left). They are nil for detectors without keypoints.
	Keypoints []media.Point
}

// Keypoint indices into Detection.Keypoints for BlazeFace.
const (
	RightEye = iota
	LeftEye
	NoseTip
	Mouth
	RightEar
	LeftEar
	numKeypoints
)

// Detector finds faces in images. A Detector is not safe for concurrent
// use: it reuses its input tensors and scratch images. Callers must call
// Close.
type Detector interface {
	// Detect returns the faces in img, an 8-bit BGR image of any size, in
	// decreasing score order with boxes in img's pixels. It returns an error
	// wrapping media.ErrBadImage for an empty, non-BGR or tiny image.
	Detect(img gocv.Mat) ([]Detection, error)
	Close() error
}

// Model names accepted in Options.Model.
const (
	BlazeFace = "blazeface"
	UltraFace = "ultraface"
)

// ErrUnknownModel is returned by New for an Options.Model it does not know.
var ErrUnknownModel = errors.New("face: unknown model")

// Options configures New. The zero value of each field means its default.
type Options struct {
	// Model is BlazeFace (the default) or UltraFace.
	Model string
	// ModelDir is the directory holding the installed ONNX files
	// (deps/models); "" means the working directory.
	ModelDir string
	// MinScore is the lowest score kept; 0 means the model's default
	// (0.6 for BlazeFace, 0.8 for UltraFace).
	MinScore float64
	// NMSIoU is the overlap above which two boxes are taken as one face;
	// 0 means 0.3.
	NMSIoU float64
	// MinFaceSize is the width in image pixels of the smallest face the
	// detector must find; 0 means 40. Smaller values make large images
	// cost more: the image is cut into more tiles (see the package doc).
	MinFaceSize int
	// MaxTiles caps the model runs per image (whole image plus tiles);
	// 0 means 64. When the cap binds, MinFaceSize is raised for that image
	// in steps of 25%. The whole-image runs are always made.
	MaxTiles int
}

const (
	defaultNMSIoU      = 0.3
	defaultMinFaceSize = 40
	defaultMaxTiles    = 64
)

func (o Options) withDefaults() (Options, error) {
	if o.Model == "" {
		o.Model = BlazeFace
	}
	if o.Model != BlazeFace && o.Model != UltraFace {
		return o, fmt.Errorf("%w %q (want %q or %q)", ErrUnknownModel, o.Model, BlazeFace, UltraFace)
	}
	if o.MinScore == 0 {
		o.MinScore = defaultMinScore[o.Model]
	}
	if o.NMSIoU == 0 {
		o.NMSIoU = defaultNMSIoU
	}
	if o.MinFaceSize == 0 {
		o.MinFaceSize = defaultMinFaceSize
	}
	if o.MaxTiles == 0 {
		o.MaxTiles = defaultMaxTiles
	}
	switch {
	case math.IsNaN(o.MinScore) || o.MinScore < 0 || o.MinScore >= 1:
		return o, fmt.Errorf("face: MinScore %v not in [0,1)", o.MinScore)
	case math.IsNaN(o.NMSIoU) || o.NMSIoU <= 0 || o.NMSIoU >= 1:
		return o, fmt.Errorf("face: NMSIoU %v not in (0,1)", o.NMSIoU)
	case o.MinFaceSize < 8:
		return o, fmt.Errorf("face: MinFaceSize %d below 8 px", o.MinFaceSize)
	case o.MaxTiles < 1:
		return o, fmt.Errorf("face: MaxTiles %d below 1", o.MaxTiles)
	}
	return o, nil
}

var defaultMinScore = map[string]float64{
	BlazeFace: 0.6,
	UltraFace: 0.8,
}

// New loads the detector named by opts.Model from opts.ModelDir. ONNX
// Runtime must already be initialised (internal/ortutil.Init, done once in
// main).
func New(opts Options) (Detector, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var m model
	switch opts.Model {
	case BlazeFace:
		m, err = newBlazeFace(filepath.Join(opts.ModelDir, blazeFaceBackFile))
	case UltraFace:
		m, err = newUltraFace(filepath.Join(opts.ModelDir, ultraFaceFile))
	}
	if err != nil {
		return nil, err
	}
	return newTiled(m, opts), nil
}
