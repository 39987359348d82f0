package scan

import (
	"fmt"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/blink"
	"github.com/trueframe/trueframe/detectors/edges"
	"github.com/trueframe/trueframe/detectors/skin"
)

// DefaultDetectors names the detectors a scan runs unless told otherwise.
func DefaultDetectors() []string {
	return []string{blink.Name, skin.Name, edges.Name}
}

// KnownDetectors names every detector newDetector can build.
func KnownDetectors() []string {
	return []string{blink.Name, skin.Name, edges.Name}
}

// ErrUnknownDetector is returned for a detector name scan cannot build.
var ErrUnknownDetector = fmt.Errorf("scan: unknown detector (known: %s)", strings.Join(KnownDetectors(), ", "))

// newDetector builds the detector called name; learned detectors load
// their model from modelDir.
func newDetector(name, modelDir string) (detectors.Detector, error) {
	switch name {
	case blink.Name:
		return blink.New(nil), nil
	case skin.Name:
		return skin.New(nil), nil
	case edges.Name:
		// Edge analysis is the costliest hand-made detector per frame; three
		// frames a second still give it dozens of frames on any clip worth
		// judging.
		return edges.New(&edges.Options{Interval: 333 * time.Millisecond}), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownDetector, name)
}
