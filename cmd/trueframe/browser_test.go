package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
)

// analysisTimeout bounds one analysis of a three-second clip, from the
// click to the verdict on the page (the first also waits for a worker).
const analysisTimeout = 3 * time.Minute

// apiJSON calls the service the way a script would, to check what the
// page shows against the API it uses.
func apiJSON(t *testing.T, base, key, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

type apiReport struct {
	Status string `json:"status"`
	File   struct {
		Name string `json:"name"`
	} `json:"file"`
	Result struct {
		Verdict  string `json:"verdict"`
		Timeline []struct {
			Score *float64 `json:"score"`
		} `json:"timeline"`
		Faces []struct {
			Track     int    `json:"track"`
			Verdict   string `json:"verdict"`
			Detectors []struct {
				Detector string `json:"detector"`
				Evidence []struct {
					Image string `json:"image"`
				} `json:"evidence"`
			} `json:"detectors"`
		} `json:"faces"`
		NotCounted []string `json:"not_counted"`
	} `json:"result"`
}

type apiList struct {
	Analyses []struct {
		ID   string `json:"id"`
		File struct {
			Name string `json:"name"`
		} `json:"file"`
	} `json:"analyses"`
}

// open loads the console in the tab.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do("loading the page", chromedp.Navigate(url))
	tb.waitFor("the page's script", `document.readyState === "complete" && document.getElementById("keyStatus") !== null`, 20*time.Second)
}

// useKey types a key and submits it, as a person would, and waits for the
// page's answer.
func (tb *tab) useKey(key string) {
	tb.t.Helper()
	tb.eval(`document.getElementById("key").value = ""`, nil)
	tb.do("typing the key", chromedp.SendKeys(chromedp.CSS("#key"), key),
		chromedp.Click(chromedp.CSS("#keyBtn")))
	tb.waitFor("the key's check", `document.getElementById("keyStatus").innerText.trim() !== "" && !document.getElementById("keyBtn").disabled`, 20*time.Second)
}

// analyse uploads a file through the page and waits for the verdict; it
// returns the analysis id the page shows in its address.
func (tb *tab) analyse(file string, doubleClick bool) string {
	tb.t.Helper()
	tb.do("choosing "+file, chromedp.SetUploadFiles(chromedp.CSS("#scanFile"), []string{file}))
	if doubleClick {
		tb.doubleClick("#scanBtn")
	} else {
		tb.do("clicking Analyse", chromedp.Click(chromedp.CSS("#scanBtn")))
	}
	tb.waitFor("the verdict", `document.querySelector("#verdict[data-verdict]") !== null || document.getElementById("scanError").innerText !== ""`, analysisTimeout)
	if e := tb.text("#scanError"); e != "" {
		tb.t.Fatalf("the page shows an error instead of a verdict: %s", e)
	}
	var hash string
	tb.eval(`location.hash`, &hash)
	id, ok := strings.CutPrefix(hash, "#analysis=")
	if !ok {
		tb.t.Fatalf("the address names no analysis: %q", hash)
	}
	return id
}

