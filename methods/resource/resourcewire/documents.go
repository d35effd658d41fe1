// Package resourcewire holds seed 002's (Barong 2.4's) resource.* params
// and results. It imports only the standard library so that an SDK can name
// these types without linking the server; methods/resource serves them. The
// rpc tags are the server's limits, read by rpc when it decodes params.
package resourcewire

import (
	"encoding/json"
	"time"
)

// DocumentsCreateParams is POST /resource/documents. Upload is one or
// more files, each standard base64 (PNG, JPEG or PDF by its magic bytes):
// one document is created per file, as Barong does. Metadata is Barong's
// "any key:value pairs" hash, a flat JSON object.
type DocumentsCreateParams struct {
	DocType   string          `json:"doc_type" rpc:"required,max=64"`
	DocNumber string          `json:"doc_number" rpc:"required,max=128"`
	DocExpire string          `json:"doc_expire" rpc:"max=10"`
	DocIssue  string          `json:"doc_issue" rpc:"max=10"`
	Upload    []string        `json:"upload" rpc:"required,max=67108864"`
	Metadata  json.RawMessage `json:"metadata"`
}

// Empty is the params of the methods that take none.
type Empty struct{}

// Upload is Barong's upload member: where the file is served (the
// gateway's own path, with the owner's credentials; never a bucket URL).
type Upload struct {
	URL string `json:"url"`
}

// Document is one document as resource.documents.list shows it: Barong's
// upload, doc_type, doc_number, doc_expire, plus doc_issue, metadata (a
// JSON object or null), state (pending, verified, rejected) and times.
type Document struct {
	Upload    Upload          `json:"upload"`
	DocType   string          `json:"doc_type"`
	DocNumber string          `json:"doc_number"`
	DocExpire *string         `json:"doc_expire"`
	DocIssue  *string         `json:"doc_issue"`
	Metadata  json.RawMessage `json:"metadata"`
	State     string          `json:"state"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}
