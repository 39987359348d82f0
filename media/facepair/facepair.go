// Package facepair opens the two models every user of faces needs
// together — a face detector (media/face) and Face Mesh (media/landmark)
// — so that each caller does not repeat the opening and the cleanup when
// the second fails.
package facepair

import (
	"errors"
	"fmt"

	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/landmark"
)

// Pair is a face detector and a mesher, opened from one model directory.
type Pair struct {
	Detector face.Detector
	Mesher   *landmark.Mesher
}

// Open opens both from modelDir; det configures the detector (its
// ModelDir defaults to modelDir). When the mesher fails the detector is
// closed again. Callers must Close the pair.
func Open(modelDir string, det face.Options) (*Pair, error) {
	if det.ModelDir == "" {
		det.ModelDir = modelDir
	}
	d, err := face.New(det)
	if err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	m, err := landmark.New(landmark.Options{ModelDir: modelDir})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("face mesh: %w", err)
	}
	return &Pair{Detector: d, Mesher: m}, nil
}

// Close frees both models.
func (p *Pair) Close() error {
	return errors.Join(p.Detector.Close(), p.Mesher.Close())
}
