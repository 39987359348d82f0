package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignGolden(t *testing.T) {
	// Computed independently: printf '{"a":1}' | openssl dgst -sha256 -hmac whsec_test
	const want = "sha256=51426af50a41dd7ff2cd3f116594734766d4018d15d6fb07169aee5d2959adf5"
	got := Sign("whsec_test", []byte(`{"a":1}`))
	if !Verify("whsec_test", []byte(`{"a":1}`), got) {
		t.Fatal("Verify rejects Sign's own signature")
	}
	if Verify("whsec_other", []byte(`{"a":1}`), got) || Verify("whsec_test", []byte(`{"a":2}`), got) {
		t.Fatal("Verify accepts a wrong secret or body")
	}
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestCheck(t *testing.T) {
	open := New(Options{})
	listed := New(Options{AllowedHosts: []string{"127.0.0.1", "*.example.org"}})
	for _, tc := range []struct {
		c    *Client
		url  string
		want bool
	}{
		{open, "https://hooks.example.com/x", true},
		{open, "http://93.184.216.34/x", true},
		{open, "ftp://example.com/x", false},
		{open, "file:///etc/passwd", false},
		{open, "https:///nohost", false},
		{open, "http://user:pw@example.com/", false},
		{open, "http://127.0.0.1:9/x", false},
		{open, "http://10.0.0.8/x", false},
		{open, "http://[::1]/x", false},
		{open, "http://169.254.169.254/latest/meta-data", false},
		{open, "http://100.100.100.200/latest/meta-data", false}, // carrier-grade NAT range
		{open, "http://[64:ff9b::a00:1]/x", false},               // NAT64 form of 10.0.0.1
		{open, "http://[2002:a00:1::]/x", false},                 // 6to4 form of 10.0.0.1
		{open, "::not a url", false},
		{listed, "http://127.0.0.1:8000/hook", true},
		{listed, "https://a.example.org/hook", true},
		{listed, "https://example.com/hook", false},
		{listed, "https://evilexample.org/hook", false},
	} {
		err := tc.c.Check(tc.url)
		if (err == nil) != tc.want {
			t.Errorf("Check(%q) = %v, want allowed=%v", tc.url, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrURL) {
			t.Errorf("Check(%q) error %v is not ErrURL", tc.url, err)
		}
	}
}

func TestDeliver(t *testing.T) {
	type received struct {
		body []byte
		sig  string
	}
	got := make(chan received, 4)
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{b, r.Header.Get(SignatureHeader)}
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := New(Options{AllowedHosts: []string{u.Hostname()}, Timeout: 5 * time.Second})
	ctx := context.Background()

	body := []byte(`{"job":"x"}`)
	if d := c.Deliver(ctx, srv.URL+"/hook", "whsec_s", Message{Event: "analysis.completed", ID: "x", Attempt: 1, Body: body}); !d.OK() || d.Code != 204 {
		t.Fatalf("Deliver = %+v, want 204", d)
	}
	r := <-got
	if string(r.body) != string(body) || !Verify("whsec_s", r.body, r.sig) {
		t.Errorf("receiver got %q signed %q", r.body, r.sig)
	}

	status = http.StatusServiceUnavailable
	if d := c.Deliver(ctx, srv.URL+"/hook", "whsec_s", Message{Event: "analysis.completed", ID: "x", Attempt: 2, Body: body}); d.OK() || d.Code != 503 {
		t.Errorf("Deliver to a failing receiver = %+v, want 503 not OK", d)
	}
	<-got
	if d := c.Deliver(ctx, srv.URL+"/redirect", "whsec_s", Message{Event: "analysis.completed", ID: "x", Attempt: 3, Body: body}); d.OK() || d.Code != http.StatusFound {
		t.Errorf("a redirect was followed or counted as delivered: %+v", d)
	}
	<-got

	// Without an allow-list, a name that resolves to loopback is refused
	// at dial time: the receiver never sees the request.
	open := New(Options{})
	local := "http://localhost:" + u.Port() + "/hook"
	if d := open.Deliver(ctx, local, "whsec_s", Message{Event: "analysis.completed", ID: "x", Attempt: 4, Body: body}); d.OK() || !errors.Is(d.Err, ErrURL) {
		t.Errorf("Deliver to localhost without allow-list = %+v, want ErrURL", d)
	}
	select {
	case <-got:
		t.Error("the refused delivery reached the receiver")
	default:
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 30: 10 * time.Minute} {
		if got := Backoff(attempt); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

// Addresses that are not the public internet but that the filter let
// through (issue 15, finding 12): IPv4-compatible and IPv4-translated IPv6
// forms of private addresses, deprecated site-local IPv6, the rest of
// 0.0.0.0/8, and the documentation and benchmarking ranges.
func TestCheckRefusesSpecialRanges(t *testing.T) {
	open := New(Options{})
	for _, host := range []string{
		"[::10.0.0.1]", "[::127.0.0.1]", "[::169.254.169.254]", // ::/96, IPv4-compatible
		"[::ffff:0:10.0.0.1]", "[::ffff:0:7f00:1]", // ::ffff:0:0/96, IPv4-translated
		"[fec0::1]", "[feff::1]", // fec0::/10, site-local
		"0.1.2.3", "0.255.255.255", // 0.0.0.0/8 beyond 0.0.0.0
		"192.0.2.1", "198.51.100.7", "203.0.113.9", "[2001:db8::1]", "[3fff::1]", // documentation
		"[2001:2::1]", "[100::1]", "192.88.99.1", // benchmarking, discard-only, 6to4 relay
	} {
		err := open.Check("http://" + host + "/hook")
		if !errors.Is(err, ErrURL) {
			t.Errorf("Check(%s) = %v, want ErrURL", host, err)
		}
		ip := strings.Trim(host, "[]")
		if err := open.checkAddress("tcp", net.JoinHostPort(ip, "80"), nil); !errors.Is(err, ErrURL) {
			t.Errorf("dialling %s: %v, want ErrURL", ip, err)
		}
	}
	// Public addresses stay allowed, in every spelling.
	for _, host := range []string{"93.184.216.34", "[::ffff:93.184.216.34]", "[2606:2800:220:1:248:1893:25c8:1946]"} {
		if err := open.Check("http://" + host + "/hook"); err != nil {
			t.Errorf("Check(%s) = %v, want allowed", host, err)
		}
	}
}

// Retries are spread: each wait is within a fifth of the schedule's, and
// two services retrying together do not stay in step.
func TestJitteredBackoff(t *testing.T) {
	for _, attempt := range []int{1, 3, 30} {
		base := Backoff(attempt)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := JitteredBackoff(attempt)
			if d < base*4/5 || d > base*6/5 {
				t.Fatalf("JitteredBackoff(%d) = %v, outside %v ± 20%%", attempt, d, base)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("JitteredBackoff(%d) took %d values in 200 draws", attempt, len(seen))
		}
	}
}
