// Package scan runs the whole analysis of one video file: decoding, face
// tracking, landmarks and eye state, the detectors per face track, and
// fusion into a Report. Isolated runs the same analysis in a worker
// subprocess so that a crash on a bad file ends only that analysis.
package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gocv.io/x/gocv"
	"golang.org/x/sync/errgroup"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
	"github.com/trueframe/trueframe/models"
)

// Options configures an Analyzer. Zero fields take defaults.
type Options struct {
	ModelDir  string // installed model files (required)
	FaceModel string // "blazeface" (default) or "ultraface"
	// Fusion is the fusion model; nil means the embedded default.
	Fusion *models.Fusion
	// Limits bound what a file may demand; nil means video.DefaultLimits().
	Limits *video.Limits
	// DetectEvery runs the face detector every N analysed frames (default
	// 15, once a second at the default rate); landmark tracking follows
	// faces in between, and a lost face triggers detection at once.
	DetectEvery int
	// MaxAnalysisFPS caps how many frames per second of video are analysed;
	// faster videos are analysed every Nth frame (default 15: blinks last
	// 100–400 ms, so 15 samples a second still resolve them).
	MaxAnalysisFPS float64
	// MinFaceSize is the narrowest face (px) looked for (default 56, so
	// that every face 60 px wide is found).
	MinFaceSize int
	// MaxAnalysedFrames caps the frames analysed in one file (default: 30
	// minutes' worth at MaxAnalysisFPS); a file that needs more is refused
	// with video.ErrTooLarge. Decoded frames are capped by Limits.MaxFrames.
	MaxAnalysedFrames int
	// EvidenceDir receives evidence images; empty means they are not written.
	EvidenceDir string
	// Detectors replaces the standard set (DefaultDetectors).
	Detectors []detectors.Detector
	// DetectorNames picks detectors by name (see DetectorNames) when
	// Detectors is nil; empty means DefaultDetectors.
	DetectorNames []string
	// ModelCards maps a learned detector's name to the model card of the
	// model it runs instead of the embedded one.
	ModelCards map[string]string
}

// DefaultMaxAnalysedFrames is Options.MaxAnalysedFrames at the default
// MaxAnalysisFPS: 30 minutes at 15 frames a second.
const DefaultMaxAnalysedFrames = 30 * 60 * 15

// Analyzer scans files. It holds ONNX sessions and is not safe for
// concurrent use; callers must call Close.
type Analyzer struct {
	opts      Options
	finder    face.Detector
	mesher    *landmark.Mesher
	detectors []detectors.Detector
	fuser     *fusion.Fuser
}

// New loads the models and returns an Analyzer.
func New(opts Options) (_ *Analyzer, err error) {
	if opts.ModelDir == "" {
		return nil, errors.New("scan: no model directory")
	}
	if opts.FaceModel == "" {
		opts.FaceModel = "blazeface"
	}
	if opts.DetectEvery <= 0 {
		opts.DetectEvery = 15
	}
	if opts.MaxAnalysisFPS <= 0 {
		opts.MaxAnalysisFPS = 15
	}
	if opts.MinFaceSize <= 0 {
		opts.MinFaceSize = 56
	}
	if opts.MaxAnalysedFrames <= 0 {
		opts.MaxAnalysedFrames = int(30 * 60 * opts.MaxAnalysisFPS)
	}
	if opts.Limits == nil {
		l := video.DefaultLimits()
		opts.Limits = &l
	}
	a := &Analyzer{opts: opts, detectors: opts.Detectors}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.fuser, err = fusion.New(opts.Fusion); err != nil {
		return nil, err
	}
	if a.finder, err = face.New(face.Options{Model: opts.FaceModel, ModelDir: opts.ModelDir, MinFaceSize: opts.MinFaceSize}); err != nil {
		return nil, err
	}
	if a.mesher, err = landmark.New(landmark.Options{ModelDir: opts.ModelDir}); err != nil {
		return nil, err
	}
	if a.detectors == nil {
		names, defaults := opts.DetectorNames, false
		if len(names) == 0 {
			names, defaults = DefaultDetectors(), true
		}
		for _, name := range names {
			d, err := NewDetector(name, opts.ModelDir, opts.ModelCards)
			if defaults && optionalDetector(name) && errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			a.detectors = append(a.detectors, d)
		}
	}
	return a, nil
}

// SetEvidenceDir changes where the next analyses write evidence images, so
// that a long-lived Analyzer (a warm worker) can serve many jobs. It must
// not be called while Analyze runs.
func (a *Analyzer) SetEvidenceDir(dir string) { a.opts.EvidenceDir = dir }

