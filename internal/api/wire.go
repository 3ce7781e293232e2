package api

import (
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser/client"
)

// The API's documents and bodies are the public client's types: one
// definition serves both ends of the wire, so the two cannot drift apart.
// The aliases keep the handlers' short names.
type (
	// Meta are the fields every document carries.
	Meta = client.Meta
	link = client.Link
	// listMeta is a collection's paging.
	listMeta = client.ListMeta
	// collection is the envelope of every list.
	collection[T any] = client.List[T]

	userDoc   = client.User
	userBody  = client.UserCreate
	userPatch = client.UserPatch
	roleDoc   = client.Role

	footprintNums   = client.Footprint
	quotaCheckDoc   = client.QuotaCheck
	quotaFitDoc     = client.QuotaFit
	requestDoc      = client.Request
	extensionDoc    = client.Extension
	notificationDoc = client.Notification
	eventDoc        = client.Event
	logLineDoc      = client.LogLine
	clusterDoc      = client.Cluster

	roleBody    = client.RoleCreate
	tokenBody   = client.TokenCreate
	clusterBody = client.ClusterCreate
	reviewBody  = client.Review
)

// schemaNames are the OpenAPI schema names of the client's types: the names
// the API's own types had before the two shared them, so that the document
// did not change.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[client.User]():       "UserDoc",
	reflect.TypeFor[client.UserCreate](): "UserBody",
	reflect.TypeFor[client.UserPatch]():  "UserPatch",
	reflect.TypeFor[client.Role]():       "RoleDoc",

	reflect.TypeFor[client.Footprint]():    "FootprintNums",
	reflect.TypeFor[client.QuotaCheck]():   "QuotaCheckDoc",
	reflect.TypeFor[client.QuotaFit]():     "QuotaFitDoc",
	reflect.TypeFor[client.Request]():      "RequestDoc",
	reflect.TypeFor[client.Extension]():    "ExtensionDoc",
	reflect.TypeFor[client.Notification](): "NotificationDoc",
	reflect.TypeFor[client.Event]():        "EventDoc",
	reflect.TypeFor[client.LogLine]():      "LogLineDoc",
	reflect.TypeFor[client.Cluster]():      "ClusterDoc",

	// These bodies were anonymous structs, named after their operation.
	reflect.TypeFor[client.RoleCreate]():    "Create-roleRequest",
	reflect.TypeFor[client.TokenCreate]():   "Create-tokenRequest",
	reflect.TypeFor[client.ClusterCreate](): "Create-clusterRequest",
	reflect.TypeFor[client.Review]():        "ReviewBody",
}

// schemaName names schemas as huma does, but by schemaNames for the
// client's types, and a client.List[T] as Collection and T's name.
func schemaName(t reflect.Type, hint string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := schemaNames[t]; ok {
		return name
	}
	if t.PkgPath() == reflect.TypeFor[client.Meta]().PkgPath() && strings.HasPrefix(t.Name(), "List[") {
		if items, ok := t.FieldByName("Items"); ok {
			return "Collection" + schemaName(items.Type.Elem(), hint)
		}
	}
	return huma.DefaultSchemaNamer(t, hint)
}
