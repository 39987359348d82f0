// Package trainer trains the face_cnn detector's head (detectors/facecnn)
// in Go with GoMLX and exports it to ONNX.
//
// Training material: face crops (Extract) of real people, and fakes the
// project makes from them — self-blends of whole, inner and lower faces
// (SelfBlend) — plus any fake crops given (the generator's swaps, other
// labelled fakes). Every sample, real or fake, is degraded the same random
// way (Degrade: lower resolution, JPEG, noise, mirror), so that neither
// compression nor blur can become the cue. Crops are split into training
// and validation by group (a video, a person), never by frame.
//
// The backbone is frozen, so its features are computed once per sample
// (Samples of them, each drawn from a generator seeded by its index) and
// the head then trains for many epochs over them in a fraction of the time
// the backbone would take on every step.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/models/nn"
)

// Options configures Train. Zero fields take the defaults shown.
type Options struct {
	Config facecnn.Config
	// Samples is the number of training samples made (16000), half real,
	// half fake; each is degraded once, at random.
	Samples int
	// Steps of Adam (3000), of BatchSize samples (64). Negative: none, so
	// that the result is From's weights as they are, measured on the
	// validation split.
	Steps     int
	BatchSize int
	// LearningRate at the start (1e-3); it falls along a cosine to a tenth
	// of that by the last step.
	LearningRate float64
	// Seed makes the split, the initial weights and every sample repeatable (1).
	Seed uint64
	// ValidationShare of the groups is held out (0.1).
	ValidationShare float64
	// FakeCropShare is the share of fakes taken from the set's fake crops
	// rather than made by self-blending, when it has any (0.3).
	FakeCropShare float64
	// EvalEvery steps the validation AUC is measured (500).
	EvalEvery int
	// SeamWeight weighs the patch loss against the frame loss (1).
	SeamWeight float64
	// Regions limits the self-blends to these regions (default: all, drawn
	// by regionWeights).
	Regions []Region
	// Clean skips Degrade (the samples are the centre windows as they
	// are) and Strong makes every self-blend clearly visible (SelfBlend):
	// for small experiments and tests, not for a shipped model.
	Clean, Strong bool
	// From, when set, are the weights training starts from (a parent
	// version's, read with nn.ReadONNX) instead of random ones: the head is
	// fine-tuned. Config must be the architecture they were trained with.
	From map[string]nn.Tensor
	// TunedStart are the starting weights of the backbone blocks
	// Config.Tune trains (facecnn.TunedWeights of the backbone); needed
	// when Config.Tune > 0 and From is not set.
	TunedStart map[string]nn.Tensor
	// Progress, when set, is called after every step; Validation is set
	// on the steps it was measured. Stage says what runs ("samples",
	// "train").
	Progress func(Progress)
}

func (o Options) withDefaults() Options {
	o.Config = o.Config.WithDefaults()
	if o.Samples <= 0 {
		o.Samples = 16000
	}
	if o.Steps == 0 {
		o.Steps = 3000
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
		o.ValidationShare = 0.1
	}
	if o.FakeCropShare <= 0 {
		o.FakeCropShare = 0.3
	}
	if o.EvalEvery <= 0 {
		o.EvalEvery = 500
	}
	if o.SeamWeight <= 0 {
		o.SeamWeight = 1
	}
	return o
}

// Progress is reported as samples are made and after each step.
type Progress struct {
	Stage       string
	Step, Total int
	Loss        float64
	StepsPerSec float64
	Validation  *Validation
}

// Validation are the figures on the held-out groups: the AUC of real
// crops against self-blends of them, per region and overall (both as they
// are and degraded like the training samples), and against each method of
// held-out fake crops.
type Validation struct {
	Reals             int                `json:"reals"`
	SelfBlend         float64            `json:"auc_self_blend"`
	SelfBlendDegraded float64            `json:"auc_self_blend_degraded"`
	ByRegion          map[string]float64 `json:"auc_self_blend_by_region"`
	FakeCrops         map[string]float64 `json:"auc_fake_crops,omitempty"`
	FakeCounts        map[string]int     `json:"fake_crops,omitempty"`
}

