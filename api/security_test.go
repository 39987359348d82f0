package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
)

// Security regressions of issue 15: each test here failed on the code
// before its fix.

// ?wait=1e300 overflowed to a negative duration, which became a write
// deadline in the past: the client got no answer at all. Huge waits are
// clamped to the maximum; non-finite and negative ones are refused.
func TestWaitIsClampedAndValidated(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{MaxWait: 20 * time.Millisecond}, noRunner: true})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]

	var a Analysis
	s.expect(s.upload(s.admin, "?wait=1e300", "a.mpg", clip, nil), 202, &a)
	s.expect(s.do("GET", a.URL+"?wait=1e300", s.admin, "", nil), 200, nil)
	s.expect(s.upload(s.admin, "?wait=0.001", "a.mpg", clip, nil), 202, nil)

	for _, bad := range []string{"inf", "+Inf", "-Inf", "NaN", "-1", "1e400", "soon"} {
		b := s.expect(s.upload(s.admin, "?wait="+bad, "a.mpg", clip, nil), 400, nil)
		if errorCode(t, b) != codeBadRequest {
			t.Errorf("POST wait=%s: %s", bad, b)
		}
		b = s.expect(s.do("GET", a.URL+"?wait="+bad, s.admin, "", nil), 400, nil)
		if errorCode(t, b) != codeBadRequest {
			t.Errorf("GET wait=%s: %s", bad, b)
		}
	}
}

// Requests with invented methods each added a time series to the request
// metrics: a few thousand with long methods exhausted memory. Every label
// is now bounded: the method to a fixed set, the route to a template.
func TestMetricLabelsAreBounded(t *testing.T) {
	s := startService(t, serviceOptions{noRunner: true})
	for i := range 20 {
		method := "INVENTED" + strings.Repeat("X", 1000) + string(rune('A'+i))
		s.expect(s.do(method, "/v1/analyses", s.admin, "", nil), 405, nil)
		s.expect(s.do(method, "/no/such/route/"+strings.Repeat("y", i), "", "", nil), 404, nil)
	}
	s.expect(s.do("GET", "/v1/analyses/an_000000000000000000000000", s.admin, "", nil), 404, nil)

	resp := s.do("GET", "/metrics", "", "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	metrics := string(body)
	if strings.Contains(metrics, "INVENTED") || strings.Contains(metrics, "yyy") {
		t.Errorf("a client-chosen method or path became a label")
	}
	for _, want := range []string{
		`trueframe_http_requests_total{code="405",method="other",route="unmatched"} 20`,
		`trueframe_http_requests_total{code="404",method="other",route="unmatched"} 20`,
		`trueframe_http_requests_total{code="404",method="GET",route="/v1/analyses/:id"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if len(metrics) > 200<<10 {
		t.Errorf("the metrics page is %d bytes", len(metrics))
	}
}

// failingGenerator fails every job with a message of its own.
type failingGenerator struct{}

func (failingGenerator) Generate(context.Context, store.Job, func(float64)) (json.RawMessage, error) {
	return nil, &scan.AnalysisError{Code: "generator_failed", Message: "training diverged at step 12"}
}

// A generator job has no upload path: replacing the (empty) path by the
// job's name in its error garbled every message ("trainetrainxtrain…").
func TestGeneratorErrorMessageIsIntact(t *testing.T) {
	s := startService(t, serviceOptions{generator: failingGenerator{}})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]
	ct, body := generatorUpload(t, map[string]string{"type": "train"}, map[string][]byte{"a": clip, "b": clip})
	var g GeneratorJob
	s.expect(s.do("POST", "/v1/generator/jobs", s.admin, ct, body), 202, &g)
	g = waitGenerator(t, s, g.ID)
	if g.Status != store.Failed || g.Error == nil || g.Error.Code != "generator_failed" ||
		g.Error.Message != "training diverged at step 12" {
		t.Fatalf("failed job: %s %+v", g.Status, g.Error)
	}
}

func waitGenerator(t *testing.T, s *service, id string) GeneratorJob {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var g GeneratorJob
		s.expect(s.do("GET", "/v1/generator/jobs/"+id, s.admin, "", nil), 200, &g)
		if g.Status == store.Done || g.Status == store.Failed {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("generator job %s still %s", id, g.Status)
		}
	}
}

// A generator input named with 255 bytes could not be moved into the job
// (its stored name gains a prefix); the failed move was ignored, leaving
// an orphaned upload and a job without its input.
func TestGeneratorInputWithLongName(t *testing.T) {
	s := startService(t, serviceOptions{generator: recordingGenerator{t}})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("type", "train")
	for _, field := range []string{"a", "b"} {
		fw, _ := mw.CreateFormFile(field, strings.Repeat("é", 124)+"long.mpg") // 256 bytes
		fw.Write(clip)
	}
	mw.Close()
	var g GeneratorJob
	s.expect(s.do("POST", "/v1/generator/jobs", s.admin, mw.FormDataContentType(), &buf), 202, &g)
	if g = waitGenerator(t, s, g.ID); g.Status != store.Done {
		t.Errorf("job with long input names: %s %+v", g.Status, g.Error)
	}
	job, err := s.store.Job(t.Context(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var p GeneratorParams
	json.Unmarshal(job.Params, &p)
	for _, f := range append(p.Inputs["a"], p.Inputs["b"]...) {
		if st, err := os.Stat(f); err != nil || st.Size() != int64(len(clip)) || !strings.HasSuffix(f, ".mpg") {
			t.Errorf("input %s: %v", f, err)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp")); len(left) != 0 {
		t.Errorf("%d uploads left behind in tmp", len(left))
	}
}