// checkResult compares the result view with the API's report.
func (tb *tab) checkResult(base, key, id string) apiReport {
	tb.t.Helper()
	var rep apiReport
	if code := apiJSON(tb.t, base, key, "GET", "/v1/analyses/"+id, &rep); code != 200 || rep.Status != "done" {
		tb.t.Fatalf("GET the analysis: %d %+v", code, rep)
	}
	var shown string
	tb.eval(`document.getElementById("verdict").dataset.verdict`, &shown)
	if shown != rep.Result.Verdict {
		tb.t.Errorf("the page shows verdict %q, the API %q", shown, rep.Result.Verdict)
	}
	title := map[string]string{"likely_authentic": "Likely authentic", "suspicious": "Suspicious",
		"likely_manipulated": "Likely manipulated", "inconclusive": "Inconclusive"}[rep.Result.Verdict]
	if banner := tb.text("#verdictLive"); !strings.Contains(banner, title) || !strings.Contains(banner, "Score ") {
		tb.t.Errorf("the verdict banner does not say %q in words: %q", title, banner)
	}
	if n := tb.count(".face-card"); n != len(rep.Result.Faces) {
		tb.t.Errorf("%d face cards for %d faces in the report", n, len(rep.Result.Faces))
	}
	uncountedImages := 0 // evidence images of detectors the fusion does not count
	for _, f := range rep.Result.Faces {
		for _, d := range f.Detectors {
			for _, e := range d.Evidence {
				if e.Image != "" && slices.Contains(rep.Result.NotCounted, d.Detector) {
					uncountedImages++
				}
			}
		}
	}
	var marked int
	tb.eval(`[...document.querySelectorAll("figure.evidence figcaption")].filter((c) => c.innerText.includes("Not counted in the score")).length`, &marked)
	if marked != uncountedImages {
		tb.t.Errorf("%d evidence images say they are not counted in the score; the report has %d from such detectors", marked, uncountedImages)
	}
	for _, f := range rep.Result.Faces {
		card := fmt.Sprintf(`.face-card[data-track="%d"]`, f.Track)
		if got := tb.count(card + ` .badge.verdict-` + f.Verdict); got != 1 {
			tb.t.Errorf("face %d: no %s badge on its card: %q", f.Track, f.Verdict, tb.text(card))
		}
		if tb.count(card+` .detector`) == 0 {
			tb.t.Errorf("face %d: no detectors on its card", f.Track)
		}
		// A detector the fusion gives no weight says so; the others do not.
		for _, d := range f.Detectors {
			text := tb.text(fmt.Sprintf(`%s .detector[data-detector=%q] .det-head`, card, d.Detector))
			if got, want := strings.Contains(text, "not counted in the score"), slices.Contains(rep.Result.NotCounted, d.Detector); got != want {
				tb.t.Errorf("face %d, %s: says it is not counted %v, the report %v: %q", f.Track, d.Detector, got, want, text)
			}
		}
	}
	// The timeline: a bar a second, both thresholds, time labels.
	if n := tb.count("svg.timeline rect.bar"); n != len(rep.Result.Timeline) {
		tb.t.Errorf("%d timeline bars for %d seconds", n, len(rep.Result.Timeline))
	}
	if n := tb.count("svg.timeline line.threshold"); n != 2 {
		tb.t.Errorf("%d threshold lines, want 2", n)
	}
	if labels := tb.text(".timeline-figure"); !strings.Contains(labels, "likely authentic") || !strings.Contains(labels, "no face visible") {
		tb.t.Errorf("the timeline's legend is missing: %q", labels)
	}
	// Every image has a text alternative and actually loaded.
	var broken []string
	tb.eval(`[...document.querySelectorAll("#result img")].filter((i) => !i.alt || !(i.naturalWidth > 0)).map((i) => i.alt || i.src)`, &broken)
	if len(broken) > 0 {
		tb.t.Errorf("images without alt text or not loaded: %v", broken)
	}
	if tb.count("figure.evidence img") == 0 {
		tb.t.Error("no evidence image shown")
	}
	if !strings.Contains(tb.text("#result"), "Download the JSON report") {
		tb.t.Error("no JSON download")
	}
	return rep
}

// openFolds opens every <details> of the page (the JSON report, the
// measurements), the widest state the page can be in.
func (tb *tab) openFolds() {
	tb.t.Helper()
	tb.eval(`document.querySelectorAll("details").forEach((d) => { d.open = true; }); true`, nil)
}

