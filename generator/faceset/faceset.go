// Package faceset extracts aligned face crops from videos and images: the
// training material of the face-swap autoencoder (generator/model).
//
// For each frame the largest tracked face (media/track: BlazeFace detection
// every few frames, Face Mesh landmarks in between) is aligned by
// media/landmark.Align — a similarity transform that puts the eye centres at
// (0.35, 0.40) and (0.65, 0.40) of the crop — and cropped to Options.Size.
// Faces narrower than Options.MinFaceSize and blurry crops (variance of the
// Laplacian below Options.MinSharpness) are skipped. Closed-eye frames are
// kept on purpose: a model trained without them cannot blink. Each crop's eye
// openness (MediaPipe Iris lid contour) is recorded in the index so users can
// check the balance.
//
// A face set directory holds the crops as PNG files and IndexFile, a JSON
// Index naming each crop's source, frame, time, eye openness and sharpness.
package faceset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// IndexFile is the name of the JSON index in a face set directory.
const IndexFile = "faceset.json"

// ErrNoFaces is returned when a source yields no usable face.
var ErrNoFaces = errors.New("faceset: no usable face")

// ErrEmptySet is returned by Load for a directory without an index or crops.
var ErrEmptySet = errors.New("faceset: empty face set")

// trackMinFace is the narrowest face (px) detected and tracked.
const trackMinFace = 40

// Options configures an Extractor. Zero fields take the defaults shown.
type Options struct {
	// ModelDir holds the face detector and landmark models (deps/models).
	// It must be set.
	ModelDir string
	// Size is the side of the square crops (64).
	Size int
	// MinFaceSize is the narrowest face, in source pixels between the
	// landmarks' extremes, that is kept (40).
	MinFaceSize float64
	// MinSharpness is the lowest variance of the Laplacian of a crop's grey
	// levels that is kept (30). It is measured at 64×64 whatever Size is,
	// so the threshold does not depend on Size. Sharp GRID faces read
	// 600–900; a Gaussian blur of 1.5 px brings one to about 30.
	// Negative keeps every crop.
	MinSharpness float64
	// Stride takes every Stride-th frame of a video (1).
	Stride int
	// MaxPerSource caps the crops taken from one video (0: no cap).
	MaxPerSource int
}

func (o Options) withDefaults() Options {
	if o.Size <= 0 {
		o.Size = 64
	}
	if o.MinFaceSize <= 0 {
		o.MinFaceSize = 40
	}
	if o.MinSharpness == 0 {
		o.MinSharpness = 30
	}
	if o.Stride <= 0 {
		o.Stride = 1
	}
	return o
}

// Entry describes one crop of a face set.
type Entry struct {
	File   string  `json:"file"`   // PNG file name in the set directory
	Source string  `json:"source"` // video or image it came from
	Frame  int     `json:"frame"`  // frame index (0 for an image)
	TimeS  float64 `json:"time_s"` // frame time in seconds
	// EyeOpenness is the right and left eye aspect ratio (lid gap over
	// corner distance); about 0.1 or less is closed.
	EyeOpenness [2]float64 `json:"eye_openness"`
	// Sharpness is the variance of the Laplacian of the crop (at 64 px).
	Sharpness float64 `json:"sharpness"`
	// FaceWidth is the face's width in source pixels.
	FaceWidth float64 `json:"face_width"`
}

// Skips counts frames without a kept crop, by reason.
type Skips struct {
	NoFace   int `json:"no_face"`
	TooSmall int `json:"too_small"`
	Blurry   int `json:"blurry"`
	// Failed are the sources that could not be read (a corrupt image, a
	// video over the limits): the others are still used, and the crops a
	// failing video gave before its error are kept.
	Failed []SourceError `json:"failed,omitempty"`
}

// SourceError is a source that extraction could not read, and why.
type SourceError struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Index is the content of IndexFile.
type Index struct {
	Size    int     `json:"size"`
	Entries []Entry `json:"entries"`
	Skipped Skips   `json:"skipped"`
}

// Extractor finds, aligns and crops faces. It is not safe for concurrent use
// (it owns ONNX Runtime sessions). Callers must call Close.
type Extractor struct {
	opts   Options
	det    face.Detector
	mesher *landmark.Mesher
}

