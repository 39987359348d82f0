package ledger

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/trueframe/trueframe/internal/testutil"
)

// devPairs are the fakes of the shared dev set whose source footage is in
// the set too, as its manifest's notes column gives them: lip-syncs of a
// real clip, and face swaps onto one. The DFDC, FaceForensics++ and
// DeeperForensics fakes are left out: their sources are not in the set.
var devPairs = []struct{ source, fake string }{
	{"real/real-lipsync-source/hyperlips_src_video1.mp4", "fake/HyperLips/hyperlips_result_video1.mp4"},
	{"real/real-lipsync-source/hyperlips_src_video2.mp4", "fake/HyperLips/hyperlips_result_video2.mp4"},
	{"real/real-lipsync-source/hyperlips_src_video3.mp4", "fake/HyperLips/hyperlips_result_video3.mp4"},
	{"real/real-lipsync-source/hyperlips_src_video4.mp4", "fake/HyperLips/hyperlips_result_video4.mp4"},
	{"real/real-swap-source/phantom_target_face-6.mp4", "fake/Phantom-inswapper/phantom_output.mp4"},
	{"real/real-swap-source/roop_target.mp4", "fake/roop-inswapper/roop_output.mp4"},
	{"real/real-swap-source/roop_target.mp4", "fake/roop-inswapper/roop_snapshot.mp4"},
	{"real/real-swap-source/roop_target.mp4", "fake/roop-inswapper/roop_latest-test.mp4"},
	{"real/real-swap-source/roop_target.mp4", "fake/roop-inswapper/phantom_examples_output.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/SadTalker-Video-Lip-Sync/zz_sync_none.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/SadTalker-Video-Lip-Sync/zz_none_dain_50fps.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/SadTalker-Video-Lip-Sync/zz_lip_dain_50fps.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/SadTalker-Video-Lip-Sync/zz_face_dain_50fps.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/SadTalker-lipsync/zz_sadtalker.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/VideoReTalking/zz_retalking.mp4"},
	{"real/real-talkinghead/videoretalking_face_1.mp4", "fake/Wav2Lip/zz_wav2lip.mp4"},
	{"real/real-lipsync-source/ale701_original1_trimmed.mp4", "fake/Wav2Lip/ale701_wav2lip1.mp4"},
	{"real/real-lipsync-source/lipsyncassign_video_8s.mp4", "fake/Wav2Lip/lipsyncassign_result_voice.mp4"},
	{"real/real-lipsync-source/w2lhq_src_1453ae3.mp4", "fake/Wav2Lip/w2lhq_result_voice.mp4"},
	{"real/real-vox/cosegswap_11_src.mp4", "fake/MotionCoSeg-partswap/cosegswap_result_final.mp4"},
	{"real/real-vox/cosegswap_11_src.mp4", "fake/MotionCoSeg-partswap/cosegswap_blending_result_final.mp4"},
	{"real/real-vox/fomm_demo_04.mp4", "fake/MotionCoSeg-partswap/cosegswap_result_lightcnn.mp4"},
}

// TestDevSetProvenance registers each source of devPairs with faces and
// verifies its fakes, printing what each comes back as. It measures; it
// asserts nothing, and runs only with TRUEFRAME_DEVSET=1 (the dev set's
// test split is for reporting, never for choosing thresholds).
func TestDevSetProvenance(t *testing.T) {
	if os.Getenv("TRUEFRAME_DEVSET") == "" {
		t.Skip("set TRUEFRAME_DEVSET=1 to measure the dev set")
	}
	dev := testutil.SharedDir(t, "data", "videos", "dev")
	r := measureRegistry(t)
	registered := map[string]bool{}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "fake\tsource\tstatus\tmatched\tfaces")
	counts := map[VerifyStatus]int{}
	for _, p := range devPairs {
		src, fake := filepath.Join(dev, p.source), filepath.Join(dev, p.fake)
		if !registered[src] {
			if _, err := r.Register(t.Context(), src, p.source); err != nil {
				t.Fatalf("%s: %v", p.source, err)
			}
			registered[src] = true
		}
		v := verify(t, r, fake)
		counts[v.Status]++
		matched, faces := "", ""
		if v.Match != nil {
			matched = fmt.Sprintf("%.2f", v.Match.MatchedFraction)
			for _, f := range v.Match.Faces {
				faces += f.Description + "; "
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", filepath.Base(p.fake), filepath.Base(p.source), v.Status, matched, faces)
	}
	tw.Flush()
	t.Logf("\n%s", b.String())
	t.Logf("%d fakes: %d altered_original, %d matches_original, %d unknown", len(devPairs), counts[AlteredOriginal], counts[MatchesOriginal], counts[Unknown])
}
