package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/blink"
	"github.com/trueframe/trueframe/detectors/edges"
	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/detectors/lrnet"
	"github.com/trueframe/trueframe/detectors/meso4"
	"github.com/trueframe/trueframe/detectors/motion"
	"github.com/trueframe/trueframe/detectors/resolution"
	"github.com/trueframe/trueframe/detectors/skin"
	"github.com/trueframe/trueframe/models"
)

// DefaultDetectors names the detectors a scan runs unless told otherwise:
// those the embedded fusion weighs. resolution is left out: fitted, it
// got no weight, and it costs time on every frame. meso4 runs when its
// model is installed (it comes only from a model mirror): the fusion
// treats a missing detector as having no opinion.
func DefaultDetectors() []string {
	return []string{blink.Name, skin.Name, edges.Name, facecnn.Name, motion.Name, meso4.Name}
}

// optionalDetectors may be missing from a default scan when their model is
// not installed.
func optionalDetector(name string) bool {
	return name == meso4.DF.Name || name == meso4.F2F.Name || name == lrnet.Name
}

// KnownDetectors names every detector NewDetector can build.
func KnownDetectors() []string {
	return []string{blink.Name, skin.Name, edges.Name, resolution.Name, facecnn.Name, motion.Name, meso4.DF.Name, meso4.F2F.Name, lrnet.Name}
}

// ErrUnknownDetector is returned for a detector name scan cannot build.
var ErrUnknownDetector = fmt.Errorf("scan: unknown detector (known: %s)", strings.Join(KnownDetectors(), ", "))

// NewDetector builds the detector called name. Learned detectors run the
// model embedded in the binary, or the one whose model card cards names,
// with the pretrained models installed in modelDir.
func NewDetector(name, modelDir string, cards map[string]string) (detectors.Detector, error) {
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
	case resolution.Name:
		return resolution.New(nil), nil
	case meso4.DF.Name:
		return meso4.New(modelDir, meso4.DF)
	case meso4.F2F.Name:
		return meso4.New(modelDir, meso4.F2F)
	case lrnet.Name:
		return lrnet.New(modelDir)
	case facecnn.Name:
		card, data, err := trainedModel(name, cards)
		if err != nil {
			return nil, err
		}
		var cfg facecnn.Config
		if err := json.Unmarshal(card.Config, &cfg); err != nil {
			return nil, fmt.Errorf("scan: %s model card: %w", name, err)
		}
		backbone, err := os.ReadFile(filepath.Join(modelDir, facecnn.BackboneFile))
		if err != nil {
			return nil, fmt.Errorf("scan: %s: %w (run scripts/setup)", name, err)
		}
		return facecnn.New(facecnn.Options{Backbone: backbone, Head: data, Config: cfg, Version: card.Version})
	case motion.Name:
		card, data, err := trainedModel(name, cards)
		if err != nil {
			return nil, err
		}
		var cfg motion.Config
		if err := json.Unmarshal(card.Config, &cfg); err != nil {
			return nil, fmt.Errorf("scan: %s model card: %w", name, err)
		}
		return motion.New(motion.Options{Model: data, Config: cfg, Version: card.Version})
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownDetector, name)
}

// trainedModel returns the model of a learned detector: the one named in
// cards, else the one embedded.
func trainedModel(name string, cards map[string]string) (*models.Card, []byte, error) {
	if path := cards[name]; path != "" {
		return models.LoadCard(path)
	}
	return models.Trained(name)
}