// New loads the models. ONNX Runtime must already be initialised.
func New(opts Options) (*Extractor, error) {
	opts = opts.withDefaults()
	if opts.ModelDir == "" {
		return nil, errors.New("faceset: Options.ModelDir must be set")
	}
	// Faces are found down to 40 px whatever MinFaceSize says, so that the
	// ones too small to keep are counted as such rather than as missing.
	pair, err := facepair.Open(opts.ModelDir, face.Options{MinFaceSize: int(min(opts.MinFaceSize, trackMinFace))})
	if err != nil {
		return nil, err
	}
	return &Extractor{opts: opts, det: pair.Detector, mesher: pair.Mesher}, nil
}

// Close frees the models. It is safe to call more than once.
func (e *Extractor) Close() error {
	var errs []error
	if e.det != nil {
		errs = append(errs, e.det.Close())
		e.det = nil
	}
	if e.mesher != nil {
		errs = append(errs, e.mesher.Close())
		e.mesher = nil
	}
	return errors.Join(errs...)
}

// Crop is one aligned face, before it is written.
type Crop struct {
	Entry
	// Image is the Size×Size BGR crop; the caller of Extractor.Frame must
	// Close it.
	Image gocv.Mat
	// Face is the fitted mesh in source pixels and ToCrop the map from
	// source to crop pixels.
	Face   landmark.Face
	ToCrop media.Affine
}

// crop aligns f in img and measures it; ok is false (with the reason counted
// in sk) when the face is too small or blurry.
func (e *Extractor) crop(img gocv.Mat, f landmark.Face, sk *Skips) (c Crop, ok bool, err error) {
	box := f.Box()
	if box.W < e.opts.MinFaceSize {
		sk.TooSmall++
		return c, false, nil
	}
	mat, toCrop, err := landmark.Align(img, f, e.opts.Size)
	if err != nil {
		return c, false, err
	}
	sharp, err := sharpness(mat)
	if err != nil {
		mat.Close()
		return c, false, err
	}
	if e.opts.MinSharpness > 0 && sharp < e.opts.MinSharpness {
		mat.Close()
		sk.Blurry++
		return c, false, nil
	}
	c = Crop{Image: mat, Face: f, ToCrop: toCrop}
	c.Sharpness, c.FaceWidth = sharp, box.W
	if eyes, err := e.mesher.Eyes(img, f); err == nil {
		c.EyeOpenness = [2]float64{eyes.Right.Openness, eyes.Left.Openness}
	} else {
		r, l := f.MeshOpenness()
		c.EyeOpenness = [2]float64{r, l}
	}
	return c, true, nil
}

