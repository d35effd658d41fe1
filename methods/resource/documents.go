package resource

import (
	"encoding/json"
	"net/http"

	"partnergate/core/documents"
	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
	"partnergate/store"
)

// Documents is resource.documents.*: the user's KYC documents.
type Documents struct {
	Documents *documents.Service
}

// Methods declares the methods for the registry.
func (s *Documents) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.documents.list", Go: "List", Access: rpc.SessionUser, RateClass: "default", Positional: []string{},
			Doc: "Lists the user's documents (upload URL, doc_type, doc_number, doc_expire, state pending/verified/rejected)."},
		{Name: "resource.documents.create", Go: "Create", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Uploads identity documents: doc_type, doc_number, doc_expire, doc_issue, metadata and one or more files (base64 PNG, JPEG or PDF); one pending document per file."},
	}
}

// documentKeys are Barong's error keys.
var documentKeys = map[fault.Code]string{
	fault.DocumentLimitReached:   "resource.documents.limit_reached",
	fault.DocumentLimitWouldPass: "resource.documents.limit_will_be_reached",
	fault.DocumentExpired:        "resource.documents.already_expired",
}

// documentFieldKeys are Barong's validation keys, per field.
var documentFieldKeys = map[string]string{
	"doc_type":   "doc_type.inclusion",
	"doc_number": "doc_number.invalid",
	"doc_expire": "resource.documents.expire_not_a_date",
	"doc_issue":  "doc_issue.invalid",
	"metadata":   "metadata.invalid",
	"upload":     "upload.blank",
}

// fieldKey gives an Invalid fault Barong's key for its field.
func fieldKey(err error, keys map[string]string) error {
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Invalid {
		return err
	}
	for f := range fe.Fields {
		if k, ok := keys[f]; ok {
			out := *fe
			out.Message = k
			return &out
		}
	}
	return err
}

// Create is resource.documents.create.
func (s *Documents) Create(r *http.Request, p *resourcewire.DocumentsCreateParams, res *[]resourcewire.Document) error {
	ctx := r.Context()
	ds, err := s.Documents.Create(ctx, rpc.CallerFrom(ctx).UserID, documents.New{
		Type: p.DocType, Number: p.DocNumber, Expire: p.DocExpire, Issue: p.DocIssue, Metadata: p.Metadata, Uploads: p.Upload,
	})
	if err != nil {
		return fieldKey(barong.Err(err, documentKeys), documentFieldKeys)
	}
	*res = presentDocuments(ds)
	return nil
}

// List is resource.documents.list.
func (s *Documents) List(r *http.Request, _ *resourcewire.Empty, res *[]resourcewire.Document) error {
	ctx := r.Context()
	ds, err := s.Documents.List(ctx, rpc.CallerFrom(ctx).UserID)
	if err != nil {
		return err
	}
	*res = presentDocuments(ds)
	return nil
}

func presentDocuments(ds []store.Document) []resourcewire.Document {
	out := make([]resourcewire.Document, len(ds))
	for i, d := range ds {
		out[i] = resourcewire.Document{Upload: resourcewire.Upload{URL: files.Path(d.FileID)}, DocType: d.Type, DocNumber: d.Number,
			DocExpire: optional(d.Expire), DocIssue: optional(d.Issue), Metadata: json.RawMessage("null"), State: d.State,
			CreatedAt: d.Created.UTC(), UpdatedAt: d.Updated.UTC()}
		if d.Metadata != "" {
			out[i].Metadata = json.RawMessage(d.Metadata)
		}
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
