package fingerprint

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/track"
)

// FaceModels are the networks a version 2 fingerprint follows faces with:
// a face detector, run about once a second of video, and Face Mesh, fitted
// to every tracked face of every sample. They are not safe for concurrent
// use: one Compute at a time per FaceModels.
type FaceModels struct {
	Finder track.FaceFinder
	Fitter track.MeshFitter
	close  func() error
}

// LoadFaceModels loads BlazeFace and Face Mesh from modelDir (deps/models).
// ONNX Runtime must be initialised (internal/ortutil.Init, in main).
// Callers must call Close.
func LoadFaceModels(modelDir string) (*FaceModels, error) {
	pair, err := facepair.Open(modelDir, face.Options{MinFaceSize: detectMinFace})
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	return &FaceModels{Finder: scaledFinder{det: pair.Detector}, Fitter: pair.Mesher, close: pair.Close}, nil
}

// Close frees the models LoadFaceModels loaded; it is a no-op for
// FaceModels built by hand.
func (m *FaceModels) Close() error {
	if m == nil || m.close == nil {
		return nil
	}
	c := m.close
	m.close = nil
	return c()
}

// The face detector sees every frame scaled so that its long side is
// detectSide pixels, and looks for faces down to detectMinFace pixels of
// that image (one network run, two for a squarish frame): whatever the
// resolution of the file, the same faces are found in an original and in
// its resized copies. Faces are tracked down to minFaceFraction of the
// frame's long side, and never below minFacePixels, where the landmarks
// become too unsteady to describe a face by.
const (
	detectSide      = 640
	detectMinFace   = 50
	minFaceFraction = 0.075
	minFacePixels   = 56
	// detectInterval is how often the detector runs, in seconds of video;
	// faces are followed by Face Mesh between, and the detector runs at
	// once when a face is lost.
	detectInterval = 1.0
)

// scaledFinder runs a detector on the frame scaled to detectSide and maps
// the faces back to the frame's pixels.
type scaledFinder struct {
	det face.Detector
}

func (s scaledFinder) Detect(img gocv.Mat) ([]face.Detection, error) {
	if err := media.CheckBGR(img); err != nil {
		return nil, err
	}
	long := max(img.Cols(), img.Rows())
	if long <= detectSide {
		return s.det.Detect(img)
	}
	f := float64(detectSide) / float64(long)
	w, h := max(1, int(math.Round(float64(img.Cols())*f))), max(1, int(math.Round(float64(img.Rows())*f)))
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	dets, err := s.det.Detect(small)
	if err != nil {
		return nil, err
	}
	fx, fy := float64(img.Cols())/float64(w), float64(img.Rows())/float64(h)
	for i := range dets {
		b := &dets[i].Box
		b.X, b.Y, b.W, b.H = b.X*fx, b.Y*fy, b.W*fx, b.H*fy
		for k := range dets[i].Keypoints {
			p := &dets[i].Keypoints[k]
			p.X, p.Y = p.X*fx, p.Y*fy
		}
	}
	return dets, nil
}
