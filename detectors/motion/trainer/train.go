package trainer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/motion"
	"github.com/trueframe/trueframe/models/nn"
)

// Options configures Train. Zero fields take the defaults shown.
type Options struct {
	Width int // of the network (motion.Config's default)
	// Steps of Adam (2000) of BatchSize windows (64), half real, half fake.
	// Negative: none, so that the result is From's weights as they are,
	// measured on the validation split.
	Steps     int
	BatchSize int
	// LearningRate at the start (1e-3), falling along a cosine to a tenth.
	LearningRate float64
	Seed         uint64 // (1)
	// ValidationShare of the clips is held out (0.2).
	ValidationShare float64
	// SyntheticShare of the fakes is made from real windows rather than
	// taken from fake clips, when there are any (0.5).
	SyntheticShare float64
	// SyntheticKinds are the kinds of synthetic fakes made, each equally
	// often (default DefaultSyntheticKinds; AllSyntheticKinds lists them).
	SyntheticKinds []string
	// WindowStride is the number of samples between training windows (4).
	WindowStride int
	// ExcludeMethods are fake methods left out of training (for
	// leave-one-method-out figures).
	ExcludeMethods []string
	// Norm scales the network's input (default: measured on the training
	// reals). A fine-tuned network keeps its parent's: its weights were
	// learnt on inputs scaled that way.
	Norm motion.Norm
	// Members is the number of networks trained (1), on the same split
	// from different initial weights and batches; the model is their
	// ensemble, the mean of their logits. A single small network's
	// held-out figures swing with its seed; the mean's swing less.
	Members int
	// From, when set, are the weights training starts from (a parent
	// version's members, read with nn.ReadONNXMembers) instead of random
	// ones: member k starts from From[k mod len(From)]. Width and Norm must
	// be the parent's.
	From     []map[string]nn.Tensor
	Progress func(step, total int, loss float64)
}

