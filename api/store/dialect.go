package store

import (
	"strconv"
	"strings"
)

// dialect holds what differs between SQLite and PostgreSQL, so that every
// query is written once: in SQLite's spelling with ? placeholders, which
// rebind turns into PostgreSQL's $1, $2, ...
//
// Types are spelled so that both read them alike: CAST(? AS BIGINT) and
// CAST(? AS DOUBLE PRECISION) are SQLite's INTEGER and REAL affinities,
// and they tell PostgreSQL a placeholder's type where it would otherwise
// infer it from the other operand (an integer column times a rate).
type dialect struct {
	postgres bool
}

var (
	sqlite   = dialect{}
	postgres = dialect{postgres: true}
)

func (d dialect) String() string {
	if d.postgres {
		return "postgres"
	}
	return "sqlite"
}

// rebind numbers the placeholders of q for PostgreSQL. A ? inside a quoted
// string or identifier is left alone.
func (d dialect) rebind(q string) string {
	if !d.postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote we are inside of, or 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// greatest and least are the two-argument maximum and minimum: SQLite's
// scalar MAX and MIN are aggregates in PostgreSQL.
func (d dialect) greatest(a, b string) string {
	if d.postgres {
		return "GREATEST(" + a + ", " + b + ")"
	}
	return "MAX(" + a + ", " + b + ")"
}

func (d dialect) least(a, b string) string {
	if d.postgres {
		return "LEAST(" + a + ", " + b + ")"
	}
	return "MIN(" + a + ", " + b + ")"
}

// reportSummary returns the two columns a job list adds to each row, the
// report's verdict (when a string, else empty) and score (when a number,
// else 0), and what the FROM clause needs to compute them. Results are
// stored as bytes on both databases, exactly as the service wrote them;
// only the summary parses them.
func (d dialect) reportSummary() (columns, from string) {
	if d.postgres {
		// Parsed once per row by the lateral join, not once per column.
		return `COALESCE(CASE WHEN jsonb_typeof(report.doc -> 'verdict') = 'string' THEN report.doc ->> 'verdict' END, ''),
		COALESCE(CASE WHEN jsonb_typeof(report.doc -> 'score') = 'number' THEN (report.doc ->> 'score')::DOUBLE PRECISION END, 0)`,
			`jobs LEFT JOIN LATERAL (SELECT convert_from(jobs.result, 'UTF8')::jsonb AS doc) report ON true`
	}
	// SQLite caches the documents a statement parsed: the four calls parse
	// each report once.
	return `COALESCE(CASE WHEN json_type(CAST(result AS TEXT), '$.verdict') = 'text' THEN json_extract(CAST(result AS TEXT), '$.verdict') END, ''),
		COALESCE(CASE WHEN json_type(CAST(result AS TEXT), '$.score') IN ('integer', 'real') THEN json_extract(CAST(result AS TEXT), '$.score') END, 0)`,
		`jobs`
}
