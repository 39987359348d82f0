// Package dataset makes labelled fake videos for detector training from a
// folder of real clips, by two methods:
//
//   - self_blend: in every frame the tracked face is blended back onto itself
//     with a small colour shift, a resolution loss and a feathered mask inside
//     the face oval (media/blend.SelfBlend). No training is needed, and such
//     fakes teach detectors the blending artefacts that generalise to real
//     face swaps.
//   - mouth_retime: in every frame the lower face (from between the eyes and
//     the nose tip down) is replaced by the same person's lower face from
//     another moment of the clip, warped onto the landmarks, resampled and
//     blended: a mouth that moves out of step with the head, seamed and
//     softened as lip-sync tools leave it (they redraw the lower face at
//     96–256 pixels). A stand-in for lip-sync made from real clips alone.
//   - autoencoder_swap: when a trained model is given (generate train's model
//     directory), each clip's face is decoded as the model's other identity:
//     the one whose decoder reconstructs the clip's face worse, so a clip of
//     either training identity becomes a real swap (generator/swap).
//
// Every output is an .mp4 with a JSON sidecar, and ManifestFile lists them
// all with their label, method and parent real clip.
package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/trueframe/trueframe/media/blend"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/generator/swap"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// ManifestFile is the name of the manifest in the output folder.
const ManifestFile = "manifest.json"

// Methods recorded in sidecars and the manifest.
const (
	MethodSelfBlend   = "self_blend"
	MethodMouthRetime = "mouth_retime"
	MethodAESwap      = "autoencoder_swap"
)

// ErrNoClips is returned when the real folder holds no video.
var ErrNoClips = errors.New("dataset: no real clips")

// Item is one output of the manifest.
type Item struct {
	File          string `json:"file"` // relative to the output folder
	Label         string `json:"label"`
	Method        string `json:"method"`
	Parent        string `json:"parent"` // the real clip it was made from
	Frames        int    `json:"frames"`
	FramesTouched int    `json:"frames_touched"`
	ModelID       string `json:"model_id,omitempty"`
	// Decoder is the identity an autoencoder swap decoded into, and
	// ReconstructionError each decoder's mean error on the clip's sampled
	// faces (grey levels), by which it was chosen.
	Decoder             string      `json:"decoder,omitempty"`
	ReconstructionError *[2]float64 `json:"reconstruction_error,omitempty"`
}

// Manifest lists a dataset's outputs.
type Manifest struct {
	Created time.Time `json:"created"`
	Real    string    `json:"real"`
	Items   []Item    `json:"items"`
	// Failed names clips that could not be converted, with the reason.
	Failed map[string]string `json:"failed,omitempty"`
}

// Options configures Build.
type Options struct {
	Real, Out string
	// FaceModels is the directory of the face and landmark models (deps/models).
	FaceModels string
	// ModelDir, when set, adds autoencoder swaps with that trained model.
	ModelDir string
	// MaxFrames caps the frames of each output (0: all).
	MaxFrames int
	// Seed varies the self-blend parameters (1).
	Seed uint64
	// SwapsOnly makes only the autoencoder swaps (ModelDir is then
	// required): detector retraining takes the generator's fakes from
	// here and makes its own self-blends.
	SwapsOnly bool
	// MouthRetime also makes mouth_retime fakes of every clip.
	MouthRetime bool
}