func (o Options) withDefaults() Options {
	if o.Steps == 0 {
		o.Steps = 2000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 1e-3
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.ValidationShare <= 0 {
		o.ValidationShare = 0.2
	}
	if len(o.SyntheticKinds) == 0 {
		o.SyntheticKinds = DefaultSyntheticKinds()
	}
	if o.SyntheticShare <= 0 {
		o.SyntheticShare = 0.5
	}
	if o.WindowStride <= 0 {
		o.WindowStride = 4
	}
	if o.Members <= 0 {
		o.Members = 1
	}
	return o
}

// Synthetic motion fakes made from real windows.
const (
	// FrozenUpper keeps eyes and brows at their mean while the rest moves:
	// a face animated from one photo by audio.
	FrozenUpper = "frozen_upper_face"
	// ForeignMouth takes mouth and chin from another clip's window: a mouth
	// redrawn to other speech.
	ForeignMouth = "foreign_mouth"
	// JitteryMouth shakes mouth and chin from sample to sample, around
	// their own motion: a mouth generated anew in every frame, as
	// Wav2Lip-style tools do, without the frame before to keep it steady.
	JitteryMouth = "jittery_mouth"
)

// DefaultSyntheticKinds are the kinds made unless Options say otherwise.
func DefaultSyntheticKinds() []string { return []string{FrozenUpper, ForeignMouth} }

// AllSyntheticKinds are the kinds synthesize knows.
func AllSyntheticKinds() []string { return []string{FrozenUpper, ForeignMouth, JitteryMouth} }

// ErrUnknownSyntheticKind is returned for a synthetic kind synthesize does
// not know.
var ErrUnknownSyntheticKind = errors.New("trainer: unknown synthetic kind")

// Validation are the figures on held-out clips: window-level AUC of real
// windows against each fake method's and each synthetic kind's.
type Validation struct {
	RealWindows int                `json:"real_windows"`
	AUC         map[string]float64 `json:"auc"`
	Windows     map[string]int     `json:"windows"`
}

// Result is a trained network, or ensemble of networks.
type Result struct {
	Config motion.Config
	// Members are the weights of each network (one unless
	// Options.Members asked for more).
	Members    []map[string]nn.Tensor
	Loss       float64
	Steps      int
	Validation Validation
	// Before are the figures of From's weights on the same validation
	// windows (nil without From): how much fine-tuning changed them.
	Before  *Validation
	Train   map[string]int // training windows by kind
	Seconds float64
}

// ErrTooFewWindows is returned when a side of the split has no real window.
var ErrTooFewWindows = errors.New("trainer: too few real windows")

type window struct {
	w      [][motion.NumChannels]float64
	method string // "real" or a fake method
}

func windows(seqs []Sequence, stride int) []window {
	var out []window
	for _, s := range seqs {
		method := "real"
		if s.Fake {
			method = s.Method
		}
		for _, run := range motion.Resample(s.Frames) {
			for i := 0; i+motion.WindowLen <= len(run.Samples); i += stride {
				out = append(out, window{run.Samples[i : i+motion.WindowLen], method})
			}
		}
	}
	return out
}

// synthesize makes a fake window of kind from the real window w (and a
// donor window for ForeignMouth).
func synthesize(rng *rand.Rand, kind string, w, donor [][motion.NumChannels]float64) [][motion.NumChannels]float64 {
	out := make([][motion.NumChannels]float64, len(w))
	copy(out, w)
	switch kind {
	case FrozenUpper:
		for _, k := range []int{motion.EyeRight, motion.EyeLeft, motion.BrowRight, motion.BrowLeft} {
			var mean float64
			for _, v := range w {
				mean += v[k] / float64(len(w))
			}
			// What is left of their motion: a small random share of it.
			keep := 0.25 * rng.Float64()
			for t := range out {
				out[t][k] = mean + keep*(w[t][k]-mean)
			}
		}
	case JitteryMouth:
		out = shake(rng, w, mouthChannels())
	case ForeignMouth:
		for _, k := range mouthChannels() {
			var mw, md float64
			for t := range w {
				mw += w[t][k] / float64(len(w))
				md += donor[t][k] / float64(len(w))
			}
			for t := range out {
				out[t][k] = mw + donor[t][k] - md
			}
		}
	}
	return out
}

// mouthChannels are the channels a redrawn lower face moves.
func mouthChannels() []int {
	return []int{motion.MouthOpen, motion.MouthWidth, motion.UpperLip, motion.Chin}
}

// shake returns w with noise added to channels: in each, independent
// noise of 0.3–1× the spread of the channel's own changes between
// samples, as large as the motion's steps and never larger.
func shake(rng *rand.Rand, w [][motion.NumChannels]float64, channels []int) [][motion.NumChannels]float64 {
	out := slices.Clone(w)
	if len(w) < 2 {
		return out // no steps to measure
	}
	for _, k := range channels {
		var sum, sq float64
		for t := 1; t < len(w); t++ {
			d := w[t][k] - w[t-1][k]
			sum += d
			sq += d * d
		}
		n := float64(len(w) - 1)
		sd := math.Sqrt(math.Max(0, sq/n-(sum/n)*(sum/n)))
		a := 0.3 + 0.7*rng.Float64()
		for t := range out {
			out[t][k] += a * sd * rng.NormFloat64()
		}
	}
	return out
}

// Train fits the network to set's sequences.
func Train(ctx context.Context, backend compute.Backend, set *Set, opts Options) (res *Result, err error) {
	opts = opts.withDefaults()
	if opts.Steps < 0 && opts.From == nil {
		return nil, errors.New("trainer: no steps and no starting weights")
	}
	for _, kind := range opts.SyntheticKinds {
		if !slices.Contains(AllSyntheticKinds(), kind) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownSyntheticKind, kind)
		}
	}
	excluded := map[string]bool{}
	for _, m := range opts.ExcludeMethods {
		excluded[m] = true
	}
	draw := func(source string) uint64 {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s", opts.Seed, splitKey(source))
		return h.Sum64()
	}
	held := func(source string) bool { return float64(draw(source)%10000)/10000 < opts.ValidationShare }
	// A set of few clips may see none of its real ones drawn for
	// validation: then the real clip of the lowest draw is, so that a small
	// set (a retraining round on a few clips) still gets figures.
	realSources := map[string]bool{} // those with windows enough to measure
	anyHeld := false
	for _, s := range set.Sequences {
		if !s.Fake && len(windows([]Sequence{s}, opts.WindowStride)) >= 2 {
			realSources[s.Source] = true
			anyHeld = anyHeld || held(s.Source)
		}
	}
	forced := ""
	if !anyHeld && len(realSources) >= 3 {
		best := uint64(math.MaxUint64)
		for src := range realSources {
			if d := draw(src); d < best || d == best && src < forced {
				best, forced = d, src
			}
		}
	}
	var trSeq, vaSeq []Sequence
	for _, s := range set.Sequences {
		if s.Fake && excluded[s.Method] {
			continue
		}
		if held(s.Source) || s.Source == forced {
			vaSeq = append(vaSeq, s)
		} else {
			trSeq = append(trSeq, s)
		}
	}
	var trReal, trFake, vaReal []window
	vaFake := map[string][]window{}
	for _, w := range windows(trSeq, opts.WindowStride) {
		if w.method == "real" {
			trReal = append(trReal, w)
		} else {
			trFake = append(trFake, w)
		}
	}
	for _, w := range windows(vaSeq, opts.WindowStride) {
		if w.method == "real" {
			vaReal = append(vaReal, w)
		} else {
			vaFake[w.method] = append(vaFake[w.method], w)
		}
	}
	if len(trReal) < 2 || len(vaReal) < 2 {
		return nil, fmt.Errorf("%w: %d for training, %d for validation", ErrTooFewWindows, len(trReal), len(vaReal))
	}
	n0 := opts.Norm
	if !n0.Valid() {
		n0 = norm(trReal)
	}
	cfg := motion.Config{Width: opts.Width, Norm: n0}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Validation: synthetic fakes of the held-out reals, fixed.
	vrng := rand.New(rand.NewPCG(opts.Seed, 0x7a1))
	for _, kind := range opts.SyntheticKinds {
		for _, w := range vaReal {
			donor := vaReal[vrng.IntN(len(vaReal))].w
			vaFake[kind] = append(vaFake[kind], window{synthesize(vrng, kind, w.w, donor), kind})
		}
	}

	defer nn.RecoverErr(&err)
	start := time.Now()
	plan := cfg.Plan()
	modelFn := func(scope *mlmodel.Scope, _ any, inputs []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Reshape(nn.Apply(scope, plan, inputs[0]), -1)}
	}
	lossFn := func(labels, preds []*graph.Node) *graph.Node {
		return graph.ReduceAllMean(nn.BCE(preds[0], labels[0]))
	}
	type network struct {
		store   *mlmodel.Store
		tr      *train.Trainer
		predict *mlmodel.Exec
	}
	nets := make([]network, opts.Members)
	for k := range nets {
		store := mlmodel.NewStore()
		// Member 0 is the single network of earlier versions, seed for seed.
		store.SetParam(mlmodel.ParamInitialSeed, int64(opts.Seed)+int64(k)<<20)
		if opts.From != nil {
			if err := nn.SetWeights(store, plan, opts.From[k%len(opts.From)]); err != nil {
				return nil, fmt.Errorf("trainer: the starting weights: %w", err)
			}
		}
		tr := train.NewTrainer(backend, store, modelFn, lossFn, optimizer.Adam().LearningRate(opts.LearningRate).Done(), nil, nil)
		predict, err := mlmodel.NewExec(backend, store, func(scope *mlmodel.Scope, x *graph.Node) *graph.Node {
			return graph.Reshape(nn.Apply(scope, plan, x), -1)
		})
		if err != nil {
			return nil, err
		}
		defer predict.Finalize()
		nets[k] = network{store, tr, predict}
	}

	n := motion.WindowLen * motion.InputChannels
	// measure gives the validation figures of the ensemble as it stands:
	// the mean of its networks' logits, as the exported model gives.
	measure := func() (Validation, error) {
		score := func(ws []window) ([]float64, error) {
			in := make([]float32, len(ws)*n)
			for i, w := range ws {
				motion.WindowInput(w.w, cfg.Norm, in[i*n:(i+1)*n])
			}
			out := make([]float64, len(ws))
			for _, net := range nets {
				t, err := net.predict.Call1(tensors.FromFlatDataAndDimensions(in, len(ws), 1, motion.WindowLen, motion.InputChannels))
				if err != nil {
					return nil, err
				}
				v, err := tensors.CopyFlatData[float32](t)
				t.FinalizeAll()
				if err != nil {
					return nil, err
				}
				for i, x := range v {
					out[i] += float64(x) / float64(len(nets))
				}
			}
			return out, nil
		}
		v := Validation{RealWindows: len(vaReal), AUC: map[string]float64{}, Windows: map[string]int{}}
		reals, err := score(vaReal)
		if err != nil {
			return v, err
		}
		var kinds []string
		for k := range vaFake {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			f, err := score(vaFake[k])
			if err != nil {
				return v, err
			}
			v.AUC[k], v.Windows[k] = eval.AUC(f, reals), len(f)
		}
		return v, nil
	}

	res = &Result{Config: cfg, Train: map[string]int{"real": len(trReal), "fake_clips": len(trFake)}}
	if opts.From != nil {
		v, err := measure()
		if err != nil {
			return nil, err
		}
		res.Before = &v
	}
	trainStep := (&batcher{opts: opts, cfg: cfg, n: n, trReal: trReal, trFake: trFake}).step
	var recent []float64
	for step := 1; step <= opts.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var stepLoss float64
		for k, net := range nets {
			loss, err := trainStep(net.store, net.tr, step, k)
			if err != nil {
				return nil, err
			}
			stepLoss += loss / float64(len(nets))
		}
		recent = append(recent, stepLoss)
		if len(recent) > 100 {
			recent = recent[1:]
		}
		if opts.Progress != nil {
			opts.Progress(step, opts.Steps, stepLoss)
		}
	}
	for _, l := range recent {
		res.Loss += l / float64(len(recent))
	}
	if res.Validation, err = measure(); err != nil {
		return nil, err
	}
	res.Steps, res.Seconds = max(0, opts.Steps), time.Since(start).Seconds()
	for _, net := range nets {
		w, err := nn.Weights(net.store, plan)
		if err != nil {
			return nil, err
		}
		res.Members = append(res.Members, w)
	}
	return res, nil
}

