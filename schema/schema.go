// Package schema holds partnergate's SQL migrations, one folder per dialect,
// embedded in the binary so a deployment never runs against a schema from a
// different build.
//
// Files are named NNNN_name.sql and are append-only: a released file is never
// edited, because databases that already applied it would never see the
// change. Each dialect folder must hold the same versions.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Dialect names, matching the folder names under schema/.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// FS holds the migration files of every dialect.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

// Migration is one numbered migration file.
type Migration struct {
	// Version is the numeric prefix ("0001"): what schema_migrations records.
	Version string
	// Name is the file name without ".sql" ("0001_init").
	Name string
	// SQL is the file's content, possibly several statements.
	SQL string
}

var fileName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Migrations returns the dialect's migrations sorted by version. It fails on
// an unknown dialect, a misnamed file or two files sharing a version, so a
// packaging mistake shows up at the first Migrate rather than as a silently
// skipped file.
func Migrations(dialect string) ([]Migration, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("schema: unknown dialect %q", dialect)
	}
	entries, err := fs.ReadDir(FS, dialect)
	if err != nil {
		return nil, fmt.Errorf("schema: read %s: %w", dialect, err)
	}
	var out []Migration
	seen := make(map[string]string)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("schema: %s/%s: name must look like 0001_name.sql", dialect, e.Name())
		}
		if prev, dup := seen[m[1]]; dup {
			return nil, fmt.Errorf("schema: %s: %s and %s share version %s", dialect, prev, e.Name(), m[1])
		}
		seen[m[1]] = e.Name()
		body, err := FS.ReadFile(path.Join(dialect, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("schema: read %s/%s: %w", dialect, e.Name(), err)
		}
		out = append(out, Migration{
			Version: m[1],
			Name:    strings.TrimSuffix(e.Name(), ".sql"),
			SQL:     string(body),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