// Result is a trained head.
type Result struct {
	Config     facecnn.Config
	Weights    map[string]nn.Tensor
	Steps      int
	Loss       float64 // mean training loss over the last 100 steps
	Validation Validation
	// Before are the figures of From's weights on the same validation
	// samples, measured before the first step (nil without From): how much
	// fine-tuning changed them.
	Before  *Validation
	Train   SplitCounts
	Seconds float64
}

// SplitCounts says how many crops, groups and samples trained.
type SplitCounts struct {
	Reals, Fakes, Groups, Samples int
}

// ErrTooFewCrops is returned when the split leaves a side without reals.
var ErrTooFewCrops = errors.New("trainer: too few real crops")

// samples are backbone features with their labels.
type samples struct {
	feat       []float32 // N × H×W×C
	lab        []float32 // N
	seam       []float32 // N × G²
	seamWeight []float32 // N
	tag        []string  // what each sample is (for validation groups)
	size       int       // H×W×C
}

func (s *samples) len() int { return len(s.lab) }

// Train trains a head on set over bb's features. backend is GoMLX's (the
// ONNX Runtime one is much faster than pure Go here).
func Train(ctx context.Context, backend compute.Backend, bb *facecnn.Backbone, set *Set, opts Options) (res *Result, err error) {
	opts = opts.withDefaults()
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Steps < 0 && opts.From == nil {
		return nil, errors.New("trainer: no steps and no starting weights")
	}
	cut, _ := opts.Config.FeatureCut()
	if opts.Config.Tune > 0 && opts.From == nil && opts.TunedStart == nil {
		return nil, errors.New("trainer: tuned backbone blocks need their starting weights (facecnn.TunedWeights)")
	}
	var trReal, trFake, vaReal, vaFake []Crop
	groups := map[string]bool{}
	// A set of few groups may see none drawn for validation: then the real
	// group of the lowest draw is, so that a small set (a retraining round
	// on a few clips) still gets figures instead of failing.
	realGroups := map[string]bool{}
	anyHeld := false
	for _, c := range set.Crops {
		if !c.Fake {
			realGroups[c.Group] = true
			anyHeld = anyHeld || heldOut(c.Group, opts.Seed, opts.ValidationShare)
		}
	}
	forced := ""
	if !anyHeld && len(realGroups) >= 3 {
		best := uint64(math.MaxUint64)
		for g := range realGroups {
			if d := groupDraw(g, opts.Seed); d < best || d == best && g < forced {
				best, forced = d, g
			}
		}
	}
	for _, c := range set.Crops {
		val := heldOut(c.Group, opts.Seed, opts.ValidationShare) || c.Group == forced
		switch {
		case val && c.Fake:
			vaFake = append(vaFake, c)
		case val:
			vaReal = append(vaReal, c)
		case c.Fake:
			trFake = append(trFake, c)
		default:
			trReal = append(trReal, c)
		}
		if !val {
			groups[c.Group] = true
		}
	}
	if len(trReal) < 2 || len(vaReal) < 1 {
		return nil, fmt.Errorf("%w: %d for training, %d for validation", ErrTooFewCrops, len(trReal), len(vaReal))
	}
	start := time.Now()
	report := func(stage string, done, total int) {
		if opts.Progress != nil {
			opts.Progress(Progress{Stage: stage, Step: done, Total: total})
		}
	}
	degrade := func(k int) *rand.Rand { return rand.New(rand.NewPCG(opts.Seed^0xde9, uint64(k))) }
	if opts.Clean {
		degrade = nil
	}
	// Training samples: even indices real, odd fake.
	trainSet, err := makeSamples(ctx, bb, cut, opts.Samples, func(k int) (img, *mask, bool, string) {
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(k)))
		if k%2 == 0 {
			return fromBytes(trReal[rng.IntN(len(trReal))].Pixels, facecnn.Canvas, facecnn.Canvas), nil, true, "real"
		}
		if len(trFake) > 0 && rng.Float64() < opts.FakeCropShare {
			c := trFake[rng.IntN(len(trFake))]
			return fromBytes(c.Pixels, facecnn.Canvas, facecnn.Canvas), nil, false, c.Method
		}
		r := drawRegion(rng)
		if len(opts.Regions) > 0 {
			r = opts.Regions[rng.IntN(len(opts.Regions))]
		}
		b, m := SelfBlend(rng, trReal[rng.IntN(len(trReal))], r, opts.Strong)
		return b, &m, true, regionNames[r]
	}, degrade, report)
	if err != nil {
		return nil, err
	}
	val, err := validationSamples(ctx, bb, cut, vaReal, vaFake, opts.Seed, opts.Strong)
	if err != nil {
		return nil, err
	}

	defer nn.RecoverErr(&err)
	store := mlmodel.NewStore()
	store.SetParam(mlmodel.ParamInitialSeed, int64(opts.Seed))
	plan := opts.Config.Plan()
	switch {
	case opts.From != nil:
		if err := nn.SetWeights(store, plan, opts.From); err != nil {
			return nil, fmt.Errorf("trainer: the starting weights: %w", err)
		}
	case opts.Config.Tune > 0:
		// The tuned blocks start as the backbone's; the head at random.
		if err := nn.SetWeights(store, plan[:5*opts.Config.Tune], opts.TunedStart); err != nil {
			return nil, fmt.Errorf("trainer: the tuned blocks' starting weights: %w", err)
		}
	}
	g := facecnn.GridSize * facecnn.GridSize
	modelFn := func(scope *mlmodel.Scope, _ any, inputs []*graph.Node) []*graph.Node {
		patches := nn.Apply(scope, plan, inputs[0])
		return []*graph.Node{frameLogit(patches), graph.Reshape(patches, -1, g)}
	}
	// The loss is the frame's binary cross-entropy plus, for samples whose
	// seam is known (self-blends, and reals, which have none), that of
	// every patch against its seam target: the dense signal tells the
	// network where the evidence is, which a frame label alone does not.
	lossFn := func(labels, preds []*graph.Node) *graph.Node {
		frame := graph.ReduceAllMean(nn.BCE(preds[0], labels[0]))
		patch := graph.ReduceSum(nn.BCE(preds[1], labels[1]), 1) // [N]
		patch = graph.DivScalar(graph.Mul(patch, labels[2]), float64(g))
		return graph.Add(frame, graph.MulScalar(graph.ReduceAllMean(patch), opts.SeamWeight))
	}
	lr := opts.LearningRate
	trainer := train.NewTrainer(backend, store, modelFn, lossFn, optimizer.Adam().LearningRate(lr).Done(), nil, nil)
	predict, err := mlmodel.NewExec(backend, store, func(scope *mlmodel.Scope, x *graph.Node) *graph.Node {
		return frameLogit(nn.Apply(scope, plan, x))
	})
	if err != nil {
		return nil, err
	}
	defer predict.Finalize()

	res = &Result{Config: opts.Config, Train: SplitCounts{Reals: len(trReal), Fakes: len(trFake), Groups: len(groups), Samples: trainSet.len()}}
	if opts.From != nil {
		v, err := val.measure(predict, cut)
		if err != nil {
			return nil, err
		}
		res.Before, res.Validation = &v, v
	}
	bs := opts.BatchSize
	var recent []float64
	trainStart := time.Now()
	order := rand.New(rand.NewPCG(opts.Seed, 0xba7c4))
	perm := order.Perm(trainSet.len())
	next := 0
	for step := 1; step <= opts.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The learning rate follows a cosine from lr to lr/10. Adam keeps it
		// in a variable, made at the first step.
		if step > 1 {
			if err := nn.SetLearningRate(store, nn.CosineRate(lr, step, opts.Steps)); err != nil {
				return nil, err
			}
		}
		size := trainSet.size
		in, lab, seam, sw := make([]float32, bs*size), make([]float32, bs), make([]float32, bs*g), make([]float32, bs)
		for i := range bs {
			if next == len(perm) {
				perm, next = order.Perm(trainSet.len()), 0
			}
			k := perm[next]
			next++
			copy(in[i*size:(i+1)*size], trainSet.feat[k*size:])
			lab[i], sw[i] = trainSet.lab[k], trainSet.seamWeight[k]
			copy(seam[i*g:(i+1)*g], trainSet.seam[k*g:])
		}
		metrics, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, bs, cut.H, cut.W, cut.C)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(lab, bs), tensors.FromFlatDataAndDimensions(seam, bs, g),
				tensors.FromFlatDataAndDimensions(sw, bs)}})
		if err != nil {
			return nil, err
		}
		loss, err := nn.Scalar(metrics[0])
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
		recent = append(recent, loss)
		if len(recent) > 100 {
			recent = recent[1:]
		}
		p := Progress{Stage: "train", Step: step, Total: opts.Steps, Loss: loss, StepsPerSec: float64(step) / time.Since(trainStart).Seconds()}
		if step%opts.EvalEvery == 0 || step == opts.Steps {
			v, err := val.measure(predict, cut)
			if err != nil {
				return nil, err
			}
			res.Validation = v
			p.Validation = &v
		}
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	for _, l := range recent {
		res.Loss += l / float64(len(recent))
	}
	res.Steps, res.Seconds = max(0, opts.Steps), time.Since(start).Seconds()
	res.Weights, err = nn.Weights(store, plan)
	return res, err
}

