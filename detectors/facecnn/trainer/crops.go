package trainer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/internal/gobfile"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// Crop is one face on a facecnn.Canvas-sided canvas: the aligned crop the
// network sees with facecnn.Margin pixels of context around it, and its
// Face Mesh landmarks on that canvas (the masks of self-blending are drawn
// from them).
type Crop struct {
	Pixels []byte    // Canvas×Canvas×3, RGB, row-major
	Points []float32 // landmark.NumPoints × (x, y), canvas pixels
	Fake   bool
	// Method is how a fake was made, or "real".
	Method string
	// Group keeps crops that must not be split apart together: the frames
	// of one video, or the photos of one person.
	Group  string
	Source string
}

// Set is a collection of crops, saved as one gob file.
type Set struct {
	Canvas int
	Crops  []Crop
	// Sources lists each source read and how many crops it gave, for the
	// model card.
	Sources []SourceCount
}

// SourceCount is one source of a Set.
type SourceCount struct {
	Spec  string `json:"spec"`
	Crops int    `json:"crops"`
}

// ErrNoCrops is returned when the sources yield no face.
var ErrNoCrops = errors.New("trainer: no face crops")

// Save writes s to path (atomically: a temporary file renamed into place).
func (s *Set) Save(path string) error { return gobfile.Save(path, s) }

// LoadSet reads a Set written by Save.
func LoadSet(path string) (*Set, error) {
	var s Set
	if err := gobfile.Load(path, &s); err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	if s.Canvas != facecnn.Canvas {
		return nil, fmt.Errorf("trainer: %s holds %d px crops, want %d", path, s.Canvas, facecnn.Canvas)
	}
	for i, c := range s.Crops {
		if len(c.Pixels) != 3*s.Canvas*s.Canvas || len(c.Points) != 2*landmark.NumPoints {
			return nil, fmt.Errorf("trainer: %s: crop %d is malformed", path, i)
		}
	}
	return &s, nil
}

// Source is one place crops come from: an image or video file, or a
// folder of them (searched recursively), all real or all fake.
type Source struct {
	Path   string
	Fake   bool
	Method string // "real" for reals
	// GroupByFolder groups a folder's images by their parent folder (one
	// person per folder) instead of one group per image.
	GroupByFolder bool
}

// ParseSource reads a source spec: "real:PATH" or "fake:METHOD:PATH".
func ParseSource(spec string) (Source, error) {
	switch {
	case strings.HasPrefix(spec, "real:"):
		return Source{Path: strings.TrimPrefix(spec, "real:"), Method: "real"}, nil
	case strings.HasPrefix(spec, "fake:"):
		rest := strings.TrimPrefix(spec, "fake:")
		method, path, ok := strings.Cut(rest, ":")
		if !ok || method == "" || path == "" {
			return Source{}, fmt.Errorf("trainer: source %q: want fake:METHOD:PATH", spec)
		}
		return Source{Path: path, Fake: true, Method: method}, nil
	}
	return Source{}, fmt.Errorf("trainer: source %q: want real:PATH or fake:METHOD:PATH", spec)
}

func (s Source) String() string {
	if s.Fake {
		return "fake:" + s.Method + ":" + s.Path
	}
	return "real:" + s.Path
}

// ExtractOptions tunes Extract. Zero fields take the defaults shown.
type ExtractOptions struct {
	// FrameEvery is the time between frames taken from a video (500 ms).
	FrameEvery time.Duration
	// MaxPerVideo caps the crops of one video (40).
	MaxPerVideo int
	// MinFaceWidth is the narrowest face kept, in source pixels (48).
	MinFaceWidth float64
	// Progress, when set, is told each file read.
	Progress func(path string, crops int)
}

func (o ExtractOptions) withDefaults() ExtractOptions {
	if o.FrameEvery <= 0 {
		o.FrameEvery = 500 * time.Millisecond
	}
	if o.MaxPerVideo <= 0 {
		o.MaxPerVideo = 40
	}
	if o.MinFaceWidth <= 0 {
		o.MinFaceWidth = 48
	}
	return o
}

// Extractor finds, fits and crops faces. It is not safe for concurrent use.
// Callers must call Close.
type Extractor struct {
	finder face.Detector
	mesher *landmark.Mesher
	opts   ExtractOptions
}

// NewExtractor loads the face models from modelDir. ONNX Runtime must
// already be initialised.
func NewExtractor(modelDir string, opts ExtractOptions) (*Extractor, error) {
	pair, err := facepair.Open(modelDir, face.Options{MinFaceSize: 40})
	if err != nil {
		return nil, err
	}
	return &Extractor{finder: pair.Detector, mesher: pair.Mesher, opts: opts.withDefaults()}, nil
}

