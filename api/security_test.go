package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
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
