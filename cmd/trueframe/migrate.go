package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
)

const migrateHelp = `Brings the service's database up to this version's schema (its own tables and
River's, the job queue's), as serve and worker do
when it starts; run it before starting the nodes of a new version. It is
safe to run again, and while other nodes migrate: they wait for each other.

The database is --database, a postgres:// URL or a SQLite file, or by
default the SQLite file serve uses in --data.`

// databaseFlag declares --database, shared by the commands that open the
// service's database.
func databaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database", "", "the service's `database`: a postgres:// URL, or a SQLite file (default DATA/trueframe.db)")
}

// sqliteFile is the SQLite database serve keeps in its data directory.
func sqliteFile(dataDir string) string { return filepath.Join(dataDir, "trueframe.db") }

// databaseDSN returns what store.Open takes for the flags --data and
// --database: the database named, or else the data directory's SQLite
// file, creating the directory.
func databaseDSN(data, database string) (string, error) {
	if database != "" {
		return database, nil
	}
	dir, err := filepath.Abs(data)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	return sqliteFile(dir), nil
}

func cmdMigrate(fs *flag.FlagSet) action {
	db := registerDatabaseFlags(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("migrate takes no arguments")}
		}
		dsn, err := databaseDSN(*db.data, *db.database)
		if err != nil {
			return err
		}
		st, err := store.OpenWith(ctx, dsn, store.Options{NoMigrate: true})
		if err != nil {
			return err
		}
		defer st.Close()
		// The version found under the migration lock: of nodes migrating
		// at once, only the one that did the work reports it.
		before, err := st.MigrateVersions(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", store.Redact(dsn), err)
		}
		// River's tables, in the same database: the queue of the jobs.
		if err := jobs.Migrate(ctx, st); err != nil {
			return fmt.Errorf("%s: %w", store.Redact(dsn), err)
		}
		after, err := st.SchemaVersion(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", store.Redact(dsn), err)
		}
		if after == before {
			fmt.Fprintf(os.Stderr, "%s: schema %d, up to date\n", store.Redact(dsn), after)
		} else {
			fmt.Fprintf(os.Stderr, "%s: schema %d, migrated from %d\n", store.Redact(dsn), after, before)
		}
		return nil
	}
}