// Close frees the models.
func (e *Extractor) Close() error {
	return errors.Join(e.finder.Close(), e.mesher.Close())
}

// Extract reads every source into one Set. A file without a usable face,
// or one that cannot be read, is passed over.
func (e *Extractor) Extract(ctx context.Context, sources []Source) (*Set, error) {
	set := &Set{Canvas: facecnn.Canvas}
	for _, src := range sources {
		files, err := mediaFiles(src.Path)
		if err != nil {
			return nil, err
		}
		before := len(set.Crops)
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			group := groupKey(src.Path, f, src.GroupByFolder)
			n := len(set.Crops)
			if isImage(f) {
				if c, ok := e.image(f); ok {
					set.Crops = append(set.Crops, c)
				}
			} else {
				set.Crops = e.video(ctx, f, set.Crops)
			}
			for i := n; i < len(set.Crops); i++ {
				c := &set.Crops[i]
				c.Fake, c.Method, c.Group, c.Source = src.Fake, src.Method, group, f
			}
			if e.opts.Progress != nil {
				e.opts.Progress(f, len(set.Crops)-n)
			}
		}
		set.Sources = append(set.Sources, SourceCount{Spec: src.String(), Crops: len(set.Crops) - before})
	}
	if len(set.Crops) == 0 {
		return nil, ErrNoCrops
	}
	return set, nil
}

// groupKey names the group of file f of a source rooted at root: the
// root's own name and f's path under it (its folder's, when the source
// groups by folder), not where the data happens to be on this machine. The
// validation split is drawn from the groups' names, and the same seed must
// give the same split, and so the same network, in any checkout.
func groupKey(root, f string, byFolder bool) string {
	rel, err := filepath.Rel(root, f)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		rel = filepath.Base(f)
	}
	if byFolder {
		rel = filepath.Dir(rel)
	}
	return filepath.ToSlash(filepath.Join(filepath.Base(filepath.Clean(root)), rel))
}

func (e *Extractor) image(path string) (Crop, bool) {
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if media.CheckBGR(img) != nil {
		return Crop{}, false
	}
	tr := track.New(e.finder, e.mesher, &track.Options{MinFaceSize: 40, MaxFaces: 4})
	obs, err := tr.Update(img)
	if err != nil {
		return Crop{}, false
	}
	f, ok := track.Largest(obs)
	if !ok {
		return Crop{}, false
	}
	return e.crop(img, f)
}

// video appends the crops of the largest face of frames FrameEvery apart.
func (e *Extractor) video(ctx context.Context, path string, out []Crop) []Crop {
	dec, err := video.Open(path, nil)
	if err != nil {
		return out
	}
	defer dec.Close()
	tr := track.New(e.finder, e.mesher, &track.Options{MinFaceSize: 40, MaxFaces: 4})
	next, taken := time.Duration(0), 0
	for dec.Next() && taken < e.opts.MaxPerVideo && ctx.Err() == nil {
		fr := dec.Frame()
		obs, err := tr.Update(fr.Image)
		if err != nil {
			return out
		}
		if fr.Time < next {
			continue
		}
		f, ok := track.Largest(obs)
		if !ok {
			continue
		}
		if c, ok := e.crop(fr.Image, f); ok {
			out = append(out, c)
			taken++
			next = fr.Time + e.opts.FrameEvery
		}
	}
	return out
}

func (e *Extractor) crop(img gocv.Mat, f landmark.Face) (Crop, bool) {
	if f.Box().W < e.opts.MinFaceWidth {
		return Crop{}, false
	}
	m, err := facecnn.CanvasTransform(f)
	if err != nil {
		return Crop{}, false
	}
	mat, err := media.Warp(img, m, facecnn.Canvas, facecnn.Canvas)
	if err != nil {
		return Crop{}, false
	}
	defer mat.Close()
	bgr, err := mat.DataPtrUint8()
	if err != nil || len(bgr) != 3*facecnn.Canvas*facecnn.Canvas {
		return Crop{}, false
	}
	c := Crop{Pixels: make([]byte, len(bgr)), Points: make([]float32, 2*landmark.NumPoints)}
	for i := 0; i < len(bgr); i += 3 {
		c.Pixels[i], c.Pixels[i+1], c.Pixels[i+2] = bgr[i+2], bgr[i+1], bgr[i]
	}
	for i, p := range f.Points {
		q := m.Apply(p)
		c.Points[2*i], c.Points[2*i+1] = float32(q.X), float32(q.Y)
	}
	return c, true
}

func mediaFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if isImage(p) || isVideo(p) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func isImage(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".bmp", ".webp":
		return true
	}
	return false
}

func isVideo(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".mp4", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v":
		return true
	}
	return false
}
