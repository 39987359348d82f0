package blobs

import (
	"crypto/rand"
	"net/url"
	"os"
	"testing"
)

// s3URL returns the URL of the test S3 bucket ($TRUEFRAME_TEST_S3, an
// s3:// URL of a loopback server; credentials in the AWS environment
// variables), with a prefix of the test's own, so that tests can share the
// bucket. Without the variable the test is skipped, unless
// TRUEFRAME_REQUIRE_SHARED=1 (CI), where that is a setup bug.
//
// TODO(merge): testutil.S3 replaces this helper.
func s3URL(tb testing.TB) string {
	tb.Helper()
	raw := os.Getenv("TRUEFRAME_TEST_S3")
	if raw == "" {
		msg := "no S3 server: set TRUEFRAME_TEST_S3 (s3://bucket?endpoint=…) and the AWS credentials"
		if os.Getenv("TRUEFRAME_REQUIRE_SHARED") == "1" {
			tb.Fatal(msg + " (TRUEFRAME_REQUIRE_SHARED=1)")
		}
		tb.Skip(msg)
	}
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("TRUEFRAME_TEST_S3: %v", err)
	}
	q := u.Query()
	q.Set("prefix", q.Get("prefix")+"test-"+rand.Text()[:12]+"/")
	u.RawQuery = q.Encode()
	return u.String()
}
