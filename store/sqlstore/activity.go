package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"partnergate/store"
)

type activityRow struct {
	ID        int64   `db:"id"`
	UserID    *string `db:"user_id"`
	TargetID  string  `db:"target_id"`
	Actor     string  `db:"actor"`
	Category  string  `db:"category"`
	Topic     string  `db:"topic"`
	Action    string  `db:"action"`
	Result    string  `db:"result"`
	IP        string  `db:"ip"`
	Country   string  `db:"country"`
	UserAgent string  `db:"user_agent"`
	Data      string  `db:"data"`
	CreatedAt int64   `db:"created_at"`
}

const activityCols = `user_id, target_id, actor, category, topic, action, result, ip, country, user_agent, data, created_at`

// AddActivity implements store.Activities.
func (s *Store) AddActivity(ctx context.Context, a store.Activity) (store.Activity, error) {
	if a.Category == "" || a.Topic == "" || a.Action == "" || a.Result == "" {
		return store.Activity{}, errors.New("sqlstore: add activity: empty category, topic, action or result")
	}
	if a.Created.IsZero() {
		a.Created = s.stamp()
	}
	if a.Data == "" {
		a.Data = "{}"
	}
	var uid *string
	if a.UserID != "" {
		uid = &a.UserID
	}
	err := s.rw.GetContext(ctx, &a.ID, s.rw.Rebind(`INSERT INTO activities (`+activityCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		uid, a.TargetID, a.Actor, a.Category, a.Topic, a.Action, a.Result, a.IP, a.Country, a.UserAgent, a.Data, micros(a.Created))
	if err != nil && isForeignKeyViolation(err) {
		return store.Activity{}, fmt.Errorf("sqlstore: add activity: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Activity{}, wrap("add activity", err)
	}
	a.Created = fromMicros(micros(a.Created))
	return a, nil
}

// Activities implements store.Activities.
func (s *Store) Activities(ctx context.Context, f store.ActivityFilter) ([]store.Activity, error) {
	if f.Limit < 1 || f.Limit > 1000 {
		return nil, fmt.Errorf("sqlstore: activities: limit %d outside 1..1000", f.Limit)
	}
	where, args := activityWhere(f)
	q := `SELECT id, ` + activityCols + ` FROM activities`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	var rows []activityRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(q), args...); err != nil {
		return nil, wrap("activities", err)
	}
	out := make([]store.Activity, len(rows))
	for i, r := range rows {
		out[i] = store.Activity{ID: r.ID, TargetID: r.TargetID, Actor: r.Actor, Category: r.Category,
			Topic: r.Topic, Action: r.Action, Result: r.Result, IP: r.IP, Country: r.Country,
			UserAgent: r.UserAgent, Data: r.Data, Created: fromMicros(r.CreatedAt)}
		if r.UserID != nil {
			out[i].UserID = *r.UserID
		}
	}
	return out, nil
}

// CountActivities implements store.Activities.
func (s *Store) CountActivities(ctx context.Context, f store.ActivityFilter) (int64, error) {
	f.Before = 0
	where, args := activityWhere(f)
	q := `SELECT COUNT(*) FROM activities`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	var n int64
	if err := s.ro.GetContext(ctx, &n, s.ro.Rebind(q), args...); err != nil {
		return 0, wrap("count activities", err)
	}
	return n, nil
}

func activityWhere(f store.ActivityFilter) ([]string, []any) {
	var (
		where []string
		args  []any
	)
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("user_id", f.UserID)
	eq("target_id", f.TargetID)
	eq("category", f.Category)
	eq("topic", f.Topic)
	eq("action", f.Action)
	eq("result", f.Result)
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, micros(f.Until))
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	return where, args
}
