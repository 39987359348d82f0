package dataset

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/generator/onnxexport"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/landmark"
)

// writeDecoder writes a stand-in decoder for size×size faces: a perfect one
// (the input unchanged: "this model's own identity") or one that draws
// every face black ("someone else").
func writeDecoder(t *testing.T, path string, size int64, perfect bool) {
	t.Helper()
	shape := func(name string) *onnx.ValueInfoProto {
		var dims []*onnx.TensorShapeProto_Dimension
		for _, d := range []int64{1, size, size, 3} {
			dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: dims}}}}}
	}
	g := &onnx.GraphProto{Name: "decoder", Input: []*onnx.ValueInfoProto{shape(onnxexport.InputName)},
		Output: []*onnx.ValueInfoProto{shape(onnxexport.OutputName)}}
	if perfect {
		g.Node = []*onnx.NodeProto{{OpType: "Identity", Input: []string{onnxexport.InputName}, Output: []string{onnxexport.OutputName}}}
	} else {
		g.Initializer = []*onnx.TensorProto{{Name: "zero", Dims: []int64{1}, DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{0}}}
		g.Node = []*onnx.NodeProto{{OpType: "Mul", Input: []string{onnxexport.InputName, "zero"}, Output: []string{onnxexport.OutputName}}}
	}
	b, err := proto.Marshal(&onnx.ModelProto{IrVersion: 7, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 13}}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A clip goes to the decoder that reconstructs it worse: the clip "is" the
// identity whose decoder reproduces it, and becomes the other one.
func TestPickDecoderChoosesTheOtherIdentity(t *testing.T) {
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg")
	testutil.InitORT(t)
	models := filepath.Join(testutil.DepsDir(t), "models")
	det, err := face.New(face.Options{ModelDir: models})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	mesher, err := landmark.New(landmark.Options{ModelDir: models})
	if err != nil {
		t.Fatal(err)
	}
	defer mesher.Close()

	for _, tc := range []struct {
		perfect model.Identity // the decoder that reproduces the clip
		want    model.Identity
	}{{model.A, model.B}, {model.B, model.A}} {
		dir := t.TempDir()
		cfg := model.Config{Size: 64, Width: 4, Latent: 16}
		meta, _ := json.Marshal(model.Meta{ID: "stand-in", Config: cfg})
		if err := os.WriteFile(filepath.Join(dir, model.MetaFile), meta, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, id := range []model.Identity{model.A, model.B} {
			writeDecoder(t, decoderPath(dir, id), int64(cfg.Size), id == tc.perfect)
		}
		p, err := newDecoderPicker(dir)
		if err != nil {
			t.Fatal(err)
		}
		got, errs, err := p.choose(context.Background(), det, mesher, clip)
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("decoder %s reproduces the clip: errors A %.1f B %.1f, chose %s", tc.perfect, errs[0], errs[1], got)
		if got != tc.want {
			t.Errorf("decoder %s reproduces the clip, chose %s, want %s", tc.perfect, got, tc.want)
		}
		if e := errs[tc.perfect]; !(e < 1) || !(errs[tc.want] > 40) {
			t.Errorf("reconstruction errors %v: want ~0 for %s and large for %s", errs, tc.perfect, tc.want)
		}
	}

	// A model with decoder B only keeps the old behaviour; with none it is
	// refused.
	dir := t.TempDir()
	meta, _ := json.Marshal(model.Meta{ID: "stand-in", Config: model.Config{Size: 64, Width: 4, Latent: 16}})
	os.WriteFile(filepath.Join(dir, model.MetaFile), meta, 0o644)
	if _, err := newDecoderPicker(dir); err == nil {
		t.Error("a model without decoders was accepted")
	}
	writeDecoder(t, decoderPath(dir, model.B), 64, false)
	p, err := newDecoderPicker(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, errs, err := p.choose(context.Background(), det, mesher, clip); err != nil || got != model.B || !math.IsNaN(errs[0]) {
		t.Errorf("decoder B only: %s %v %v", got, errs, err)
	}
}