// Build writes the dataset and its manifest. A clip that fails is recorded
// in Manifest.Failed; cancellation stops the build.
func Build(ctx context.Context, opts Options) (Manifest, error) {
	man := Manifest{Created: time.Now().UTC(), Real: opts.Real, Failed: map[string]string{}}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.SwapsOnly && opts.ModelDir == "" {
		return man, errors.New("dataset: swaps only, but no generator model")
	}
	ents, err := os.ReadDir(opts.Real)
	if err != nil {
		return man, err
	}
	var clips []string
	for _, e := range ents {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !strings.HasSuffix(e.Name(), ".json") {
			clips = append(clips, filepath.Join(opts.Real, e.Name()))
		}
	}
	sort.Strings(clips)
	if len(clips) == 0 {
		return man, fmt.Errorf("%w in %s", ErrNoClips, opts.Real)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return man, err
	}
	pair, err := facepair.Open(opts.FaceModels, face.Options{})
	if err != nil {
		return man, err
	}
	defer pair.Close()
	det, mesher := pair.Detector, pair.Mesher
	var picker *decoderPicker
	if opts.ModelDir != "" {
		if picker, err = newDecoderPicker(opts.ModelDir); err != nil {
			return man, err
		}
		defer picker.Close()
	}
	for i, clip := range clips {
		if err := ctx.Err(); err != nil {
			return man, err
		}
		base := strings.TrimSuffix(filepath.Base(clip), filepath.Ext(clip))
		if !opts.SwapsOnly {
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
			bo := blend.DefaultOptions()
			bo.HueShift = (rng.Float64()*2 - 1) * 6
			bo.Gain = [3]float64{0.92 + 0.16*rng.Float64(), 0.92 + 0.16*rng.Float64(), 0.92 + 0.16*rng.Float64()}
			bo.Resample = 0.4 + 0.4*rng.Float64()
			bo.Feather = 1 + 3*rng.Float64()
			name := base + "_" + MethodSelfBlend + ".mp4"
			it, err := selfBlendVideo(ctx, det, mesher, clip, filepath.Join(opts.Out, name), bo, opts.MaxFrames)
			if notVideo, err := man.add(clip, name, it, err); err != nil {
				return man, err
			} else if notVideo {
				continue
			}
		}
		if opts.MouthRetime && !opts.SwapsOnly {
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)+1<<32))
			bo := blend.Options{LowerFace: true, LowerFaceCut: 0.3 + 0.5*rng.Float64(),
				Gain:     [3]float64{0.96 + 0.08*rng.Float64(), 0.96 + 0.08*rng.Float64(), 0.96 + 0.08*rng.Float64()},
				Resample: 0.3 + 0.4*rng.Float64(), Shrink: 0.95 + 0.1*rng.Float64(), Feather: 2 + 4*rng.Float64()}
			name := base + "_" + MethodMouthRetime + ".mp4"
			it, err := mouthRetimeVideo(ctx, det, mesher, clip, filepath.Join(opts.Out, name), bo, opts.MaxFrames, retimeChunk)
			if notVideo, err := man.add(clip, name, it, err); err != nil {
				return man, err
			} else if notVideo {
				continue
			}
		}
		if picker != nil {
			name := base + "_" + MethodAESwap + ".mp4"
			to, recon, err := picker.choose(ctx, det, mesher, clip)
			if err != nil {
				if ctx.Err() != nil {
					return man, err
				}
				man.Failed[clip+" ("+MethodAESwap+")"] = err.Error()
				continue
			}
			sc, _, err := SwapVideo(ctx, SwapRequest{ModelDir: opts.ModelDir, Decoder: to, Converter: picker.convs[to],
				FaceModels: opts.FaceModels, Target: clip, Out: filepath.Join(opts.Out, name), MaxFrames: opts.MaxFrames})
			if err != nil {
				if ctx.Err() != nil {
					return man, err
				}
				man.Failed[clip+" ("+MethodAESwap+")"] = err.Error()
				continue
			}
			it := Item{File: name, Label: "fake", Method: MethodAESwap, Parent: clip,
				Frames: sc.Frames, FramesTouched: sc.FramesTouched, ModelID: sc.ModelID, Decoder: to.String()}
			if !math.IsNaN(recon[0]) && !math.IsNaN(recon[1]) {
				it.ReconstructionError = &recon
			}
			man.Items = append(man.Items, it)
		}
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return man, err
	}
	if err := os.WriteFile(filepath.Join(opts.Out, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return man, err
	}
	if len(man.Items) == 0 {
		return man, fmt.Errorf("dataset: no output made (%d clips failed)", len(man.Failed))
	}
	return man, nil
}

// add records the output named name that clip gave (item it) or the error
// it failed with. A file that is no video is no failure: notVideo says so,
// and the build skips it. Cancellation is returned, to stop the build.
func (man *Manifest) add(clip, name string, it Item, err error) (notVideo bool, _ error) {
	var de *video.DecodeError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return false, err
	case err != nil && errors.As(err, &de) && errors.Is(err, video.ErrNotVideo):
		return true, nil
	case err != nil:
		key := clip // the self-blend's failure names the clip alone, as it always has
		if it.Method != MethodSelfBlend {
			key += " (" + it.Method + ")"
		}
		man.Failed[key] = err.Error()
	default:
		it.File = name
		man.Items = append(man.Items, it)
	}
	return false, nil
}

