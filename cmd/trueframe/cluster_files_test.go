package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/trueframe/trueframe/internal/anviltest"
	"github.com/trueframe/trueframe/internal/cluster"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
)

// TestClusterSharesFiles: PostgreSQL + an S3 server, API nodes that run
// no jobs and one worker node that runs analyses, verifications and
// generator jobs, each node with a data directory of its own.
//
//   - A generator job whose input was uploaded through API node A runs on
//     the worker node, and its artifacts are downloaded from A.
//   - A model version added to the shared registry is listed on API nodes
//     A and B, activated through B, shown active by A, and run by the
//     worker node's next analysis.
//   - A verification posted to API node C, which has the ledger but runs
//     no jobs, is fingerprinted on the worker node, and C answers it.
func TestClusterSharesFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the cluster test takes minutes")
	}
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	ctx := t.Context()
	c := newTestCluster(t)
	r := trueframe(t, "keys", "create", "--role", "admin", "--database", c.dsn)
	if r.code != 0 {
		t.Fatalf("keys create: exit %d: %s", r.code, r.stderr)
	}
	admin := strings.TrimSpace(r.stdout)

	// C deploys the registry contract on the chain and records it in the
	// database, where the worker node finds it.
	chain := anviltest.Start(t, anviltest.Options{})
	// anvil mines a block per transaction: none would come on top.
	ledgerArgs := []string{"--ledger-rpc", chain.URL, "--ledger-chain-id", fmt.Sprint(chain.ChainID), "--ledger-confirmations", "0"}
	o := c.opts
	o.Env = append(append([]string{}, o.Env...), "TRUEFRAME_LEDGER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(chain.Keys[1])))
	o.Args = append(append(c.nodeArgs("api-c"), ledgerArgs...), "--workers", "0", "--generator=false")
	apiC, err := cluster.StartAPI(ctx, "api-c", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(apiC.Kill)
	apiA, apiB := c.api(ctx, "api-a"), c.api(ctx, "api-b")
	o = c.opts
	o.Args = append(append(c.nodeArgs("worker-g"), ledgerArgs...), "--workers", "1", "--generator")
	worker, err := cluster.StartWorker(ctx, "worker-g", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(worker.Kill)

	call := func(method, url, key string, out any) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, url, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
			}
		}
		return resp.StatusCode
	}
	// ran counts the jobs of kind the worker node finished, from its metrics.
	ran := func(kind string) string {
		t.Helper()
		resp, err := http.Get(worker.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		prefix := fmt.Sprintf(`trueframe_job_duration_seconds_count{kind=%q,outcome="done"} `, kind)
		for line := range strings.SplitSeq(string(b), "\n") {
			if n, ok := strings.CutPrefix(line, prefix); ok {
				return n
			}
		}
		return "0"
	}

	// A generator job through A, run by the worker node.
	var job genJob
	if code := postForm(t, apiA.URL+"/v1/generator/jobs", admin, map[string]string{"type": "dataset"},
		[]formFile{{"real", filepath.Join(grid, "sbia1a.mpg")}}, &job); code != http.StatusAccepted {
		t.Fatalf("generator job through A: status %d", code)
	}
	for deadline := time.Now().Add(10 * time.Minute); job.Status != "done"; time.Sleep(time.Second) {
		if call("GET", apiA.URL+job.URL, admin, &job); job.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("generator job: %+v %+v\n%s", job, job.Error, worker.Output())
		}
	}
	if n := ran("generate.dataset"); n != "1" {
		t.Errorf("the worker node ran %s dataset jobs, want 1", n)
	}
	var manifest struct{ Items []json.RawMessage }
	if code := call("GET", apiA.URL+job.URL+"/artifacts/dataset/manifest.json", admin, &manifest); code != 200 || len(manifest.Items) == 0 {
		t.Errorf("the manifest from A: status %d, %d items", code, len(manifest.Items))
	}

	// A model version added to the shared registry, activated through B.
	f, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	parent := f.Version
	f.Version, f.Bias = "fusion-cluster-test", f.Bias+0.25
	raw, _ := json.Marshal(f)
	path := filepath.Join(t.TempDir(), "fusion.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := trueframe(t, "models", "add", "--database", c.dsn, "--blobs", c.blob, "--data", t.TempDir(), "--parent", parent, path); r.code != 0 {
		t.Fatalf("models add: exit %d: %s", r.code, r.stderr)
	}
	type version struct {
		ID     string
		Active bool
	}
	for _, n := range []*cluster.Node{apiA, apiB} {
		var list struct{ Models []version }
		call("GET", n.URL+"/v1/models", c.key, &list)
		found := false
		for _, v := range list.Models {
			found = found || v.ID == f.Version && !v.Active
		}
		if !found {
			t.Errorf("%s does not list the new version, inactive: %+v", n.Name, list.Models)
		}
	}
	if code := call("POST", apiB.URL+"/v1/models/"+f.Version+"/activate", admin, nil); code != 200 {
		t.Fatalf("activate through B: status %d", code)
	}
	var v version
	if call("GET", apiA.URL+"/v1/models/"+f.Version, c.key, &v); !v.Active {
		t.Errorf("A does not show %s active: %+v", f.Version, v)
	}
	var analysis struct {
		Status string
		Result struct {
			Models struct {
				FusionVersion string `json:"fusion_version"`
			}
		}
	}
	clip := []formFile{{"file", filepath.Join(grid, "bbaf2n.mpg")}}
	postForm(t, apiA.URL+"/v1/analyses?wait=60", c.key, nil, clip, &analysis)
	if analysis.Status != "done" || analysis.Result.Models.FusionVersion != f.Version {
		t.Errorf("the worker node's analysis after the activation: %s, fusion %q; want done with %s",
			analysis.Status, analysis.Result.Models.FusionVersion, f.Version)
	}

	// A verification through C, fingerprinted on the worker node.
	var verification struct{ Status, SHA256 string }
	if code := postForm(t, apiC.URL+"/v1/verify", c.key, nil, clip, &verification); code != 200 || verification.Status != "unknown" {
		t.Errorf("verify through C: status %d, %+v\n%s", code, verification, worker.Output())
	}
	if n := ran("verify"); n != "1" {
		t.Errorf("the worker node ran %s verifications, want 1", n)
	}
}
