package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"partnergate/store"
)

// dbError is a driver error made safe to log and return: its message is
// built from codes and schema names only, because driver messages can quote
// the values that failed (an email, a phone number). The driver error stays
// reachable through errors.As for callers that need it.
type dbError struct {
	kind  error // a store sentinel, or nil
	msg   string
	cause error
}

func (e *dbError) Error() string {
	if e.kind != nil {
		return e.kind.Error() + ": " + e.msg
	}
	return e.msg
}

func (e *dbError) Unwrap() []error {
	if e.kind != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.cause}
}

// wrap maps err to the store's sentinels and prefixes it with the operation:
// "sqlstore: create user: already exists: ...".
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, wrapErr(err))
}

// wrapErr maps err without adding an operation; see wrap.
func wrapErr(err error) error {
	var de *dbError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return err
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrLimit):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller gave up; that says nothing about the database.
		return err
	}
	e := &dbError{msg: describe(err), cause: err}
	switch {
	case isUniqueViolation(err):
		e.kind = store.ErrAlreadyExists
	case isUnavailable(err):
		e.kind = store.ErrUnavailable
	}
	return e
}

// describe returns a message for err that holds no row data.
func describe(err error) string {
	if pe := pq.As(err); pe != nil {
		var b strings.Builder
		b.WriteString("postgres error ")
		b.WriteString(string(pe.Code))
		if name := pe.Code.Name(); name != "" {
			b.WriteString(" " + name)
		}
		if pe.Table != "" {
			b.WriteString(" table " + pe.Table)
		}
		if pe.Column != "" {
			b.WriteString(" column " + pe.Column)
		}
		if pe.Constraint != "" {
			b.WriteString(" constraint " + pe.Constraint)
		}
		return b.String()
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// SQLite's messages name tables, columns and constraints but never
		// quote bound values.
		return "sqlite: " + se.Error()
	}
	msg := err.Error()
	// database/sql conversion errors quote the offending value.
	if strings.HasPrefix(msg, "sql: Scan error") || strings.HasPrefix(msg, "converting ") {
		return "sql: scan error"
	}
	return msg
}

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

func isUniqueViolation(err error) bool {
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return true
	}
	if code, ok := sqliteCode(err); ok {
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY ||
			strings.Contains(err.Error(), "UNIQUE constraint failed")
	}
	return false
}

func isForeignKeyViolation(err error) bool {
	if pq.As(err, pqerror.ForeignKeyViolation) != nil {
		return true
	}
	code, ok := sqliteCode(err)
	return ok && code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func isUnavailable(err error) bool {
	if pe := pq.As(err); pe != nil {
		switch pe.Code {
		case pqerror.AdminShutdown, pqerror.CrashShutdown, pqerror.CannotConnectNow, pqerror.TooManyConnections:
			return true
		}
		return pe.Code.Class() == pqerror.ClassConnectionException
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR:
			return true
		}
		return false
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "sql: database is closed") ||
		strings.Contains(msg, "no such host")
}