// selfBlendVideo writes the self-blended version of clip to out, with a sidecar.
func selfBlendVideo(ctx context.Context, det face.Detector, mesher *landmark.Mesher, clip, out string,
	bo blend.Options, maxFrames int) (Item, error) {
	it := Item{Label: "fake", Method: MethodSelfBlend, Parent: clip}
	dec, err := video.Open(clip, nil)
	if err != nil {
		return it, err
	}
	defer dec.Close()
	cfg := dec.Config()
	vw, err := newWriter(out, cfg)
	if err != nil {
		return it, err
	}
	defer vw.Close()
	tr := track.New(det, mesher, nil)
	for dec.Next() {
		if it.Frames%16 == 0 {
			if err := ctx.Err(); err != nil {
				return it, err
			}
		}
		fr := dec.Frame()
		obs, err := tr.Update(fr.Image)
		if err != nil {
			return it, err
		}
		img := fr.Image
		var blended gocv.Mat
		touched := false // a zero Mat must never reach gocv: Empty() on it segfaults
		if best, ok := track.Largest(obs); ok {
			if b, err := blend.SelfBlend(img, best.Points, &bo); err == nil {
				blended, img, touched = b, b, true
				it.FramesTouched++
			}
		}
		err = vw.Write(img)
		if touched {
			blended.Close()
		}
		if err != nil {
			return it, fmt.Errorf("%w: %v", swap.ErrWrite, err)
		}
		it.Frames++
		if maxFrames > 0 && it.Frames >= maxFrames {
			break
		}
	}
	if err := dec.Err(); err != nil {
		return it, err
	}
	return it, writeSidecar(out, it, cfg)
}

// newWriter opens an mp4 writer for out at cfg's size and rate.
func newWriter(out string, cfg video.Config) (*gocv.VideoWriter, error) {
	vw, err := gocv.VideoWriterFile(out, "mp4v", cfg.FPS, cfg.Width, cfg.Height, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", swap.ErrWrite, out, err)
	}
	if !vw.IsOpened() {
		// Writes to an unopened writer succeed silently: refuse here instead.
		vw.Close()
		return nil, fmt.Errorf("%w: %s: the video writer did not open (codec or directory)", swap.ErrWrite, out)
	}
	return vw, nil
}

// writeSidecar writes the sidecar of out, which it made from its parent
// clip, a video of cfg.
func writeSidecar(out string, it Item, cfg video.Config) error {
	return swap.WriteSidecar(SidecarPath(out), swap.Sidecar{Label: "fake", Method: it.Method,
		Source: it.Parent, Target: it.Parent, Output: out, Frames: it.Frames, FramesTouched: it.FramesTouched,
		Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS, Created: time.Now().UTC()})
}

// retimeChunk is how many frames mouthRetimeVideo holds at once (10 s at
// 25 fps): a donor lies within the same chunk, so memory stays bounded on
// a clip of any length.
const retimeChunk = 250

// mouthRetimeVideo writes the mouth_retime version of clip to out, with a
// sidecar: each frame's lower face comes from the frame half its chunk
// (of up to chunk frames) later, wrapping round within the chunk, so
// the donor moment is seconds away.
func mouthRetimeVideo(ctx context.Context, det face.Detector, mesher *landmark.Mesher, clip, out string,
	bo blend.Options, maxFrames, chunk int) (Item, error) {
	it := Item{Label: "fake", Method: MethodMouthRetime, Parent: clip}
	dec, err := video.Open(clip, nil)
	if err != nil {
		return it, err
	}
	defer dec.Close()
	cfg := dec.Config()
	vw, err := newWriter(out, cfg)
	if err != nil {
		return it, err
	}
	defer vw.Close()
	var frames []gocv.Mat
	var faces [][]media.Point
	release := func() {
		for _, f := range frames {
			f.Close()
		}
		frames, faces = frames[:0], faces[:0]
	}
	defer release()
	tr := track.New(det, mesher, nil)
	for more := true; more; {
		for more = dec.Next(); more; more = dec.Next() {
			if len(frames)%16 == 0 {
				if err := ctx.Err(); err != nil {
					return it, err
				}
			}
			fr := dec.Frame()
			obs, err := tr.Update(fr.Image)
			if err != nil {
				return it, err
			}
			var pts []media.Point
			if best, ok := track.Largest(obs); ok {
				pts = best.Points
			}
			frames = append(frames, fr.Image.Clone())
			faces = append(faces, pts)
			if maxFrames > 0 && it.Frames+len(frames) >= maxFrames {
				more = false
				break
			}
			if len(frames) == chunk {
				break
			}
		}
		if err := writeRetimed(vw, frames, faces, &bo, &it); err != nil {
			return it, err
		}
		release()
	}
	if err := dec.Err(); err != nil {
		return it, err
	}
	return it, writeSidecar(out, it, cfg)
}