func TestBrowser(t *testing.T) {
	// The browser first: without it the test fails at once.
	b := startBrowser(t)
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	oneFace := filepath.Join(grid, "bbaf2n.mpg")
	// Two people side by side, made from two shared clips, then a second
	// of black with no face (H.264, which the browser plays).
	work := t.TempDir()
	twoFaces := filepath.Join(work, "two_faces.mp4")
	videofix.FFmpeg(t, oneFace, twoFaces, "-i", filepath.Join(grid, "lbax4n.mpg"), "-filter_complex",
		"[0][1]hstack,setsar=1[v];color=c=black:s=720x288:r=25:d=1.2,format=yuv420p,setsar=1[b];[v][b]concat=n=2:v=1:a=0",
		"-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
	notVideo := filepath.Join(work, "notes.mp4") // a video's name, not a video's bytes
	if err := os.WriteFile(notVideo, []byte(strings.Repeat("meeting notes, not a video\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir()
	analyst := newKeyFor(t, data, "analyst")
	registrar := newKeyFor(t, data, "registrar")
	srv := startServer(t, data, "--workers", "1")
	srv.waitReady(t)
	home := srv.url + "/"

	var twoID string
	t.Run("one face", func(t *testing.T) {
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		tb.checkAxe("the empty page")
		tb.useKey(analyst)
		if s := tb.text("#keyStatus"); !strings.Contains(s, "Key accepted") || !strings.Contains(s, "analyst") {
			t.Fatalf("key status: %q", s)
		}
		// A double click on Analyse sends one upload.
		id := tb.analyse(oneFace, true)
		var list apiList
		apiJSON(t, srv.url, analyst, "GET", "/v1/analyses", &list)
		if len(list.Analyses) != 1 || list.Analyses[0].ID != id {
			t.Errorf("after a double click the key has %d analyses, want 1 (%s): %+v", len(list.Analyses), id, list)
		}
		rep := tb.checkResult(srv.url, analyst, id)
		if len(rep.Result.Faces) != 1 {
			t.Errorf("%d faces in a one-face clip", len(rep.Result.Faces))
		}
		if s := tb.text("#scanStatus"); !strings.Contains(s, "Done") {
			t.Errorf("status after the analysis: %q", s)
		}
		tb.view("one-face")
		tb.openFolds()
		tb.noHorizontalScroll("with the JSON report open")
		tb.checkAxe("the one-face result")
		tb.view("one-face-open")
		tb.checkClean()
	})

	t.Run("two faces", func(t *testing.T) {
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		tb.useKey(analyst)
		// Record every status the page announces during the analysis.
		tb.eval(`window.__statuses = []; new MutationObserver(() => {
			const s = document.getElementById("scanStatus").innerText; if (s) window.__statuses.push(s);
		}).observe(document.getElementById("scanStatus"), {childList: true, characterData: true, subtree: true}); true`, nil)
		twoID = tb.analyse(twoFaces, false)
		tb.waitFor("the final status", `document.getElementById("scanStatus").innerText.startsWith("Done")`, 10*time.Second)
		var statuses []string
		tb.eval(`window.__statuses`, &statuses)
		// Uploading, then the job's own states in their order, then done:
		// never "queued" once it ran.
		order := map[string]int{"Uploading": 0, "Queued": 1, "Analysing": 2, "Done": 3}
		last := -1
		for _, st := range statuses {
			word, _, _ := strings.Cut(st, " ")
			word = strings.TrimSuffix(word, ":")
			n, ok := order[word]
			if !ok || n < last {
				t.Errorf("status %q out of order in %q", st, statuses)
			}
			last = n
		}
		if len(statuses) < 2 || !strings.HasPrefix(statuses[0], "Uploading") || !strings.HasPrefix(statuses[len(statuses)-1], "Done") {
			t.Errorf("statuses: %q", statuses)
		}
		t.Logf("statuses shown: %q", statuses)
		rep := tb.checkResult(srv.url, analyst, twoID)
		if len(rep.Result.Faces) != 2 || tb.count(".face-card") != 2 {
			t.Fatalf("%d faces in the report, %d cards on the page; want 2", len(rep.Result.Faces), tb.count(".face-card"))
		}
		if n := tb.count(".face-card img.thumb"); n != 2 {
			t.Errorf("%d face thumbnails, want 2", n)
		}
		// The seconds with no face are drawn, hatched, not left out.
		noFace := 0
		for _, p := range rep.Result.Timeline {
			if p.Score == nil {
				noFace++
			}
		}
		if n := tb.count("svg.timeline rect.bar.none"); noFace == 0 || n != noFace {
			t.Errorf("%d hatched seconds on the timeline, %d seconds without a face in the report (want ≥ 1)", n, noFace)
		}
		// The video plays in the page, and clicking a second of the
		// timeline seeks it there.
		tb.waitFor("the player", `document.querySelector(".player video").readyState >= 2`, 30*time.Second)
		tb.do("clicking second 2 of the timeline", chromedp.Click(chromedp.CSS(`svg.timeline rect.bar[data-t="2"]`)))
		tb.waitFor("the player at 2 s", `Math.abs(document.querySelector(".player video").currentTime - 2) < 0.05`, 10*time.Second)
		var head struct{ Head, Bar float64 }
		tb.eval(`({head: +document.querySelector("svg.timeline .playhead").getAttribute("x1"),
			bar: +document.querySelector('svg.timeline rect.bar[data-t="2"]').getAttribute("x")})`, &head)
		if head.Head < head.Bar-2 || head.Head > head.Bar+1 {
			t.Errorf("the timeline's playhead is at x=%.1f, want the bar of second 2 at x=%.1f", head.Head, head.Bar)
		}
		// An evidence image laid over its frame.
		tb.do("overlaying evidence", chromedp.Click(chromedp.CSS(`figure.evidence input[type=checkbox]`)))
		tb.waitFor("the overlay", `(() => { const c = document.querySelector("figure.evidence canvas"); return c && !c.hidden && c.width > 0; })()`, 10*time.Second)
		tb.view("two-faces")
		tb.checkAxe("the two-face result")
		tb.checkClean()
	})

	t.Run("not a video", func(t *testing.T) {
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		tb.useKey(analyst)
		tb.do("choosing a text file", chromedp.SetUploadFiles(chromedp.CSS("#scanFile"), []string{notVideo}),
			chromedp.Click(chromedp.CSS("#scanBtn")))
		tb.waitFor("the error", `document.getElementById("scanError").innerText !== ""`, 30*time.Second)
		if e := tb.text("#scanError"); !strings.Contains(e, "not a video trueframe can read") {
			t.Errorf("415 message: %q", e)
		}
		if tb.count("#verdict") != 0 {
			t.Error("a verdict is shown for a non-video")
		}
		tb.view("not-a-video")
		tb.checkAxe("the 415 message")
		tb.checkClean()
	})

	t.Run("keys", func(t *testing.T) {
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		// No key: the page says so and sends nothing.
		tb.do("analysing without a key", chromedp.SetUploadFiles(chromedp.CSS("#scanFile"), []string{oneFace}),
			chromedp.Click(chromedp.CSS("#scanBtn")))
		tb.waitFor("the error", `document.getElementById("scanError").innerText !== ""`, 10*time.Second)
		if e := tb.text("#scanError"); !strings.Contains(e, "Enter your API key first") {
			t.Errorf("empty key: %q", e)
		}
		var focused string
		tb.eval(`document.activeElement.id`, &focused)
		if focused != "key" {
			t.Errorf("after the empty-key error the focus is on %q, want the key field", focused)
		}
		tb.view("empty-key")
		// A wrong key: a message of its own, which replaces the old one.
		tb.useKey("tf_0123456789abcdef_wrong")
		if s := tb.text("#keyStatus"); !strings.Contains(s, "not accepted") {
			t.Errorf("wrong key status: %q", s)
		}
		tb.do("analysing with a wrong key", chromedp.Click(chromedp.CSS("#scanBtn")))
		tb.waitFor("the new error", `document.getElementById("scanError").innerText.includes("not accepted")`, 30*time.Second)
		if e := tb.text("#scanError"); strings.Contains(e, "Enter your API key first") {
			t.Errorf("the old error stayed: %q", e)
		}
		tb.view("wrong-key")
		tb.checkAxe("the wrong-key message")
		tb.checkClean()
	})

	t.Run("history", func(t *testing.T) {
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		tb.useKey(analyst)
		tb.waitFor("the history", `document.querySelectorAll("#historyRows tr").length === 2`, 20*time.Second)
		rows := tb.text("#historyRows")
		for _, want := range []string{"bbaf2n.mpg", "two_faces.mp4", "done"} {
			if !strings.Contains(rows, want) {
				t.Errorf("history lacks %q: %q", want, rows)
			}
		}
		if tb.count("#historyRows .badge") != 2 {
			t.Errorf("history rows without a verdict: %q", rows)
		}
		// Open the two-face analysis from the list.
		tb.do("opening", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#historyRows tr[data-id=%q] button`, twoID))))
		tb.waitFor("the opened result", `document.querySelectorAll(".face-card").length === 2`, 30*time.Second)
		tb.checkAxe("the history")
		// Delete the one-face analysis: asked once more, then gone from
		// the list and from the service.
		var list apiList
		apiJSON(t, srv.url, analyst, "GET", "/v1/analyses", &list)
		var oneID string
		for _, a := range list.Analyses {
			if a.File.Name == "bbaf2n.mpg" {
				oneID = a.ID
			}
		}
		// With the keyboard only: Enter on Delete, the focus moves to the
		// confirmation, Enter again deletes, and the focus stays in the list.
		row := fmt.Sprintf(`#historyRows tr[data-id=%q]`, oneID)
		tb.eval(fmt.Sprintf(`document.querySelector(%q).focus()`, row+` button:nth-of-type(2)`), nil)
		tb.do("pressing Enter on Delete", chromedp.KeyEvent("\r"))
		tb.waitFor("the confirmation", fmt.Sprintf(`document.querySelector(%q).innerText.includes("Yes, delete")`, row), 10*time.Second)
		var focus string
		tb.eval(`document.activeElement.className + " " + document.activeElement.innerText`, &focus)
		if !strings.HasPrefix(focus, "danger Yes, delete") {
			t.Errorf("the focus is not on the confirmation but on %q", focus)
		}
		tb.view("history-confirm")
		// The models panel shows what GET /v1/models lists, or stays hidden
		// on a service without a model registry.
		var models struct {
			Models []struct {
				ID     string `json:"id"`
				Active bool   `json:"active"`
			} `json:"models"`
		}
		if apiJSON(t, srv.url, analyst, "GET", "/v1/models", &models) == http.StatusOK {
			tb.waitFor("the models", fmt.Sprintf(`document.querySelectorAll("#modelsBody tr[data-id]").length === %d`, len(models.Models)), 20*time.Second)
			for _, m := range models.Models {
				if m.Active && tb.count(fmt.Sprintf(`#modelsBody tr[data-id=%q][data-active="true"]`, m.ID)) != 1 {
					t.Errorf("model %s is active but not marked so", m.ID)
				}
				// Every version says how it measured (shipped ones point to their card).
				if tb.count(fmt.Sprintf(`#modelsBody tr[data-id=%q] td[data-label="Measured"]`, m.ID)) != 1 {
					t.Errorf("model %s has no Measured cell", m.ID)
				}
			}
		} else if tb.count("#models:not([hidden])") != 0 {
			t.Error("a models panel without a model registry")
		}
		tb.do("pressing Enter to confirm", chromedp.KeyEvent("\r"))
		tb.waitFor("the row to go", fmt.Sprintf(`document.querySelector(%q) === null`, row), 20*time.Second)
		tb.eval(`document.activeElement.tagName`, &focus)
		if focus != "BUTTON" {
			t.Errorf("after deleting, the focus fell to %s", focus)
		}
		if code := apiJSON(t, srv.url, analyst, "GET", "/v1/analyses/"+oneID, nil); code != http.StatusNotFound {
			t.Errorf("the deleted analysis answers %d", code)
		}
		if s := tb.text("#historyStatus"); !strings.Contains(s, "Deleted bbaf2n.mpg") {
			t.Errorf("history status: %q", s)
		}
		tb.checkClean()
	})

	t.Run("provenance", func(t *testing.T) {
		original := filepath.Join(grid, "lbbc2a.mpg")
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		// An analyst key cannot register: the form says so.
		tb.useKey(analyst)
		var disabled bool
		tb.eval(`document.getElementById("registerBtn").disabled`, &disabled)
		if !disabled || !strings.Contains(tb.text("#registerRole"), "needs a registrar or admin key") {
			t.Errorf("an analyst key may use the register form: %q", tb.text("#registerRole"))
		}
		if tb.count("#generator:not([hidden])") != 0 {
			t.Error("the generator panel shows for an analyst key")
		}
		tb.useKey(registrar)
		// A registrar key brings the generator panel. No job is started
		// here (training takes minutes at least): a job without its
		// videos gets the service's 400 message.
		tb.waitFor("the generator panel", `!document.getElementById("generator").hidden && document.getElementById("genJobs").innerText !== ""`, 20*time.Second)
		if s := tb.text("#genJobs"); !strings.Contains(s, "No generator jobs yet") {
			t.Errorf("generator panel: %q", s)
		}
		tb.do("starting a job without videos", chromedp.Click(chromedp.CSS("#genBtn")))
		tb.waitFor("the generator's error", `document.getElementById("genError").innerText !== ""`, 20*time.Second)
		if e := tb.text("#genError"); !strings.Contains(e, `needs at least 1 video(s) in the file field "a"`) {
			t.Errorf("generator error: %q", e)
		}
		tb.do("registering", chromedp.SetUploadFiles(chromedp.CSS("#registerFile"), []string{original}),
			chromedp.SendKeys(chromedp.CSS("#registerMeta"), "https://archive.example/lbbc2a"),
			chromedp.Click(chromedp.CSS("#registerBtn")))
		tb.waitFor("the registration", `document.querySelector("#provenanceOut [data-status=registered]") !== null || document.getElementById("registerError").innerText !== ""`, 2*time.Minute)
		if e := tb.text("#registerError"); e != "" {
			t.Fatalf("registering: %s", e)
		}
		if s := tb.text("#provenanceOut"); !strings.Contains(s, "https://archive.example/lbbc2a") || !strings.Contains(s, "Transaction") {
			t.Errorf("the registration shows no record: %q", s)
		}
		tb.do("verifying", chromedp.SetUploadFiles(chromedp.CSS("#verifyFile"), []string{original}),
			chromedp.Click(chromedp.CSS("#verifyBtn")))
		tb.waitFor("the verification", `(document.querySelector("#provenanceOut .verification h3") || {innerText: ""}).innerText.startsWith("Verification") || document.getElementById("verifyError").innerText !== ""`, 2*time.Minute)
		if e := tb.text("#verifyError"); e != "" {
			t.Fatalf("verifying: %s", e)
		}
		var status string
		tb.eval(`document.querySelector("#provenanceOut .verification").dataset.status`, &status)
		if status != "registered" || !strings.Contains(tb.text("#provenanceOut"), "This exact file") {
			t.Errorf("verify after register: %q: %s", status, tb.text("#provenanceOut"))
		}
		// A re-encoded copy matches the original, and the page says how.
		copyPath := filepath.Join(t.TempDir(), "lbbc2a_copy.mp4")
		videofix.FFmpeg(t, original, copyPath, "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p")
		tb.do("verifying a copy", chromedp.SetUploadFiles(chromedp.CSS("#verifyFile"), []string{copyPath}),
			chromedp.Click(chromedp.CSS("#verifyBtn")))
		tb.waitFor("the copy's verification", `(document.querySelector("#provenanceOut .verification h3") || {innerText: ""}).innerText.includes("lbbc2a_copy") || document.getElementById("verifyError").innerText !== ""`, 2*time.Minute)
		tb.eval(`document.querySelector("#provenanceOut .verification").dataset.status`, &status)
		if out := tb.text("#provenanceOut"); status != "matches_original" || !strings.Contains(out, "of the file's samples show the original") || !strings.Contains(out, "Transaction") {
			t.Errorf("verify a re-encoded copy: %q: %s", status, out)
		}
		tb.view("provenance")
		tb.checkAxe("the provenance answer")
		tb.checkClean()
	})

	t.Run("phone", func(t *testing.T) {
		tb := b.tab(t, 390, 844)
		tb.open(home)
		tb.noHorizontalScroll("the empty page")
		tb.useKey(analyst)
		tb.waitFor("the history", `document.querySelectorAll("#historyRows tr").length >= 1`, 20*time.Second)
		tb.noHorizontalScroll("the history")
		tb.do("opening", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#historyRows tr[data-id=%q] button`, twoID))))
		tb.waitFor("the opened result", `document.querySelectorAll(".face-card").length === 2`, 30*time.Second)
		tb.noHorizontalScroll("the two-face result")
		tb.view("phone")
		tb.openFolds()
		tb.noHorizontalScroll("the result with every fold open")
		tb.checkAxe("the phone layout")
		tb.view("phone-open")
		tb.checkClean()
	})

	// Last, since its uploads keep the worker busy: the history pages.
	t.Run("history pages", func(t *testing.T) {
		// Ten more analyses make eleven; the page shows ten at a time.
		for i := range 10 {
			if code, js := srv.submit(t, analyst, oneFace); code != http.StatusAccepted {
				t.Fatalf("upload %d: %d %+v", i, code, js)
			}
		}
		tb := b.tab(t, 1280, 900)
		tb.open(home)
		tb.useKey(analyst)
		tb.waitFor("the first page", `document.querySelectorAll("#historyRows tr").length === 10 && !document.getElementById("historyMore").hidden`, 20*time.Second)
		tb.do("showing older analyses", chromedp.Click(chromedp.CSS("#historyMore")))
		tb.waitFor("the second page", `document.querySelectorAll("#historyRows tr").length === 11 && document.getElementById("historyMore").hidden`, 20*time.Second)
		var ids []string
		tb.eval(`[...document.querySelectorAll("#historyRows tr")].map((r) => r.dataset.id)`, &ids)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("analysis %s listed twice", id)
			}
			seen[id] = true
		}
		if ids[len(ids)-1] != twoID {
			t.Errorf("the oldest analysis (%s) is not last: %v", twoID, ids)
		}
		tb.checkClean()
	})
}
