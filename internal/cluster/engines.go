package cluster

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// NewDatabase creates an empty database on the PostgreSQL server that
// server (a postgres:// URL) names, and returns its URL and a function
// that drops it.
func NewDatabase(ctx context.Context, server string) (dsn string, drop func() error, err error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return "", nil, err
	}
	// The name needs no quoting: lower-case letters and digits.
	name := "trueframe_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating a database on %s: %w", u.Redacted(), err)
	}
	drop = func() error {
		defer admin.Close()
		// FORCE ends the connections a killed node left open.
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// WithPrefix returns the blob URL base (a gocloud.dev/blob URL) with a
// fresh prefix of its own, label-<random>/, so that runs sharing a bucket
// never see each other's objects.
func WithPrefix(base, label string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("prefix", q.Get("prefix")+label+"-"+strings.ToLower(rand.Text()[:12])+"/")
	u.RawQuery = q.Encode()
	return u.String(), nil
}