// Models names the models this Analyzer runs.
func (a *Analyzer) Models() ModelInfo {
	info := ModelInfo{FaceDetector: a.opts.FaceModel, FusionVersion: a.fuser.Model().Version,
		Detectors: map[string]string{}}
	for _, d := range a.detectors {
		v := "unversioned"
		if vd, ok := d.(detectors.Versioned); ok {
			v = vd.Version()
		}
		info.Detectors[d.Name()] = v
	}
	return info
}

// Close frees the models.
func (a *Analyzer) Close() error {
	var errs []error
	for _, d := range a.detectors {
		if c, ok := d.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	a.detectors = nil
	if a.finder != nil {
		errs = append(errs, a.finder.Close())
		a.finder = nil
	}
	if a.mesher != nil {
		errs = append(errs, a.mesher.Close())
		a.mesher = nil
	}
	return errors.Join(errs...)
}

// trackState is what the pipeline keeps about one face track.
// closeTrackDetectors closes the track analysers that are io.Closers.
func closeTrackDetectors(tracks map[int]*trackState) {
	for _, ts := range tracks {
		for _, td := range ts.detectors {
			if c, ok := td.(io.Closer); ok {
				c.Close()
			}
		}
	}
}

type trackState struct {
	id        int
	detectors []detectors.TrackDetector
	busy      []time.Duration // time spent in each detector
	start     time.Duration
	end       time.Duration
	frames    int
	boxes     []media.Rect
	seconds   map[int]bool
	thumb     []byte        // JPEG of the face, when evidence is written
	thumbAt   time.Duration // the time it was cut at
}

// thumbFrame is the frame of a track its thumbnail is cut from: a few
// frames in, once the tracker has settled on the face (a shorter track
// keeps the one of its first frame).
const thumbFrame = 5

// Analyze scans the video at path. progress, when not nil, is called with
// the fraction done.
func (a *Analyzer) Analyze(ctx context.Context, path string, progress func(float64)) (*Report, error) {
	started := time.Now()
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &video.DecodeError{Path: path, Err: video.ErrNotVideo}
	}
	rep := &Report{File: path, SizeBytes: st.Size(), Detectors: map[string]DetectorSummary{},
		Faces: []Face{}, Timeline: []TimelinePoint{},
		Models: a.Models(), Thresholds: a.fuser.Thresholds()}

	dec, err := video.Open(path, &video.Options{Limits: *a.opts.Limits})
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	cfg := dec.Config()
	stride := analysisStride(cfg.FPS, 0, false, a.opts.MaxAnalysisFPS)
	dec.SetStride(stride)
	rep.Video = VideoInfo{Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS, Codec: cfg.Codec, AnalysedEvery: stride}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		sum, err := fileSHA256(gctx, path)
		rep.SHA256 = sum
		return err
	})

	// Decoding runs ahead of the analysis on the other core. Frames travel
	// in Mats from a fixed pool, reused rather than cloned: a fresh 720p Mat
	// per frame costs more in allocation and page faults than the copy, and
	// the pool bounds memory and holds the decoder back when analysis lags.
	type item struct {
		index int
		t     time.Duration
		img   gocv.Mat
	}
	const inFlight = 6
	pool := make(chan gocv.Mat, inFlight)
	for i := 0; i < inFlight; i++ {
		pool <- gocv.NewMat()
	}
	defer func() {
		for {
			select {
			case m := <-pool:
				m.Close()
			default:
				return
			}
		}
	}()
	release := func(it item) { pool <- it.img }
	frames := make(chan item, inFlight)
	var decoded, yielded int
	var lastTime time.Duration
	g.Go(func() error {
		defer close(frames)
		for gctx.Err() == nil && dec.Next() {
			// The stride follows the rate the timestamps show when the
			// container's is missing or false, so that a file cannot make
			// every one of its frames analysed by misstating its rate.
			if fps, ok := dec.MeasuredFPS(); ok {
				if s := analysisStride(cfg.FPS, fps, true, a.opts.MaxAnalysisFPS); s != stride {
					stride = s
					dec.SetStride(s)
				}
			}
			if yielded++; yielded > a.opts.MaxAnalysedFrames {
				return &video.DecodeError{Path: path, Frame: dec.Frame().Index,
					Err: fmt.Errorf("%w: more than %d frames to analyse", video.ErrTooLarge, a.opts.MaxAnalysedFrames)}
			}
			f := dec.Frame()
			var m gocv.Mat
			select {
			case m = <-pool:
			case <-gctx.Done():
				return gctx.Err()
			}
			f.Image.CopyTo(&m)
			frames <- item{index: f.Index, t: f.Time, img: m} // never blocks: the pool holds inFlight Mats
		}
		decoded = dec.Decoded()
		lastTime = dec.LastTime()
		if err := gctx.Err(); err != nil {
			return err
		}
		return dec.Err()
	})

	// Tracking (detector + mesh) and the per-face work (iris + detectors)
	// run as two stages on different frames, so with decoding the pipeline
	// keeps both cores busy. They share the Mesher safely: Fit uses only the
	// mesh session and Eyes only the iris session.
	type tracked struct {
		item
		obs []track.Observation
	}
	trackedFrames := make(chan tracked, inFlight)
	// Faces in dim footage are sought on a brightened copy (the detectors
	// still read the frames as they are).
	tracker := track.New(a.finder, a.mesher, &track.Options{DetectEvery: a.opts.DetectEvery, MinFaceSize: float64(a.opts.MinFaceSize), LowLight: true})
	g.Go(func() error {
		defer close(trackedFrames)
		defer tracker.Close()
		defer drain(frames, release)
		for it := range frames {
			if err := gctx.Err(); err != nil {
				release(it)
				return err
			}
			obs, err := tracker.Update(it.img)
			if err != nil {
				release(it)
				return err
			}
			trackedFrames <- tracked{it, obs} // never blocks, as above
		}
		return nil
	})

	// Eye measurement and the detectors are two more stages: the iris model
	// and the per-face detectors cost about as much as tracking, and split
	// this way no stage holds back the others.
	type measured struct {
		tracked
		faces []detectors.FaceFrame
	}
	measuredFrames := make(chan measured, inFlight)
	g.Go(func() error {
		defer close(measuredFrames)
		defer drain(trackedFrames, func(tf tracked) { release(tf.item) })
		for tf := range trackedFrames {
			if err := gctx.Err(); err != nil {
				release(tf.item)
				return err
			}
			measuredFrames <- measured{tf, a.measureEyes(tf.index, tf.t, tf.img, tf.obs)} // never blocks, as above
		}
		return nil
	})

	tracks := map[int]*trackState{}
	// Track analysers that hold native memory (io.Closer) give it back
	// however the analysis ends; the deferred call runs after g.Wait, when
	// no goroutine touches tracks any more.
	defer closeTrackDetectors(tracks)
	analysed := 0
	g.Go(func() error {
		defer drain(measuredFrames, func(mf measured) { release(mf.item) })
		for mf := range measuredFrames {
			err := a.observe(gctx, tracks, mf.faces)
			release(mf.item)
			if err != nil {
				return err
			}
			analysed++
			if progress != nil && cfg.FrameCount > 0 {
				progress(math.Min(0.99, float64(mf.index+1)/float64(cfg.FrameCount)))
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	rep.Video.Frames = decoded
	rep.Video.AnalysedEvery = stride
	rep.Video.Truncated = dec.Truncated()
	if rep.Video.Truncated {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("file looks truncated: the container announces %d frames, %d decoded", cfg.FrameCount, decoded))
	}
	duration := lastTime + time.Duration(float64(time.Second)/cfg.FPS)
	if decoded == 0 {
		duration = 0
	}
	rep.DurationS = duration.Seconds()
	if err := a.finish(ctx, rep, tracks, cfg.FPS, duration); err != nil {
		return nil, err
	}
	total := time.Since(started).Seconds()
	rep.Timing = Timing{TotalS: total, FramesPerS: float64(decoded) / total, AnalysedFPS: float64(analysed) / total,
		DetectorS: map[string]float64{}}
	for _, ts := range tracks {
		for i, d := range a.detectors {
			rep.Timing.DetectorS[d.Name()] += ts.busy[i].Seconds()
		}
	}
	if progress != nil {
		progress(1)
	}
	return rep, nil
}

// analysisStride returns every how many frames to analyse so that at most
// maxFPS frames per second of video are: from the container's rate,
// unless the rate measured from the timestamps (when known) differs from
// it by more than a quarter — a rate missing, guessed or false. The
// tolerance keeps jitter in the timestamps from changing the stride of
// ordinary files.
func analysisStride(stated, measured float64, known bool, maxFPS float64) int {
	fps := stated
	if known && (measured > 1.25*stated || measured < 0.8*stated) {
		fps = measured
	}
	return int(math.Max(1, math.Ceil(fps/maxFPS-0.01)))
}

// drain empties ch after a stage stopped early, so the stage before it never
// blocks on a full channel, releasing each item.
func drain[T any](ch <-chan T, release func(T)) {
	for v := range ch {
		release(v)
	}
}

// measureEyes turns a frame's tracked faces into what the detectors see,
// with each eye's openness from the iris model (NaN when it cannot be
// measured).
func (a *Analyzer) measureEyes(index int, t time.Duration, img gocv.Mat, obs []track.Observation) []detectors.FaceFrame {
	faces := make([]detectors.FaceFrame, len(obs))
	for i, o := range obs {
		faces[i] = detectors.FaceFrame{Track: o.ID, Frame: index, Time: t, Image: img,
			Landmarks: o.Face.Points, Box: o.Face.Box(),
			RightEyeOpenness: math.NaN(), LeftEyeOpenness: math.NaN()}
		if eyes, err := a.mesher.Eyes(img, o.Face); err == nil {
			faces[i].RightEyeOpenness, faces[i].LeftEyeOpenness = eyes.Right.Openness, eyes.Left.Openness
		}
	}
	return faces
}

// observe feeds each face of a frame to its track's detectors, starting a
// track's detectors when the track first appears.
func (a *Analyzer) observe(ctx context.Context, tracks map[int]*trackState, faces []detectors.FaceFrame) error {
	for i := range faces {
		ff := &faces[i]
		ts := tracks[ff.Track]
		if ts == nil {
			ts = &trackState{id: ff.Track, start: ff.Time, seconds: map[int]bool{}}
			for _, d := range a.detectors {
				ts.detectors = append(ts.detectors, d.NewTrack(ff.Track))
			}
			ts.busy = make([]time.Duration, len(ts.detectors))
			tracks[ff.Track] = ts
		}
		ts.end = ff.Time
		ts.frames++
		ts.seconds[int(ff.Time.Seconds())] = true
		if finiteRect(ff.Box) {
			ts.boxes = append(ts.boxes, ff.Box)
			if a.opts.EvidenceDir != "" && (ts.thumb == nil || ts.frames == thumbFrame) {
				if jpg := faceThumbnail(ff.Image, ff.Box); jpg != nil {
					ts.thumb, ts.thumbAt = jpg, ff.Time
				}
			}
		}
		for i, td := range ts.detectors {
			t0 := time.Now()
			if err := td.Observe(ctx, ff); err != nil {
				return err
			}
			ts.busy[i] += time.Since(t0)
		}
	}
	return nil
}

// finish turns the per-track detectors into results, fuses them and fills
// the report.
func (a *Analyzer) finish(ctx context.Context, rep *Report, tracks map[int]*trackState, fps float64, duration time.Duration) error {
	ids := make([]int, 0, len(tracks))
	for id := range tracks {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var scores []fusion.FaceScore
	for _, id := range ids {
		ts := tracks[id]
		info := detectors.TrackInfo{Track: id, FPS: fps, Start: ts.start, End: ts.end, Frames: ts.frames, Duration: duration}
		var results []detectors.Result
		for i, td := range ts.detectors {
			t0 := time.Now()
			r, err := td.Result(ctx, info)
			if err != nil {
				return err
			}
			ts.busy[i] += time.Since(t0)
			sanitize(&r)
			if err := a.writeArtifacts(&r); err != nil {
				return err
			}
			results = append(results, r)
		}
		fs := a.fuser.Face(results, ts.frames)
		scores = append(scores, fs)
		f := Face{Track: id, StartS: ts.start.Seconds(), EndS: ts.end.Seconds(),
			Frames: ts.frames, Box: medianBox(ts.boxes), Score: fs.Score, Verdict: fs.Verdict, Reason: fs.Reason,
			Contributions: fs.Contributions, Detectors: results}
		if ts.thumb != nil {
			name := fmt.Sprintf("face_track%d.jpg", id)
			if err := a.writeArtifacts(&detectors.Result{Artifacts: map[string][]byte{name: ts.thumb}}); err != nil {
				return err
			}
			f.Thumbnail, f.ThumbnailS = name, ts.thumbAt.Seconds()
		}
		rep.Faces = append(rep.Faces, f)
	}
	rep.Score, rep.Verdict, rep.VerdictReason = a.fuser.Video(scores, duration.Seconds())
	rep.summarizeDecidingFace()
	rep.markNotCounted(a.fuser)
	rep.Timeline = a.timeline(rep.Faces, tracks, duration)
	return nil
}

// timeline scores each second by the most suspicious face on screen, letting
// each detector's evidence for that second stand in for its track score.
func (a *Analyzer) timeline(faces []Face, tracks map[int]*trackState, duration time.Duration) []TimelinePoint {
	n := int(math.Ceil(duration.Seconds()))
	out := make([]TimelinePoint, n)
	for s := 0; s < n; s++ {
		out[s].T = float64(s)
		for _, f := range faces {
			if !tracks[f.Track].seconds[s] {
				continue
			}
			out[s].Faces++
			override := map[string]float64{}
			for _, r := range f.Detectors {
				for _, e := range r.Evidence {
					if e.Kind != "event" && e.Start < float64(s+1) && e.End >= float64(s) {
						override[r.Detector] = math.Max(override[r.Detector], e.Score)
					}
				}
			}
			v := a.fuser.ScoreAt(f.Detectors, override)
			if out[s].Score == nil || v > *out[s].Score {
				out[s].Score = &v
			}
		}
	}
	return out
}

func (a *Analyzer) writeArtifacts(r *detectors.Result) error {
	if a.opts.EvidenceDir == "" || len(r.Artifacts) == 0 {
		return nil
	}
	if err := os.MkdirAll(a.opts.EvidenceDir, 0o755); err != nil {
		return err
	}
	for name, data := range r.Artifacts {
		if filepath.Base(name) != name {
			return fmt.Errorf("scan: artifact name %q is not a plain file name", name)
		}
		if err := os.WriteFile(filepath.Join(a.opts.EvidenceDir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sanitize keeps a detector's result within its contract whatever the
// detector did: scores and confidences in [0,1] (a NaN score means no
// opinion, a NaN confidence none), and no NaN or Inf in measurements or
// evidence, which JSON cannot carry.
func sanitize(r *detectors.Result) {
	r.Score = detectors.Clamp01(r.Score)
	if math.IsNaN(r.Confidence) {
		r.Confidence = 0
	}
	r.Confidence = detectors.Clamp01(r.Confidence)
	for k, v := range r.Measurements {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(r.Measurements, k)
		}
	}
	for i := range r.Evidence {
		e := &r.Evidence[i]
		e.Score = detectors.Clamp01(e.Score)
		if e.Region != nil && !finiteRect(*e.Region) {
			e.Region = nil
		}
		for _, v := range []*float64{&e.Start, &e.End} {
			if math.IsNaN(*v) || math.IsInf(*v, 0) {
				*v = 0
			}
		}
	}
}

// faceThumbnail cuts the face with a margin around it out of the frame, at
// most 160 px on its longer side, as a JPEG: the picture a reader
// recognises the face by in a report with several faces. nil when the box
// lies outside the frame.
func faceThumbnail(img gocv.Mat, box media.Rect) []byte {
	const maxSide, margin = 160, 0.25
	r := image.Rect(int(box.X-margin*box.W), int(box.Y-margin*box.H),
		int(box.X+box.W*(1+margin)), int(box.Y+box.H*(1+margin))).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if r.Dx() < 8 || r.Dy() < 8 {
		return nil
	}
	crop := img.Region(r)
	defer crop.Close()
	small := gocv.NewMat()
	defer small.Close()
	if scale := float64(maxSide) / float64(max(r.Dx(), r.Dy())); scale < 1 {
		gocv.Resize(crop, &small, image.Pt(max(1, int(float64(r.Dx())*scale)), max(1, int(float64(r.Dy())*scale))), 0, 0, gocv.InterpolationArea)
	} else {
		crop.CopyTo(&small)
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, small, []int{gocv.IMWriteJpegQuality, 85})
	if err != nil {
		return nil
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...)
}

func finiteRect(r media.Rect) bool {
	for _, v := range []float64{r.X, r.Y, r.W, r.H} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func medianBox(boxes []media.Rect) media.Rect {
	if len(boxes) == 0 {
		return media.Rect{}
	}
	med := func(get func(media.Rect) float64) float64 {
		v := make([]float64, len(boxes))
		for i, b := range boxes {
			v[i] = get(b)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return media.Rect{X: med(func(r media.Rect) float64 { return r.X }), Y: med(func(r media.Rect) float64 { return r.Y }),
		W: med(func(r media.Rect) float64 { return r.W }), H: med(func(r media.Rect) float64 { return r.H })}
}

func fileSHA256(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}