// batcher makes the training batches and takes the training steps.
type batcher struct {
	opts           Options
	cfg            motion.Config
	n              int // values per window
	trReal, trFake []window
}

// step is one Adam step of network k on a batch of its own: half real
// windows, half fakes (from fake clips, or made from real windows). Member
// 0's batches are those of a single network of the same seed.
func (b *batcher) step(store *mlmodel.Store, tr *train.Trainer, step, k int) (float64, error) {
	opts, n, bs := b.opts, b.n, b.opts.BatchSize
	if step > 1 {
		if err := nn.SetLearningRate(store, nn.CosineRate(opts.LearningRate, step, opts.Steps)); err != nil {
			return 0, err
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(step)|uint64(k)<<32))
	in, lab := make([]float32, bs*n), make([]float32, bs)
	for i := range bs {
		var w [][motion.NumChannels]float64
		switch {
		case i%2 == 0:
			w = b.trReal[rng.IntN(len(b.trReal))].w
		case len(b.trFake) > 0 && rng.Float64() >= opts.SyntheticShare:
			w, lab[i] = b.trFake[rng.IntN(len(b.trFake))].w, 1
		default:
			// With the two default kinds this draws as earlier versions did,
			// so a seed trains the same network as before.
			kind := opts.SyntheticKinds[rng.IntN(len(opts.SyntheticKinds))]
			w = synthesize(rng, kind, b.trReal[rng.IntN(len(b.trReal))].w, b.trReal[rng.IntN(len(b.trReal))].w)
			lab[i] = 1
		}
		motion.WindowInput(w, b.cfg.Norm, in[i*n:(i+1)*n])
	}
	metrics, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, bs, 1, motion.WindowLen, motion.InputChannels)},
		Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(lab, bs)}})
	if err != nil {
		return 0, err
	}
	loss, err := nn.Scalar(metrics[0])
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", step, err)
	}
	return loss, nil
}

// norm measures the spread of each channel's deviation from its window
// mean and of its changes over real windows.
func norm(ws []window) motion.Norm {
	var n motion.Norm
	var cnt float64
	for _, w := range ws {
		var mean [motion.NumChannels]float64
		for _, v := range w.w {
			for k := range v {
				mean[k] += v[k] / float64(len(w.w))
			}
		}
		for t, v := range w.w {
			for k := range v {
				d := v[k] - mean[k]
				n.Value[k] += d * d
				if t > 0 {
					c := v[k] - w.w[t-1][k]
					n.Change[k] += c * c
				}
			}
			cnt++
		}
	}
	for k := range motion.NumChannels {
		n.Value[k] = math.Max(1e-6, math.Sqrt(n.Value[k]/cnt))
		n.Change[k] = math.Max(1e-6, math.Sqrt(n.Change[k]/cnt))
	}
	return n
}

// splitKey names a clip for the validation draw by its folder and file
// name, not by where the data happens to be on this machine: the same seed
// must give the same split, and so the same network, in any checkout.
func splitKey(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}
