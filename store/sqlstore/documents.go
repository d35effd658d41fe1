package sqlstore

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type documentRow struct {
	ID        string `db:"id"`
	UserID    string `db:"user_id"`
	FileID    string `db:"file_id"`
	Type      string `db:"doc_type"`
	Number    string `db:"doc_number"`
	Expire    string `db:"doc_expire"`
	Issue     string `db:"doc_issue"`
	Metadata  string `db:"metadata"`
	State     string `db:"state"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

const documentCols = `id, user_id, file_id, doc_type, doc_number, doc_expire, doc_issue, metadata, state, created_at, updated_at`

func (r documentRow) document() store.Document {
	return store.Document{ID: r.ID, UserID: r.UserID, FileID: r.FileID, Type: r.Type, Number: r.Number,
		Expire: r.Expire, Issue: r.Issue, Metadata: r.Metadata, State: r.State,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
}

func documentsOf(rows []documentRow) []store.Document {
	out := make([]store.Document, len(rows))
	for i, r := range rows {
		out[i] = r.document()
	}
	return out
}

// CreateDocuments implements store.Documents.
func (s *Store) CreateDocuments(ctx context.Context, docs []store.Document, files []store.File, max int) error {
	if len(docs) == 0 || len(docs) != len(files) {
		return errors.New("sqlstore: create documents: want one file per document")
	}
	userID := docs[0].UserID
	now := s.stamp()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := countUnderCap(ctx, tx, max, len(docs),
			`SELECT COUNT(*) FROM documents WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for i, d := range docs {
			f := files[i]
			if d.UserID != userID || f.UserID != userID || d.FileID != f.ID {
				return errors.New("sqlstore: create documents: documents and files of one user, in step")
			}
			if f.Created.IsZero() {
				f.Created = now
			}
			if d.Created.IsZero() {
				d.Created = now
			}
			if d.Updated.IsZero() {
				d.Updated = d.Created
			}
			if err := insertFile(ctx, tx, f); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO documents (`+documentCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				d.ID, d.UserID, d.FileID, d.Type, d.Number, d.Expire, d.Issue, d.Metadata, d.State,
				micros(d.Created), micros(d.Updated)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("create documents", err)
}

// UserDocuments implements store.Documents.
func (s *Store) UserDocuments(ctx context.Context, userID string) ([]store.Document, error) {
	var rows []documentRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+documentCols+` FROM documents
		WHERE user_id = ? ORDER BY created_at, id`), userID); err != nil {
		return nil, wrap("user documents", err)
	}
	return documentsOf(rows), nil
}

// Document implements store.Documents.
func (s *Store) Document(ctx context.Context, id string) (store.Document, error) {
	var r documentRow
	if err := s.ro.GetContext(ctx, &r, s.ro.Rebind(`SELECT `+documentCols+` FROM documents WHERE id = ?`), id); err != nil {
		return store.Document{}, wrap("document", err)
	}
	return r.document(), nil
}

// PendingDocuments implements store.Documents.
func (s *Store) PendingDocuments(ctx context.Context, limit, offset int) ([]store.Document, error) {
	if limit <= 0 || offset < 0 {
		return nil, errors.New("sqlstore: pending documents: limit must be positive, offset not negative")
	}
	var rows []documentRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+documentCols+` FROM documents
		WHERE state = ? ORDER BY created_at, id LIMIT ? OFFSET ?`), store.DocumentPending, limit, offset); err != nil {
		return nil, wrap("pending documents", err)
	}
	return documentsOf(rows), nil
}

// SetDocumentState implements store.Documents.
func (s *Store) SetDocumentState(ctx context.Context, id, state string) (store.Document, error) {
	var r documentRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE documents SET state = ?, updated_at = ? WHERE id = ?`),
			state, micros(s.stamp()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+documentCols+` FROM documents WHERE id = ?`), id)
	})
	if err != nil {
		return store.Document{}, wrap("set document state", err)
	}
	return r.document(), nil
}

type dataStorageRow struct {
	ID        string `db:"id"`
	UserID    string `db:"user_id"`
	Title     string `db:"title"`
	TitleNorm string `db:"title_norm"`
	Data      string `db:"data"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

const dataStorageCols = `id, user_id, title, title_norm, data, created_at, updated_at`

// CreateDataStorage implements store.DataStorages.
func (s *Store) CreateDataStorage(ctx context.Context, d store.DataStorage) error {
	if d.Created.IsZero() {
		d.Created = s.stamp()
	}
	if d.Updated.IsZero() {
		d.Updated = d.Created
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, d.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO data_storages (`+dataStorageCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			d.ID, d.UserID, d.Title, d.TitleNorm, d.Data, micros(d.Created), micros(d.Updated))
		return err
	})
	return wrap("create data storage", err)
}

// UserDataStorages implements store.DataStorages.
func (s *Store) UserDataStorages(ctx context.Context, userID string) ([]store.DataStorage, error) {
	var rows []dataStorageRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+dataStorageCols+` FROM data_storages
		WHERE user_id = ? ORDER BY created_at, id`), userID); err != nil {
		return nil, wrap("user data storages", err)
	}
	out := make([]store.DataStorage, len(rows))
	for i, r := range rows {
		out[i] = store.DataStorage{ID: r.ID, UserID: r.UserID, Title: r.Title, TitleNorm: r.TitleNorm, Data: r.Data,
			Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
	}
	return out, nil
}

// DeleteDataStorage implements store.DataStorages.
func (s *Store) DeleteDataStorage(ctx context.Context, userID, titleNorm string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM data_storages WHERE user_id = ? AND title_norm = ?`), userID, titleNorm)
	if err != nil {
		return wrap("delete data storage", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("delete data storage", err)
	} else if n == 0 {
		return wrap("delete data storage", store.ErrNotFound)
	}
	return nil
}
