package face

import (
	"image"

	"gocv.io/x/gocv"
)

// model is one face-detection network with a fixed input size. The tiled
// detector feeds it letterboxed regions of the image.
type model interface {
	// inputSize is the network's input width and height in pixels.
	inputSize() image.Point
	// minFace is the width, in input pixels, of the smallest face the
	// network finds reliably; the tiler scales regions so that the smallest
	// face asked for is at least this big.
	minFace() float64
	// maxFace is the width, as a fraction of the input width, of the
	// largest face the network finds reliably.
	maxFace() float64
	// infer runs the network on in, an inputSize BGR image, and appends to
	// dst the candidates scoring at least minScore, with boxes and keypoints
	// in input pixels. Candidates are not yet suppressed.
	infer(in gocv.Mat, minScore float64, dst []Detection) ([]Detection, error)
	close() error
}