// makeSamples makes n samples with draw(k) (the image, its blend map,
// whether the patch targets are known, and a tag: "real" for a real face,
// else what made the fake), degrades each with
// degradeRNG(k) (nil: the centre window as it is), and runs the backbone
// on them.
func makeSamples(ctx context.Context, bb *facecnn.Backbone, cut facecnn.Cut, n int, draw func(k int) (img, *mask, bool, string),
	degradeRNG func(k int) *rand.Rand, report func(string, int, int)) (*samples, error) {
	g := facecnn.GridSize * facecnn.GridSize
	size := cut.H * cut.W * cut.C
	s := &samples{feat: make([]float32, n*size), lab: make([]float32, n), seam: make([]float32, n*g), seamWeight: make([]float32, n),
		tag: make([]string, n), size: size}
	// Samples are drawn on two goroutines (the drawing, in Go, costs more
	// than the backbone); each depends only on its index, and they go to
	// the backbone in index order, so every batch holds the same samples
	// from run to run: ONNX Runtime's float kernels may round a sample's
	// features differently in batches of another size or make-up, and
	// training from the same seed must give the same network.
	type made struct {
		k     int
		pix   []float32
		seam  [facecnn.GridSize * facecnn.GridSize]float32
		known bool
		tag   string
	}
	jobs := make(chan int)
	results := make(chan made, 2*bb.Batch())
	stop := make(chan struct{})
	defer close(stop)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for k := range jobs {
				im, m, known, tag := draw(k)
				var win img
				var seam [facecnn.GridSize * facecnn.GridSize]float32
				if degradeRNG == nil {
					win, seam = centre(im), seamTargets(m, false, facecnn.Margin, facecnn.Margin)
				} else {
					win, seam = Degrade(degradeRNG(k), im, m, 6)
				}
				select {
				case results <- made{k, win.Pix, seam, known, tag}:
				case <-stop:
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for k := 0; k < n; k++ {
			select {
			case jobs <- k:
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	pending := make([]made, 0, bb.Batch())
	flush := func() error {
		faces := make([][]float32, len(pending))
		for i, m := range pending {
			faces[i] = m.pix
		}
		out := make([]float32, len(pending)*size)
		if err := bb.Features(faces, out); err != nil {
			return err
		}
		for i, m := range pending {
			copy(s.feat[m.k*size:(m.k+1)*size], out[i*size:])
			copy(s.seam[m.k*g:(m.k+1)*g], m.seam[:])
			if m.tag != "real" {
				s.lab[m.k] = 1
			}
			if m.known {
				s.seamWeight[m.k] = 1
			}
			s.tag[m.k] = m.tag
		}
		pending = pending[:0]
		return nil
	}
	done, next := 0, 0
	early := map[int]made{} // drawn before samples of lower index
	for m := range results {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		early[m.k] = m
		for {
			m, ok := early[next]
			if !ok {
				break
			}
			delete(early, next)
			next++
			pending = append(pending, m)
			if len(pending) == bb.Batch() {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		done++
		if done%256 == 0 && report != nil {
			report("samples", done, n)
		}
	}
	if len(pending) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return s, ctx.Err()
}

var regionNames = [3]string{"whole_face", "inner_face", "lower_face"}

// validation holds the held-out samples: each real crop as it is and one
// self-blend of it per region, all as they are (centre window) and
// degraded once; and the held-out fake crops.
type validation struct {
	plain, degraded *samples
	fakes           *samples
	reals           int
}

func validationSamples(ctx context.Context, bb *facecnn.Backbone, cut facecnn.Cut, reals, fakes []Crop, seed uint64, strong bool) (*validation, error) {
	draw := func(k int) (img, *mask, bool, string) {
		c := reals[k/4]
		if k%4 == 0 {
			return fromBytes(c.Pixels, facecnn.Canvas, facecnn.Canvas), nil, true, "real"
		}
		r := Region(k%4 - 1)
		b, m := SelfBlend(rand.New(rand.NewPCG(seed^0x5eed, uint64(k))), c, r, strong)
		return b, &m, true, regionNames[r]
	}
	v := &validation{reals: len(reals)}
	var err error
	if v.plain, err = makeSamples(ctx, bb, cut, 4*len(reals), draw, nil, nil); err != nil {
		return nil, err
	}
	if v.degraded, err = makeSamples(ctx, bb, cut, 4*len(reals), draw, func(k int) *rand.Rand { return rand.New(rand.NewPCG(seed^0xd, uint64(k))) }, nil); err != nil {
		return nil, err
	}
	if len(fakes) > 0 {
		v.fakes, err = makeSamples(ctx, bb, cut, len(fakes), func(k int) (img, *mask, bool, string) {
			return fromBytes(fakes[k].Pixels, facecnn.Canvas, facecnn.Canvas), nil, false, fakes[k].Method
		}, nil, nil)
	}
	return v, err
}

func (v *validation) measure(predict *mlmodel.Exec, cut facecnn.Cut) (Validation, error) {
	out := Validation{Reals: v.reals, ByRegion: map[string]float64{}}
	split := func(s *samples) (map[string][]float64, error) {
		logits, err := predictLogits(predict, s, cut)
		if err != nil {
			return nil, err
		}
		by := map[string][]float64{}
		for i, z := range logits {
			by[s.tag[i]] = append(by[s.tag[i]], z)
		}
		return by, nil
	}
	plain, err := split(v.plain)
	if err != nil {
		return out, err
	}
	var all []float64
	for _, r := range regionNames {
		out.ByRegion[r] = eval.AUC(plain[r], plain["real"])
		all = append(all, plain[r]...)
	}
	out.SelfBlend = eval.AUC(all, plain["real"])
	deg, err := split(v.degraded)
	if err != nil {
		return out, err
	}
	all = all[:0]
	for _, r := range regionNames {
		all = append(all, deg[r]...)
	}
	out.SelfBlendDegraded = eval.AUC(all, deg["real"])
	if v.fakes != nil {
		fk, err := split(v.fakes)
		if err != nil {
			return out, err
		}
		out.FakeCrops, out.FakeCounts = map[string]float64{}, map[string]int{}
		for m, z := range fk {
			out.FakeCrops[m], out.FakeCounts[m] = eval.AUC(z, plain["real"]), len(z)
		}
	}
	return out, nil
}

// predictLogits runs the head on the samples' features in batches of 128.
func predictLogits(predict *mlmodel.Exec, s *samples, cut facecnn.Cut) ([]float64, error) {
	var out []float64
	for i := 0; i < s.len(); i += 128 {
		j := min(i+128, s.len())
		t, err := predict.Call1(tensors.FromFlatDataAndDimensions(s.feat[i*s.size:j*s.size], j-i, cut.H, cut.W, cut.C))
		if err != nil {
			return nil, err
		}
		v, err := tensors.CopyFlatData[float32](t)
		t.FinalizeAll()
		if err != nil {
			return nil, err
		}
		for _, x := range v {
			out = append(out, float64(x))
		}
	}
	return out, nil
}

// frameLogit is the frame's score from the patch map [N,G,G,1]: the log of
// the mean of the patches' exp-logits, a soft maximum, so that a seam in a
// few patches can make the frame fake while clean patches stay negative
// (facecnn.FrameLogit computes the same at inference).
func frameLogit(patches *graph.Node) *graph.Node {
	top := graph.StopGradient(graph.ReduceMax(patches, 1, 2, 3)) // [N]
	shifted := graph.Sub(patches, graph.Reshape(top, -1, 1, 1, 1))
	return graph.Add(top, graph.Log(graph.ReduceMean(graph.Exp(shifted), 1, 2, 3)))
}

// heldOut reports whether group is in the validation share, by a hash of
// the seed and the group's name: repeatable, and independent of the order
// and number of crops.
func heldOut(group string, seed uint64, share float64) bool {
	return float64(groupDraw(group, seed)%10000)/10000 < share
}

func groupDraw(group string, seed uint64) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, group)
	return h.Sum64()
}
