package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/trueframe/trueframe/api/store"
)

// cmdKeys manages API keys in the data directory's database; it works
// while the service runs (SQLite serialises the writers).
func cmdKeys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("usage: trueframe keys create --role analyst|registrar|admin [--name N] | list | revoke ID")}
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	data := fs.String("data", envOr("TRUEFRAME_DATA", "data"), "data directory of the service")
	role := fs.String("role", "", "role of the new key: analyst, registrar or admin")
	name := fs.String("name", "", "a name to recognise the key by")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	st, err := store.Open(ctx, filepath.Join(*data, "trueframe.db"))
	if err != nil {
		return err
	}
	defer st.Close()

	switch args[0] {
	case "create":
		r := store.Role(*role)
		if !r.Valid() {
			return usageError{fmt.Errorf("--role must be analyst, registrar or admin")}
		}
		k, token, err := st.NewKey(ctx, *name, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created key %s (%s); it is shown only now:\n", k.ID, k.Role)
		fmt.Println(token)
		fmt.Fprintf(os.Stderr, "its webhook signing secret: %s\n", k.WebhookSecret)
		return nil
	case "list":
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
	case "revoke":
		if fs.NArg() != 1 {
			return usageError{fmt.Errorf("usage: trueframe keys revoke ID")}
		}
		if err := st.RevokeKey(ctx, fs.Arg(0)); err != nil {
			return fmt.Errorf("key %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(os.Stderr, "revoked key %s\n", fs.Arg(0))
		return nil
	default:
		return usageError{fmt.Errorf("unknown keys command %q: want create, list or revoke", args[0])}
	}
}