// writeRetimed writes one chunk of frames, each with the lower face of the
// nearest frame with a face from half the chunk on, counting into it.
func writeRetimed(vw *gocv.VideoWriter, frames []gocv.Mat, faces [][]media.Point, bo *blend.Options, it *Item) error {
	n := len(frames)
	for t, img := range frames {
		var blended gocv.Mat
		touched := false // a zero Mat must never reach gocv
		if faces[t] != nil {
			for k := 0; k < n/2; k++ {
				d := (t + n/2 + k) % n
				if faces[d] == nil || d == t {
					continue
				}
				if b, err := blend.SwapFace(img, frames[d], faces[t], faces[d], bo); err == nil {
					blended, img, touched = b, b, true
					it.FramesTouched++
				}
				break
			}
		}
		err := vw.Write(img)
		if touched {
			blended.Close()
		}
		if err != nil {
			return fmt.Errorf("%w: %v", swap.ErrWrite, err)
		}
		it.Frames++
	}
	return nil
}

// SidecarPath returns the JSON sidecar path for an output video.
func SidecarPath(video string) string {
	return strings.TrimSuffix(video, filepath.Ext(video)) + ".json"
}

// SwapRequest describes one autoencoder swap.
type SwapRequest struct {
	// ModelDir is generate train's model directory, holding MetaFile and
	// decoder_a.onnx / decoder_b.onnx.
	ModelDir string
	// Decoder is the identity the target's face becomes.
	Decoder model.Identity
	// FaceModels is the directory of the face and landmark models.
	FaceModels  string
	Target, Out string
	MaxFrames   int
	// Converter, when set, is Decoder's already loaded converter (the
	// caller keeps ownership); otherwise it is loaded from ModelDir.
	Converter *swap.Converter
}

// SwapVideo converts req.Target with the exported model and writes the video
// and its sidecar. ONNX Runtime must already be initialised.
func SwapVideo(ctx context.Context, req SwapRequest) (swap.Sidecar, swap.Result, error) {
	var sc swap.Sidecar
	meta, err := model.ReadMeta(req.ModelDir)
	if err != nil {
		return sc, swap.Result{}, err
	}
	conv := req.Converter
	if conv == nil {
		if conv, err = swap.NewConverter(decoderPath(req.ModelDir, req.Decoder), meta.Config.Size); err != nil {
			return sc, swap.Result{}, err
		}
		defer conv.Close()
	}
	sw, err := swap.New(conv, swap.Options{FaceModels: req.FaceModels, MaxFrames: req.MaxFrames})
	if err != nil {
		return sc, swap.Result{}, err
	}
	defer sw.Close()
	res, err := sw.Video(ctx, req.Target, req.Out)
	if err != nil {
		return sc, res, err
	}
	sc = swap.Sidecar{Label: "fake", Method: MethodAESwap, ModelID: meta.ID,
		Source: fmt.Sprintf("identity %s (%s)", req.Decoder, meta.Identities[req.Decoder]),
		Target: req.Target, Output: req.Out, Frames: res.Frames, FramesTouched: res.FramesTouched,
		Width: res.Width, Height: res.Height, FPS: res.FPS, Created: time.Now().UTC()}
	return sc, res, swap.WriteSidecar(SidecarPath(req.Out), sc)
}
