package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/trueframe/trueframe/models/nn"
)

// MetaFile is the name of the JSON file with a model's Meta, beside the
// checkpoint files in a model directory.
const MetaFile = "trueframe-model.json"

// DecoderFile is the name of the ONNX file (generator/onnxexport) of the
// encoder and id's decoder in a model directory: what a swap runs.
func DecoderFile(id Identity) string { return "decoder_" + id.String() + ".onnx" }

// ErrNoModel is returned by Open for a directory without a trained model.
var ErrNoModel = errors.New("model: no trained model in directory")

// ErrBadFace is returned for a face image of the wrong length or with values
// that are not finite.
var ErrBadFace = errors.New("model: bad face image")

// Meta describes a trained model; it is written to MetaFile at every checkpoint.
type Meta struct {
	// ID names this model ("ae-<size>-<unix time of creation>").
	ID     string `json:"id"`
	Config Config `json:"config"`
	// Step is the number of training steps done.
	Step int64 `json:"step"`
	// Loss is the training loss of the last step.
	Loss float64 `json:"loss"`
	// Identities are free-form names of A and B (the face set directories).
	Identities [2]string `json:"identities"`
	Updated    time.Time `json:"updated"`
}

// Model is a face-swap autoencoder: its weights in a GoMLX store and the
// executables that run them. It is not safe for concurrent use.
// Callers must call Close.
type Model struct {
	backend compute.Backend
	store   *mlmodel.Store
	ckpt    *checkpoint.Handler // nil when there is no directory
	dir     string
	meta    Meta
	predict [2]*mlmodel.Exec
}

// ReadResumable returns the metadata of the training to resume in dir: its
// MetaFile when a checkpoint is there too. A MetaFile alone (a run that
// ended before its first checkpoint) or an empty directory is ErrNoModel,
// so a new run may start there with any configuration; a checkpoint alone
// is ErrOrphanCheckpoint. It looks at the files only and loads nothing.
func ReadResumable(dir string) (Meta, error) {
	ckpts, err := filepath.Glob(filepath.Join(dir, checkpointPrefix+"*"+checkpoint.JsonNameSuffix))
	if err != nil {
		return Meta{}, err
	}
	meta, err := ReadMeta(dir)
	switch {
	case err == nil && len(ckpts) == 0:
		return Meta{}, fmt.Errorf("%w: %s has no checkpoint", ErrNoModel, dir)
	case errors.Is(err, ErrNoModel) && len(ckpts) > 0:
		return Meta{}, fmt.Errorf("%w: %s", ErrOrphanCheckpoint, dir)
	}
	return meta, err
}

// checkpointPrefix starts the names of GoMLX's checkpoint files (the package
// does not export it).
const checkpointPrefix = "checkpoint-"

// Open loads the trained model in dir (written by a Trainer) on backend.
func Open(backend compute.Backend, dir string) (*Model, error) {
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	m, err := newModel(backend, dir, meta)
	if err != nil {
		return nil, err
	}
	if m.ckpt == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoModel, dir)
	}
	if ok, _ := m.ckpt.HasCheckpoints(); !ok {
		return nil, fmt.Errorf("%w: %s has no checkpoint", ErrNoModel, dir)
	}
	return m, nil
}

// ReadMeta reads the Meta of the model in dir.
func ReadMeta(dir string) (Meta, error) {
	var meta Meta
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return meta, fmt.Errorf("%w: %s", ErrNoModel, dir)
	}
	if err != nil {
		return meta, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("model: reading %s: %w", MetaFile, err)
	}
	if err := meta.Config.Validate(); err != nil {
		return meta, fmt.Errorf("model: %s: %w", MetaFile, err)
	}
	return meta, nil
}

func newModel(backend compute.Backend, dir string, meta Meta) (m *Model, err error) {
	defer recoverErr(&err)
	m = &Model{backend: backend, store: mlmodel.NewStore(), dir: dir, meta: meta}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		m.ckpt, err = checkpoint.Build(m.store).Dir(dir).Keep(2).Immediate().Done()
		if err != nil && setAsideNewestCheckpoint(dir) {
			// A crash while saving can leave the newest checkpoint half
			// written; the previous one (Keep(2)) is whole. Training then
			// redoes the steps since it rather than never resuming.
			m.store = mlmodel.NewStore()
			m.ckpt, err = checkpoint.Build(m.store).Dir(dir).Keep(2).Immediate().Done()
		}
		if err != nil {
			return nil, fmt.Errorf("model: checkpoint in %s: %w", dir, err)
		}
	}
	return m, nil
}

// Meta returns the model's description.
func (m *Model) Meta() Meta { return m.meta }

