package testutil

import (
	"bytes"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Postgres gives each test a database of its own, empty, that it can use.
func TestPostgres(t *testing.T) {
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatalf("two tests share the database %s", a)
	}
	db, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables); err != nil || tables != 0 {
		t.Errorf("new database: %d tables, %v", tables, err)
	}
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Error(err)
	}
}

// S3 gives a bucket URL with a prefix of its own, on a server that takes
// objects (without credentials: the test server has no identities).
func TestS3(t *testing.T) {
	raw := S3(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	prefix, endpoint := q.Get("prefix"), q.Get("endpoint")
	if u.Scheme != "s3" || u.Host == "" || !strings.HasPrefix(prefix, "test-") || !strings.HasSuffix(prefix, "/") || endpoint == "" {
		t.Fatalf("S3() = %s: want s3://BUCKET?endpoint=...&prefix=test-.../", raw)
	}
	if other := S3(t); other == raw {
		t.Errorf("two calls share the prefix %s", prefix)
	}
	object := endpoint + "/" + u.Host + "/" + prefix + "probe"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, object, bytes.NewReader([]byte("hi")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", object, resp.Status)
	}
	resp, err = http.Get(object)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); string(body) != "hi" {
		t.Errorf("GET %s: %s %q", object, resp.Status, body)
	}
}
