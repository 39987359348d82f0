package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load uploads a clip N times from Concurrency clients, spread over the
// API nodes, and follows every accepted job until it ends.
type Load struct {
	URLs        []string // API nodes: uploads go round-robin, to the next when one does not answer
	Key         string   // an API key with the analyst role
	Clip        []byte
	ClipName    string
	N           int
	Concurrency int
	Poll        time.Duration // between status reads of a job (default 250 ms)
	// Deadline bounds the wait for one job to end (default 10 minutes):
	// a job still unfinished then counts as lost.
	Deadline time.Duration
	// Progress, when set, is called whenever a job is accepted or ends.
	Progress func(accepted, ended int)

	down *downSet
}

// downSet remembers the nodes that did not answer, as a balancer's health
// check would, so that clients stop asking them for a while.
type downSet struct {
	mu    sync.Mutex
	until []time.Time
}

func (d *downSet) mark(i int) {
	d.mu.Lock()
	d.until[i] = time.Now().Add(5 * time.Second)
	d.mu.Unlock()
}

// pick returns the first node from the turn-th on that is not down, or the
// turn-th when all are.
func (d *downSet) pick(turn int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for k := range len(d.until) {
		if i := (turn + k) % len(d.until); now.After(d.until[i]) {
			return i
		}
	}
	return turn % len(d.until)
}

// Result is what a Load saw.
type Result struct {
	Accepted int
	Elapsed  time.Duration
	// States counts the ended jobs by state (done, failed).
	States map[string]int
	// Failures holds each failed job's error code.
	Failures map[string]string
	// Lost holds the accepted jobs that never ended or that no node knew.
	Lost []string
	// IDs are the accepted jobs.
	IDs []string
	// Statuses counts the HTTP status codes answered (0: no answer).
	Statuses    map[int]int
	GetLatency  []time.Duration
	PostLatency []time.Duration
}

// Ended is the number of accepted jobs that ended.
func (r Result) Ended() int { return r.States["done"] + r.States["failed"] }

// Run runs the load until every upload was tried and every accepted job
// ended or was given up.
func (l Load) Run(ctx context.Context) Result {
	if l.Poll <= 0 {
		l.Poll = 250 * time.Millisecond
	}
	if l.Deadline <= 0 {
		l.Deadline = 10 * time.Minute
	}
	res := Result{States: map[string]int{}, Failures: map[string]string{}, Statuses: map[int]int{}}
	l.down = &downSet{until: make([]time.Time, len(l.URLs))}
	var mu sync.Mutex
	var turn atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: l.Concurrency}, Timeout: 5 * time.Minute}
	progress := func() {
		if l.Progress != nil {
			l.Progress(res.Accepted, res.Ended())
		}
	}
	next := make(chan int)
	var clients sync.WaitGroup
	start := time.Now()
	for range l.Concurrency {
		clients.Go(func() {
			for range next {
				id := l.upload(ctx, client, int(turn.Add(1)), &mu, &res)
				if id == "" {
					continue
				}
				mu.Lock()
				res.Accepted++
				res.IDs = append(res.IDs, id)
				progress()
				mu.Unlock()
				state, code := l.follow(ctx, client, id, &mu, &res)
				mu.Lock()
				if state == "" {
					res.Lost = append(res.Lost, id)
				} else {
					res.States[state]++
					if state == "failed" {
						res.Failures[id] = code
					}
				}
				progress()
				mu.Unlock()
			}
		})
	}
	for i := range l.N {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	clients.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// upload posts the clip to one node after another, starting at the
// turn-th, until one accepts it; it returns the job id, "" when none did.
func (l Load) upload(ctx context.Context, c *http.Client, turn int, mu *sync.Mutex, res *Result) string {
	for try := range 2 * len(l.URLs) {
		i := l.down.pick(turn + try)
		t0 := time.Now()
		code, id, retryAfter := l.post(ctx, c, l.URLs[i])
		mu.Lock()
		res.PostLatency = append(res.PostLatency, time.Since(t0))
		res.Statuses[code]++
		mu.Unlock()
		switch {
		case code == http.StatusAccepted:
			return id
		case code == 0: // the node is gone: as a balancer would, try the next
			l.down.mark(i)
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			time.Sleep(retryAfter)
		default:
			return ""
		}
	}
	return ""
}

func (l Load) post(ctx context.Context, c *http.Client, url string) (int, string, time.Duration) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", l.ClipName)
	fw.Write(l.Clip)
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/analyses", &buf)
	req.Header.Set("Authorization", "Bearer "+l.Key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", 0
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.ID, time.Second
}

// follow reads the job from any node that answers until it ends; it
// returns its final state and error code, "" when it never ended.
func (l Load) follow(ctx context.Context, c *http.Client, id string, mu *sync.Mutex, res *Result) (string, string) {
	deadline := time.Now().Add(l.Deadline)
	for turn := 0; time.Now().Before(deadline) && ctx.Err() == nil; turn++ {
		i := l.down.pick(turn)
		t0 := time.Now()
		code, state, errCode := l.status(ctx, c, l.URLs[i], id)
		mu.Lock()
		res.GetLatency = append(res.GetLatency, time.Since(t0))
		res.Statuses[code]++
		mu.Unlock()
		switch {
		case code == 0:
			l.down.mark(i)
			continue // that node is gone: ask the next at once
		case code != http.StatusOK:
			return "", "" // every node reads the same database: 404 is lost
		case state == "done" || state == "failed":
			return state, errCode
		}
		time.Sleep(l.Poll)
	}
	return "", ""
}

func (l Load) status(ctx context.Context, c *http.Client, url, id string) (code int, state, errCode string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/analyses/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+l.Key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", ""
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Error  struct{ Code string }
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Status, out.Error.Code
}

// Summary prints the result in lines a person reads.
func (r Result) Summary(n, concurrency int) string {
	var b bytes.Buffer
	fivexx := 0
	for code, c := range r.Statuses {
		if code >= 500 || code == 0 {
			fivexx += c
		}
	}
	fmt.Fprintf(&b, "  %d uploads at concurrency %d, %s elapsed\n", n, concurrency, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "  accepted %d, done %d, failed %d, lost %d, 5xx or no answer %d\n", r.Accepted, r.States["done"], r.States["failed"], len(r.Lost), fivexx)
	fmt.Fprintf(&b, "  status codes: %v\n", r.Statuses)
	fmt.Fprintf(&b, "  throughput: %.1f jobs/min\n", float64(r.Ended())/r.Elapsed.Minutes())
	fmt.Fprintf(&b, "  status GET latency: p50 %s, p99 %s (%d requests)\n", Percentile(r.GetLatency, 50), Percentile(r.GetLatency, 99), len(r.GetLatency))
	fmt.Fprintf(&b, "  upload POST latency: p50 %s, p99 %s\n", Percentile(r.PostLatency, 50), Percentile(r.PostLatency, 99))
	return b.String()
}

// Percentile returns the p-th percentile of d.
func Percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}