// Config returns the model's architecture.
func (m *Model) Config() Config { return m.meta.Config }

// Predict runs faces (each Size×Size×3 RGB in [0,1], HWC) through the encoder
// and the decoder of id, returning images of the same layout.
func (m *Model) Predict(id Identity, faces [][]float32) (out [][]float32, err error) {
	if len(faces) == 0 {
		return nil, nil
	}
	s := m.meta.Config.Size
	flat, err := stack(faces, s)
	if err != nil {
		return nil, err
	}
	defer recoverErr(&err)
	if m.predict[id] == nil {
		plan := m.meta.Config.Plan(id)
		m.predict[id], err = mlmodel.NewExec(m.backend, m.store, func(scope *mlmodel.Scope, x *graph.Node) *graph.Node {
			return apply(scope, plan, x)
		})
		if err != nil {
			return nil, err
		}
	}
	res, err := m.predict[id].Call1(tensors.FromFlatDataAndDimensions(flat, len(faces), s, s, 3))
	if err != nil {
		return nil, err
	}
	defer res.FinalizeAll()
	all, err := tensors.CopyFlatData[float32](res)
	if err != nil {
		return nil, err
	}
	n := s * s * 3
	out = make([][]float32, len(faces))
	for i := range out {
		out[i] = all[i*n : (i+1)*n : (i+1)*n]
	}
	return out, nil
}

// Tensor is a weight array in row-major order.
type Tensor = nn.Tensor

// Weights returns the weights of every layer of Plan(id), keyed by
// Layer.Name+"/weights" and Layer.Name+"/biases", in the layouts given by
// Layer.WeightDims. The model must have been trained or loaded (its variables
// exist).
func (m *Model) Weights(id Identity) (w map[string]Tensor, err error) {
	defer recoverErr(&err)
	byPath := map[string]*mlmodel.Variable{}
	for v := range m.store.IterVariables() {
		byPath[strings.TrimPrefix(v.Path(), mlmodel.ScopeSeparator)] = v
	}
	w = map[string]Tensor{}
	for _, l := range m.meta.Config.Plan(id) {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		for _, p := range []struct {
			name string
			dims []int
		}{{l.Name + "/weights", wd}, {l.Name + "/biases", bd}} {
			v, ok := byPath[p.name]
			if !ok {
				return nil, fmt.Errorf("%w: variable %s missing (model not trained?)", ErrNoModel, p.name)
			}
			t, err := v.Value()
			if err != nil {
				return nil, err
			}
			data, err := tensors.CopyFlatData[float32](t)
			if err != nil {
				return nil, err
			}
			if got := t.Shape().Dimensions; !equalInts(got, p.dims) {
				return nil, fmt.Errorf("model: variable %s has shape %v, want %v", p.name, got, p.dims)
			}
			w[p.name] = Tensor{Dims: p.dims, Data: data}
		}
	}
	return w, nil
}

// Close frees the model's executables and weights. It is safe to call more
// than once.
func (m *Model) Close() error {
	for i, e := range m.predict {
		if e != nil {
			e.Finalize()
			m.predict[i] = nil
		}
	}
	if m.store != nil {
		m.store.Finalize()
		m.store = nil
	}
	return nil
}

func (m *Model) writeMeta() error {
	if m.dir == "" {
		return nil
	}
	m.meta.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(m.meta, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(m.dir, MetaFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(m.dir, MetaFile))
}

// stack checks faces and concatenates them.
func stack(faces [][]float32, size int) ([]float32, error) {
	n := size * size * 3
	flat := make([]float32, 0, n*len(faces))
	for i, f := range faces {
		if len(f) != n {
			return nil, fmt.Errorf("%w: face %d has %d values, want %d (%d×%d×3)", ErrBadFace, i, len(f), n, size, size)
		}
		for _, v := range f {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: face %d has a value that is not finite", ErrBadFace, i)
			}
		}
		flat = append(flat, f...)
	}
	return flat, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// setAsideNewestCheckpoint renames the newest checkpoint's files with a
// ".broken" suffix, keeping them for inspection; it reports whether there
// was an older checkpoint to fall back to.
func setAsideNewestCheckpoint(dir string) bool {
	jsons, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.json"))
	if len(jsons) < 2 {
		return false
	}
	sort.Strings(jsons) // names carry a zero-padded sequence number
	newest := strings.TrimSuffix(jsons[len(jsons)-1], ".json")
	moved := false
	for _, ext := range []string{".json", ".bin"} {
		if os.Rename(newest+ext, newest+ext+".broken") == nil {
			moved = true
		}
	}
	return moved
}
