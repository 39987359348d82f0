package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/trueframe/trueframe/api/store"
)

// The keys commands manage API keys in the data directory's database;
// they work while the service runs (SQLite serialises the writers). Each
// checks its arguments before it opens (and so creates) the database.

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "data", "data `directory` of the service")
}

// databaseFlags are --data and --database of the commands that open the
// service's database.
type databaseFlags struct{ data, database *string }

func registerDatabaseFlags(fs *flag.FlagSet) databaseFlags {
	return databaseFlags{data: dataFlag(fs), database: databaseFlag(fs)}
}

// open opens the database the flags name (creating the data directory
// for the default SQLite file).
func (f databaseFlags) open(ctx context.Context) (*store.Store, error) {
	dsn, err := databaseDSN(*f.data, *f.database)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dsn)
}

func cmdKeysCreate(fs *flag.FlagSet) action {
	db := registerDatabaseFlags(fs)
	role := fs.String("role", "", "role of the new key: analyst, registrar or admin (required)")
	name := fs.String("name", "", "a name to recognise the key by")
	return func(ctx context.Context, args []string) error {
		r := store.Role(*role)
		if !r.Valid() || len(args) > 0 {
			return usageError{errors.New("keys create takes --role analyst, registrar or admin, and no arguments")}
		}
		st, err := db.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		k, token, err := st.NewKey(ctx, *name, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created key %s (%s); it is shown only now:\n", k.ID, k.Role)
		fmt.Println(token)
		fmt.Fprintf(os.Stderr, "its webhook signing secret: %s\n", k.WebhookSecret)
		return nil
	}
}

func cmdKeysList(fs *flag.FlagSet) action {
	db := registerDatabaseFlags(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usageError{errors.New("keys list takes no arguments")}
		}
		st, err := db.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := st.Keys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if !k.RevokedAt.IsZero() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, strconv.Quote(k.Name), k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	}
}

func cmdKeysRevoke(fs *flag.FlagSet) action {
	db := registerDatabaseFlags(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return usageError{errors.New("keys revoke takes one key ID")}
		}
		st, err := db.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.RevokeKey(ctx, args[0]); err != nil {
			return fmt.Errorf("key %s: %w", args[0], err)
		}
		fmt.Fprintf(os.Stderr, "revoked key %s\n", args[0])
		return nil
	}
}