// sharpness is the variance of the Laplacian of img's grey levels, measured
// at 64×64 so that it does not depend on the crop size.
func sharpness(img gocv.Mat) (float64, error) {
	if err := media.CheckBGR(img); err != nil {
		return 0, err
	}
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(img, &grey, gocv.ColorBGRToGray)
	if grey.Cols() != 64 {
		gocv.Resize(grey, &grey, image.Pt(64, 64), 0, 0, gocv.InterpolationArea)
	}
	lap := gocv.NewMat()
	defer lap.Close()
	gocv.Laplacian(grey, &lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s, nil
}

// Video extracts the faces of the video at path into dir, naming the files
// after the video, and returns their entries and the skip counts.
func (e *Extractor) Video(ctx context.Context, path, dir string) ([]Entry, Skips, error) {
	var sk Skips
	dec, err := video.Open(path, nil)
	if err != nil {
		return nil, sk, err
	}
	defer dec.Close()
	dec.SetStride(e.opts.Stride)
	tr := track.New(e.det, e.mesher, &track.Options{MinFaceSize: min(e.opts.MinFaceSize, trackMinFace), MaxFaces: 4})
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var out []Entry
	for i := 0; dec.Next(); i++ {
		if i%32 == 0 {
			if err := ctx.Err(); err != nil {
				return out, sk, err
			}
		}
		fr := dec.Frame()
		obs, err := tr.Update(fr.Image)
		if err != nil {
			return out, sk, fmt.Errorf("faceset: %s frame %d: %w", path, fr.Index, err)
		}
		f, ok := track.Largest(obs)
		if !ok {
			sk.NoFace++
			continue
		}
		c, ok, err := e.crop(fr.Image, f, &sk)
		if err != nil {
			return out, sk, fmt.Errorf("faceset: %s frame %d: %w", path, fr.Index, err)
		}
		if !ok {
			continue
		}
		c.Source, c.Frame, c.TimeS = path, fr.Index, fr.Time.Seconds()
		c.File = fmt.Sprintf("%s_%06d.png", base, fr.Index)
		err = write(dir, c)
		c.Image.Close()
		if err != nil {
			return out, sk, err
		}
		out = append(out, c.Entry)
		if e.opts.MaxPerSource > 0 && len(out) >= e.opts.MaxPerSource {
			break
		}
	}
	if err := dec.Err(); err != nil {
		return out, sk, err
	}
	if len(out) == 0 {
		return nil, sk, fmt.Errorf("%w in %s", ErrNoFaces, path)
	}
	return out, sk, nil
}

// Image extracts the largest face of one image file into dir.
func (e *Extractor) Image(path, dir string) (Entry, error) {
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if err := media.CheckBGR(img); err != nil {
		return Entry{}, fmt.Errorf("faceset: %s: %w", path, err)
	}
	var sk Skips
	c, ok, err := e.Frame(img, &sk)
	if err != nil {
		return Entry{}, fmt.Errorf("faceset: %s: %w", path, err)
	}
	if !ok {
		return Entry{}, fmt.Errorf("%w in %s (%+v)", ErrNoFaces, path, sk)
	}
	defer c.Image.Close()
	c.Source = path
	c.File = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".png"
	return c.Entry, write(dir, c)
}

// Frame detects the largest face of a single image, fits its landmarks and
// returns its aligned crop; ok is false (counted in sk) when there is no
// usable face. The caller must Close the crop's Image.
func (e *Extractor) Frame(img gocv.Mat, sk *Skips) (Crop, bool, error) {
	dets, err := e.det.Detect(img)
	if err != nil {
		return Crop{}, false, err
	}
	if len(dets) == 0 {
		sk.NoFace++
		return Crop{}, false, nil
	}
	best := dets[0]
	for _, d := range dets[1:] {
		if d.Box.Area() > best.Box.Area() {
			best = d
		}
	}
	var re, le *media.Point
	if len(best.Keypoints) > face.LeftEye {
		re, le = &best.Keypoints[face.RightEye], &best.Keypoints[face.LeftEye]
	}
	f, err := e.mesher.Fit(img, landmark.ROIFromBox(best.Box, re, le))
	if err != nil {
		return Crop{}, false, err
	}
	// A second fit in the mesh's own ROI is markedly better than the first
	// one from a detector box.
	if f2, err := e.mesher.Fit(img, f.NextROI()); err == nil && f2.Presence >= f.Presence*0.9 {
		f = f2
	}
	if f.Presence < 0.5 {
		sk.NoFace++
		return Crop{}, false, nil
	}
	return e.crop(img, f, sk)
}

func write(dir string, c Crop) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := filepath.Join(dir, c.File)
	if ok := gocv.IMWrite(p, c.Image); !ok {
		return fmt.Errorf("faceset: cannot write %s", p)
	}
	return nil
}

// Extract runs the extractor over each input — a video, an image, or a
// directory of them (not recursive) — into dir and writes the Index.
// A source without a usable face is skipped and counted; other errors stop.
func (e *Extractor) Extract(ctx context.Context, inputs []string, dir string) (Index, error) {
	idx := Index{Size: e.opts.Size}
	var files []string
	explicit := map[string]bool{}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return idx, err
		}
		if !st.IsDir() {
			files = append(files, in)
			explicit[in] = true
			continue
		}
		ents, err := os.ReadDir(in)
		if err != nil {
			return idx, err
		}
		for _, de := range ents {
			if !de.IsDir() {
				files = append(files, filepath.Join(in, de.Name()))
			}
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return idx, err
		}
		switch strings.ToLower(filepath.Ext(f)) {
		case ".png", ".jpg", ".jpeg", ".bmp", ".webp":
			ent, err := e.Image(f, dir)
			if errors.Is(err, ErrNoFaces) {
				idx.Skipped.NoFace++
				continue
			}
			if err != nil {
				idx.Skipped.Failed = append(idx.Skipped.Failed, SourceError{Source: f, Error: err.Error()})
				continue
			}
			idx.Entries = append(idx.Entries, ent)
		default:
			ents, sk, err := e.Video(ctx, f, dir)
			idx.Entries = append(idx.Entries, ents...)
			idx.Skipped.NoFace += sk.NoFace
			idx.Skipped.TooSmall += sk.TooSmall
			idx.Skipped.Blurry += sk.Blurry
			// Other files in a directory (an index, notes) are passed over.
			if errors.Is(err, ErrNoFaces) || (errors.Is(err, video.ErrNotVideo) && !explicit[f]) {
				continue
			}
			if ctx.Err() != nil {
				return idx, ctx.Err()
			}
			if err != nil {
				idx.Skipped.Failed = append(idx.Skipped.Failed, SourceError{Source: f, Error: err.Error()})
			}
		}
	}
	if err := WriteIndex(dir, idx); err != nil {
		return idx, err
	}
	if len(idx.Entries) == 0 {
		if n := len(idx.Skipped.Failed); n > 0 {
			return idx, fmt.Errorf("%w in %v (%d source(s) unreadable, first: %s: %s)", ErrNoFaces, inputs, n,
				idx.Skipped.Failed[0].Source, idx.Skipped.Failed[0].Error)
		}
		return idx, fmt.Errorf("%w in %v", ErrNoFaces, inputs)
	}
	return idx, nil
}

