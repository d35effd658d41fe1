package resource

import (
	"net/http"

	"partnergate/core/documents"
	"partnergate/core/fault"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
)

// DataStorage is resource.data_storage.create.
type DataStorage struct {
	Documents *documents.Service
}

// Methods declares the methods for the registry.
func (s *DataStorage) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.data_storage.create", Go: "Create", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Records a titled JSON document (title unique per user, data at most 5120 bytes of JSON)."},
	}
}

var dataStorageKeys = map[fault.Code]string{
	fault.DataStorageTaken: "title.taken",
}

var dataStorageFieldKeys = map[string]string{
	"title": "title.inclusion",
	"data":  "data.invalid",
}

// Create is resource.data_storage.create.
func (s *DataStorage) Create(r *http.Request, p *resourcewire.DataStorageCreateParams, res *resourcewire.DataStorage) error {
	ctx := r.Context()
	d, err := s.Documents.CreateDataStorage(ctx, rpc.CallerFrom(ctx).UserID, p.Title, p.Data)
	if err != nil {
		return fieldKey(barong.Err(err, dataStorageKeys), dataStorageFieldKeys)
	}
	*res = resourcewire.DataStorage{Title: d.Title, Data: d.Data, CreatedAt: d.Created.UTC(), UpdatedAt: d.Updated.UTC()}
	return nil
}
