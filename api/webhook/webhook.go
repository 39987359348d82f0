// Package webhook delivers signed job notifications to callback URLs.
//
// Each delivery is an HTTP POST of a JSON body with these headers:
//
//	Content-Type: application/json
//	X-Trueframe-Event: analysis.completed or analysis.failed
//	X-Trueframe-Delivery: <id>, the same on every attempt (receivers deduplicate by it)
//	X-Trueframe-Attempt: 1, 2, …
//	X-Trueframe-Signature: sha256=<hex HMAC-SHA256 of the exact body under the key's webhook secret>
//
// The body carries its own "sent_at" time, so a receiver that checks the
// signature can also refuse stale replays. Any 2xx answer counts as
// delivered; anything else is retried with exponential backoff and
// jitter.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SignatureHeader carries the body's signature.
const SignatureHeader = "X-Trueframe-Signature"

// Sign returns the signature header value of body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is body's signature under secret, in
// constant time. Receivers can use it.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// ErrURL is returned for a callback URL the service will not call.
var ErrURL = errors.New("callback URL not allowed")

// Options configure a Client. The zero value allows any public host.
type Options struct {
	// AllowedHosts, when not empty, is the only hosts callbacks may go to:
	// exact names or IP addresses, or "*.example.org" for subdomains. A
	// listed host may resolve to a private or loopback address; otherwise
	// such addresses are refused, so that a caller cannot make the service
	// reach its own network.
	AllowedHosts []string
	Timeout      time.Duration // per attempt; default 10 s
}

// Client validates callback URLs and delivers to them.
type Client struct {
	opts Options
	http *http.Client
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	c := &Client{opts: opts}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: c.checkAddress}
	c.http = &http.Client{
		Timeout: opts.Timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: opts.Timeout,
			MaxIdleConns:          16,
			IdleConnTimeout:       30 * time.Second,
			// A proxy would hide the address actually dialled from checkAddress.
			Proxy: nil,
		},
		// A redirect could lead anywhere: deliveries do not follow them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Check validates a callback URL when a job is submitted: http or https,
// a host, and an allowed one.
func (c *Client) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme must be http or https", ErrURL)
	}
	if u.Hostname() == "" || u.User != nil {
		return fmt.Errorf("%w: it needs a host and no user info", ErrURL)
	}
	if len(c.opts.AllowedHosts) > 0 && !c.listed(u.Hostname()) {
		return fmt.Errorf("%w: host %q is not in the allowed list", ErrURL, u.Hostname())
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !c.listed(u.Hostname()) && !public(ip) {
		return fmt.Errorf("%w: %s is not a public address", ErrURL, ip)
	}
	return nil
}

func (c *Client) listed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range c.opts.AllowedHosts {
		h = strings.ToLower(h)
		if h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
			return true
		}
	}
	return false
}

// checkAddress runs for every connection, after DNS resolution: a public
// name that resolves to a private address (DNS rebinding) is refused here.
func (c *Client) checkAddress(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if public(ip) || len(c.opts.AllowedHosts) > 0 {
		// With an allow-list the operator chose the hosts, private ones included.
		return nil
	}
	return fmt.Errorf("%w: %s is not a public address", ErrURL, ip)
}

// nonPublic are ranges that IsGlobalUnicast accepts but that are not the
// public internet (IANA's special-purpose registries): shared address
// space (carrier NAT, where some clouds put metadata services),
// benchmarking, documentation, reserved, the rest of "this network", and
// the IPv6 forms that embed an IPv4 address (IPv4-compatible,
// IPv4-translated, NAT64, 6to4, Teredo), which could reach a private one.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"; 0.x.y.z may reach the host itself
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated): ::a.b.c.d
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated: ::ffff:0:a.b.c.d
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/32"),       // Teredo
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID (deprecated)
	netip.MustParsePrefix("2001:20::/28"),    // ORCHIDv2
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, still routed privately)
}

func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Delivery is one attempt's outcome.
type Delivery struct {
	Code int   // HTTP status, 0 when no answer came
	Err  error // in full, for the service's log
	// refused: the URL was refused before anything was sent.
	refused bool
}

// OK reports a 2xx answer.
func (d Delivery) OK() bool { return d.Err == nil && d.Code >= 200 && d.Code < 300 }

// Summary describes a failed attempt for the job's owner: what the
// receiver answered, or only that it could not be reached. How it could
// not be reached (the name did not resolve, it resolved to a refused
// address, the port was closed, the connection timed out) and the address
// tried are left out: they would let a key probe the names and ports of
// the service's own network through its jobs' webhook status. Err, for
// the log, has the details.
func (d Delivery) Summary() string {
	switch {
	case d.OK():
		return ""
	case d.Code != 0:
		return fmt.Sprintf("the receiver answered %d %s", d.Code, http.StatusText(d.Code))
	case d.refused:
		return "the callback URL is not allowed"
	}
	return "the receiver could not be reached (no connection, or no answer in time)"
}

// Timeout is the limit of one delivery attempt.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// Message is one attempt of a delivery.
type Message struct {
	Event   string // e.g. analysis.completed
	ID      string // the delivery's id, the same on every attempt
	Attempt int    // 1-based
	Body    []byte
}

// Deliver POSTs the message to url, signed with secret.
func (c *Client) Deliver(ctx context.Context, rawURL, secret string, m Message) Delivery {
	if err := c.Check(rawURL); err != nil {
		return Delivery{Err: err, refused: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(m.Body))
	if err != nil {
		return Delivery{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trueframe-webhook/1")
	req.Header.Set("X-Trueframe-Event", m.Event)
	req.Header.Set("X-Trueframe-Delivery", m.ID)
	req.Header.Set("X-Trueframe-Attempt", strconv.Itoa(m.Attempt))
	req.Header.Set(SignatureHeader, Sign(secret, m.Body))
	resp, err := c.http.Do(req)
	if err != nil {
		return Delivery{Err: err}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	d := Delivery{Code: resp.StatusCode}
	if !d.OK() {
		d.Err = fmt.Errorf("receiver answered %s", resp.Status)
	}
	return d
}

// JitteredBackoff is Backoff moved at random by up to a fifth either way,
// so that deliveries that failed together (a receiver down for everyone)
// are not all retried at the same instant.
func JitteredBackoff(attempt int) time.Duration {
	d := Backoff(attempt)
	return d*4/5 + rand.N(d*2/5+1)
}

// Backoff is the wait before retry number attempt (1-based): 2 s, 4 s, 8 s
// … capped at 10 minutes.
func Backoff(attempt int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}