// WriteIndex writes idx to dir/IndexFile.
func WriteIndex(dir string, idx Index) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(idx, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, IndexFile), append(b, '\n'), 0o644)
}

// ReadIndex reads dir/IndexFile.
func ReadIndex(dir string) (Index, error) {
	var idx Index
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if errors.Is(err, os.ErrNotExist) {
		return idx, fmt.Errorf("%w: no %s in %s", ErrEmptySet, IndexFile, dir)
	}
	if err != nil {
		return idx, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return idx, fmt.Errorf("faceset: %s: %w", IndexFile, err)
	}
	return idx, nil
}

// Load reads the crops of the face set in dir as RGB float images in [0,1]
// (HWC, size×size×3, the layout generator/model trains on), resizing crops
// of another size.
func Load(dir string, size int) ([][]float32, error) {
	idx, err := ReadIndex(dir)
	if err != nil {
		return nil, err
	}
	var out [][]float32
	for _, ent := range idx.Entries {
		if filepath.Base(ent.File) != ent.File {
			return nil, fmt.Errorf("faceset: bad file name %q in index", ent.File)
		}
		img := gocv.IMRead(filepath.Join(dir, ent.File), gocv.IMReadColor)
		f, err := ToFloat(img, size)
		img.Close()
		if err != nil {
			return nil, fmt.Errorf("faceset: %s: %w", ent.File, err)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrEmptySet, dir)
	}
	return out, nil
}

// ToFloat converts a BGR crop to size×size RGB floats in [0,1] (HWC).
func ToFloat(img gocv.Mat, size int) ([]float32, error) {
	if size <= 0 {
		return nil, fmt.Errorf("faceset: size %d must be positive", size)
	}
	if err := media.CheckBGR(img); err != nil {
		return nil, err
	}
	src := img
	if img.Cols() != size || img.Rows() != size {
		r := gocv.NewMat()
		defer r.Close()
		gocv.Resize(img, &r, image.Pt(size, size), 0, 0, gocv.InterpolationArea)
		src = r
	}
	b, err := src.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	out := make([]float32, size*size*3)
	step := src.Step()
	for y := range size {
		for x := range size {
			p := y*step + x*3
			o := (y*size + x) * 3
			out[o], out[o+1], out[o+2] = float32(b[p+2])/255, float32(b[p+1])/255, float32(b[p])/255
		}
	}
	return out, nil
}

// FromFloat converts size×size RGB floats in [0,1] (HWC) to a BGR Mat. The
// caller must Close it.
func FromFloat(f []float32, size int) (gocv.Mat, error) {
	if len(f) != size*size*3 {
		return gocv.NewMat(), fmt.Errorf("faceset: %d values for a %d×%d×3 image", len(f), size, size)
	}
	buf := make([]byte, len(f))
	for i := 0; i < len(f); i += 3 {
		for c := range 3 {
			v := math.Round(float64(f[i+2-c]) * 255)
			buf[i+c] = byte(math.Max(0, math.Min(255, v)))
		}
	}
	return gocv.NewMatFromBytes(size, size, gocv.MatTypeCV8UC3, buf)
}
