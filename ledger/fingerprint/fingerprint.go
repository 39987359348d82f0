package fingerprint

import (
	"context"

	"fmt"
	"gocv.io/x/gocv"
	"math"
	"slices"
	"time"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// Fingerprint format and algorithm versions. A change to the hashing that
// changes any bit for any input must make a new version.
const (
	// Version1 has the frame and grid hashes of every sample.
	Version1 = 1
	// Version2 adds, to every sample, the faces tracked in it: position and
	// descriptor (see Face).
	Version2 = 2
	// Version3 adds, to every face, its lips and nose band at higher
	// resolution (see Detail), to see a lip-sync. Compute makes it when
	// given face models.
	Version3 = 3
	// Version is the latest version, the one registrations use.
	Version = Version3
)

// Defaults for Options; see Options.
const (
	DefaultSampleRate = 4.0
	DefaultGrid       = 4
	// MaxSampleRate and MaxGrid bound Options and what Decode accepts.
	MaxSampleRate = 30.0
	MaxGrid       = 8
)

// Options configures Compute. A nil *Options or a zero field means the
// default.
type Options struct {
	// SampleRate is the number of frames hashed per second of video, in
	// (0, MaxSampleRate]; 0 means DefaultSampleRate. Sampling is by
	// timestamp, so copies at different frame rates line up, and two
	// fingerprints can only be compared when their rates are equal.
	SampleRate float64
	// Grid is the number of cells per side of the grid of local hashes, in
	// [1, MaxGrid]; 0 means DefaultGrid.
	Grid int
	// Video is passed to video.Open (its Stride is ignored); nil means
	// video.DefaultLimits, the right choice for untrusted files.
	Video *video.Options
	// Faces, when set, makes a version 3 fingerprint: every sample also
	// carries the faces tracked in it, each with its position, a
	// descriptor of its aligned crop and its lips' Detail. Nil makes a
	// version 1 fingerprint (frame and grid hashes only).
	Faces *FaceModels
	// Version, when Faces is set, may ask for an older version with faces
	// (Version2: without Detail), to fingerprint a file as an older
	// registration was; 0 means the latest.
	Version int
	// Geometry, when not the identity, fingerprints a copy as if laid out
	// like its original (see Geometry and EstimateGeometry): the frame and
	// grid hashes are of the frame reframed to the original's extent, and
	// face boxes are in fractions of the original's frame.
	Geometry Geometry

	keepCrops bool // keep the aligned crops on each Face (measurements)
	noRefit   bool // measurements: no second mesh fit
	// probe, when set, is called with each described face (measurements).
	probe func(img gocv.Mat, lms landmark.Face, fc *Face)
}

func (o *Options) resolve() (Options, error) {
	r := Options{SampleRate: DefaultSampleRate, Grid: DefaultGrid}
	if o != nil {
		if o.SampleRate != 0 {
			r.SampleRate = o.SampleRate
		}
		if o.Grid != 0 {
			r.Grid = o.Grid
		}
		r.Video = o.Video
		r.Faces = o.Faces
		r.Version = o.Version
		r.Geometry = o.Geometry
		r.keepCrops, r.noRefit, r.probe = o.keepCrops, o.noRefit, o.probe
	}
	if math.IsNaN(r.SampleRate) || r.SampleRate <= 0 || r.SampleRate > MaxSampleRate {
		return r, fmt.Errorf("fingerprint: invalid sample rate %v (want (0, %v])", r.SampleRate, MaxSampleRate)
	}
	if r.Grid < 1 || r.Grid > MaxGrid {
		return r, fmt.Errorf("fingerprint: invalid grid %d (want [1, %d])", r.Grid, MaxGrid)
	}
	switch {
	case r.Version == 0:
	case r.Faces == nil && r.Version != Version1, r.Faces != nil && r.Version != Version2 && r.Version != Version3:
		return r, fmt.Errorf("fingerprint: version %d cannot be made with face models %v", r.Version, r.Faces != nil)
	}
	if !r.Geometry.identity() && !r.Geometry.valid() {
		return r, fmt.Errorf("fingerprint: invalid geometry %+v", r.Geometry)
	}
	return r, nil
}

// Fingerprint is the perceptual fingerprint of one video: a global hash and
// a grid of cell hashes for every sample. Frames[k] is the sample at nominal
// time k/SampleRate. Its canonical encoding is Encode; its on-chain
// commitment is Digest.
type Fingerprint struct {
	Version    int
	SampleRate float64       // samples per second
	Grid       int           // cells per side
	Duration   time.Duration // counted duration of the video, whole milliseconds
	Width      int           // frame size of the video
	Height     int
	Frames     []Frame
}

// Frame is the hash of one sampled frame.
type Frame struct {
	// T is the presentation time of the decoded frame nearest the nominal
	// sample time, in whole milliseconds. When the video has fewer frames
	// per second than SampleRate, consecutive samples share a frame.
	T time.Duration
	// Global is the 64-bit DCT hash of the whole frame.
	Global uint64
	// Cells are the 64-bit DCT hashes of the Grid x Grid cells of the
	// frame, row by row from the top left.
	Cells []uint64
	// Faces are the faces tracked in the sample (version 2 only), in
	// increasing Track order.
	Faces []Face
}

// Interval returns the nominal time between samples.
func (fp *Fingerprint) Interval() time.Duration {
	return time.Duration(math.Round(float64(time.Second) / fp.SampleRate))
}

// sampleTime is the nominal time of sample k.
func sampleTime(k int, rate float64) time.Duration {
	return time.Duration(math.Round(float64(k) * float64(time.Second) / rate))
}

// Compute decodes the video at path and returns its fingerprint. Only the
// sampled frames are converted to images: the decoder grabs the frames
// between them. Errors about the file are the *video.DecodeError of
// video.Open and Decoder.Next, wrapped; ctx is checked between samples.
// A file that stops short (video.Decoder.Truncated) is fingerprinted from
// the frames it has.
//
// Decoding runs in a goroutine of its own, a couple of sampled frames
// ahead of the hashing and face tracking, so the two share the cores.
func Compute(ctx context.Context, path string, opts *Options) (*Fingerprint, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	vo := video.Options{Limits: video.DefaultLimits()}
	if o.Video != nil {
		vo = *o.Video
	}
	vo.Stride = 1
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := video.Open(path, &vo)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	defer d.Close()
	cfg := d.Config()
	step := time.Duration(float64(time.Second) / cfg.FPS)
	version := Version1
	var tracker *track.Tracker
	if o.Faces != nil {
		version = Version3
		if o.Version != 0 {
			version = o.Version
		}
		long := float64(max(cfg.Width, cfg.Height))
		tracker = track.New(o.Faces.Finder, o.Faces.Fitter, &track.Options{
			DetectEvery: max(1, int(math.Round(detectInterval*o.SampleRate))), MinFaceSize: max(minFacePixels, minFaceFraction*long), MaxFaces: maxFaces})
	}
	fp := &Fingerprint{
		Version:    version,
		SampleRate: o.SampleRate,
		Grid:       o.Grid,
		Width:      cfg.Width,
		Height:     cfg.Height,
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	frames := make(chan sampledFrame, 2)
	decodeErr := make(chan error, 1)
	go func() {
		defer close(frames)
		decodeErr <- decodeSamples(ctx, d, o.SampleRate, step, frames)
	}()
	// Whatever happens, the decoder goroutine ends (ctx is cancelled) and
	// every frame it sent is closed before d.Close runs.
	defer func() {
		cancel()
		for f := range frames {
			f.img.Close()
		}
	}()

	h := newHasher(o.Grid)
	for f := range frames {
		global, cells, err := hashFrame(h, f.img, o.Geometry)
		var faces []Face
		if err == nil && tracker != nil {
			faces, err = trackFaces(tracker, o.Faces.Fitter, f.img, o, version >= Version3)
		}
		f.img.Close()
		if err != nil {
			return nil, fmt.Errorf("fingerprint: %s frame %d: %w", path, f.index, err)
		}
		for i := range f.samples {
			if i > 0 {
				cells, faces = slices.Clone(cells), slices.Clone(faces)
			}
			fp.Frames = append(fp.Frames, Frame{T: f.t, Global: global, Cells: cells, Faces: faces})
		}
	}
	if err := <-decodeErr; err != nil {
		return nil, err
	}
	fp.Duration = (d.LastTime() + step).Truncate(time.Millisecond)
	return fp, nil
}

// sampledFrame is a decoded frame that serves one or more samples.
type sampledFrame struct {
	img     gocv.Mat // owned by the receiver, who must Close it
	t       time.Duration
	index   int
	samples int
}

// decodeSamples decodes d and sends, in order, a copy of each frame that
// serves a sample: the frame nearest each sample time k/rate.
func decodeSamples(ctx context.Context, d *video.Decoder, rate float64, step time.Duration, out chan<- sampledFrame) error {
	k := 0 // next sample
	for d.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		f := d.Frame()
		next := sampleTime(k, rate)
		// f serves every sample whose nominal time is nearer to it than to
		// the next frame.
		if f.Time+step/2 >= next {
			s := sampledFrame{t: f.Time.Truncate(time.Millisecond), index: f.Index}
			for ; sampleTime(k, rate) <= f.Time+step/2; k++ {
				s.samples++
			}
			s.img = f.Image.Clone()
			select {
			case out <- s:
			case <-ctx.Done():
				s.img.Close()
				return ctx.Err()
			}
			next = sampleTime(k, rate)
		}
		// Predict the frame nearest the next sample time from this frame's
		// time, so a variable frame rate only costs a frame decoded early.
		// The decoder yields frame indices that are multiples of the
		// stride, so a stride of j > f.Index yields frame j next.
		ahead := max(1, int(math.Round(float64(next-f.Time)/float64(step))))
		d.SetStride(f.Index + ahead)
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("fingerprint: %w", err)
	}
	return nil
}

// maxFaces bounds the faces tracked per sample; minPresence is the mesh's
// face presence a refit must keep (the tracker's default).
const (
	maxFaces    = 8
	minPresence = 0.5
)

// trackFaces follows the faces into the frame img and describes each.
// A face whose landmarks cannot be aligned (degenerate) is left out.
//
// Samples are a quarter of a second apart, so the tracker fits each face
// in a region predicted from where it was a sample earlier; a face that
// moved fits worse there, and differently in an original and its copy.
// When the fit's own region differs from the one it was fitted in, the
// face is fitted once more there, so the landmarks converge to the same
// place in both.
func trackFaces(tr *track.Tracker, fitter track.MeshFitter, img gocv.Mat, o Options, detail bool) ([]Face, error) {
	obs, err := tr.Update(img)
	if err != nil {
		return nil, err
	}
	var faces []Face
	for _, ob := range obs {
		lms := ob.Face
		if next := lms.NextROI(); !o.noRefit && moved(lms.ROI, next) {
			if again, err := fitter.Fit(img, next); err == nil && again.Presence >= minPresence {
				lms = again
			}
		}
		a, err := alignFace(img, lms)
		if err != nil {
			continue
		}
		fc := describe(a, lms, ob.ID, img.Cols(), img.Rows())
		if detail {
			if fc.Detail, err = detailOf(img, lms); err != nil {
				continue
			}
		}
		if !o.Geometry.identity() {
			fc.Box = o.Geometry.toOriginal(fc.Box)
		}
		if o.keepCrops {
			fc.crop = &a
		}
		if o.probe != nil {
			o.probe(img, lms, &fc)
		}
		faces = append(faces, fc)
	}
	return faces, nil
}

// moved reports whether the region b differs from a by more than 3% of
// a's size in position or size, or 3 degrees in angle.
func moved(a, b media.ROI) bool {
	return a.Center.Dist(b.Center) > 0.03*a.Size || math.Abs(b.Size-a.Size) > 0.03*a.Size ||
		math.Abs(b.Angle-a.Angle) > 3*math.Pi/180
}

// hashFrame hashes the frame, reframed first when g is not the identity.
func hashFrame(h *hasher, img gocv.Mat, g Geometry) (uint64, []uint64, error) {
	if g.identity() {
		return h.hashMat(img)
	}
	if err := media.CheckBGR(img); err != nil {
		return 0, nil, err
	}
	r, err := reframe(img, g)
	if err != nil {
		return 0, nil, err
	}
	defer r.Close()
	return h.hashMat(r)
}
