package api

import (
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
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

	roleBody     = client.RoleCreate
	rolePatch    = client.RolePatch
	tokenBody    = client.TokenCreate
	clusterBody  = client.ClusterCreate
	clusterPatch = client.ClusterPatch
	reviewBody   = client.Review

	clusterSecretDoc  = client.ClusterSecret
	clusterSecretBody = client.ClusterSecretSet

	hostDoc              = client.Host
	hostRegistrationBody = client.HostRegistration
	hostRegisteredDoc    = client.HostRegistered
	hostPatchBody        = client.HostPatch
	hostMaintenanceBody  = client.HostMaintenance
	joinTokenDoc         = client.JoinToken
	joinTokenBody        = client.JoinTokenCreate
	joinTokenSecretDoc   = client.NewJoinToken
	poolDoc              = client.Pool
	poolBody             = client.PoolCreate
	poolCreatedDoc       = client.PoolCreated
	poolResizeBody       = client.PoolResize
	resizePlanDoc        = client.ResizePlan
	poolNodeBody         = client.PoolNode
	poolDrainBody        = client.PoolDrain
	poolHooksBody        = client.PoolHooks
	hookRunDoc           = client.HookRun
	hookRunsClaimedDoc   = client.HookRunsClaimed
	hookLogLinesBody     = client.HookLogLines
	hookRunFinishBody    = client.HookRunFinish
)

// schemaNames name every schema of the OpenAPI document deliberately: a
// noun for each document and body, so that generated clients read well and
// no name collides with the names generators give operations' own types
// (oapi-codegen calls run-expiry's answer RunExpiryResponse and create-user's
// body CreateUserJSONRequestBody). A type missing here fails
// TestSchemaNamesAreDeliberate.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[client.User]():       "User",
	reflect.TypeFor[client.UserCreate](): "UserCreate",
	reflect.TypeFor[client.UserPatch]():  "UserPatch",
	reflect.TypeFor[kubeconfigDoc]():     "Kubeconfig",
	reflect.TypeFor[client.Role]():       "Role",
	reflect.TypeFor[client.Link]():       "Link",
	reflect.TypeFor[client.ListMeta]():   "ListMeta",

	reflect.TypeFor[client.Footprint]():    "Footprint",
	reflect.TypeFor[client.QuotaCheck]():   "QuotaCheck",
	reflect.TypeFor[client.QuotaFit]():     "QuotaFit",
	reflect.TypeFor[client.Request]():      "ProvisionRequest",
	reflect.TypeFor[client.Extension]():    "ExtensionRequest",
	reflect.TypeFor[client.Notification](): "Notification",
	reflect.TypeFor[client.Event]():        "Event",
	reflect.TypeFor[client.LogLine]():      "LogLine",
	reflect.TypeFor[client.Cluster]():      "Cluster",

	reflect.TypeFor[client.RoleCreate]():    "RoleCreate",
	reflect.TypeFor[client.RolePatch]():     "RolePatch",
	reflect.TypeFor[client.ClusterPatch]():  "ClusterPatch",
	reflect.TypeFor[client.TokenCreate]():   "TokenCreate",
	reflect.TypeFor[client.ClusterCreate](): "ClusterCreate",
	reflect.TypeFor[client.Review]():        "Review",

	reflect.TypeFor[templateDoc]():      "Template",
	reflect.TypeFor[templateBody]():     "TemplateCreate",
	reflect.TypeFor[templatePatch]():    "TemplatePatch",
	reflect.TypeFor[footprintDoc]():     "FootprintExpressions",
	reflect.TypeFor[approvalDoc]():      "ApprovalPolicy",
	reflect.TypeFor[paramSpec]():        "Param",
	reflect.TypeFor[requestBody]():      "ProvisionRequestCreate",
	reflect.TypeFor[extensionBody]():    "ExtensionRequestCreate",
	reflect.TypeFor[seedReview]():       "SeedReview",
	reflect.TypeFor[seedReviewAnswer](): "SeedReviewResult",
	reflect.TypeFor[expirySweep]():      "ExpirySweep",
	reflect.TypeFor[quotaDoc]():         "Quota",
	reflect.TypeFor[quotaBody]():        "QuotaCreate",
	reflect.TypeFor[quotaPatch]():       "QuotaPatch",
	reflect.TypeFor[limitsDoc]():        "QuotaLimits",
	reflect.TypeFor[usageDoc]():         "QuotaUsage",
	reflect.TypeFor[usageNums]():        "Usage",
	reflect.TypeFor[tokenDoc]():         "Token",
	reflect.TypeFor[newTokenDocument](): "NewToken",
	reflect.TypeFor[preferencesDoc]():   "Preferences",
	reflect.TypeFor[preferencesPatch](): "PreferencesPatch",
	reflect.TypeFor[marked]():           "MarkedRead",
	reflect.TypeFor[health]():           "Health",
	reflect.TypeFor[checkResult]():      "HealthCheck",
	reflect.TypeFor[apiIndex]():         "APIIndex",
	reflect.TypeFor[huma.ErrorModel]():  "Problem",

	reflect.TypeFor[stackRevisionDoc]():   "StackRevision",
	reflect.TypeFor[stackExportDoc]():     "StackExport",
	reflect.TypeFor[stackRollbackBody]():  "StackRollback",
	reflect.TypeFor[stackPlanDoc]():       "StackPlan",
	reflect.TypeFor[stackDriftDoc]():      "StackDrift",
	reflect.TypeFor[planNote]():           "PlanNote",
	reflect.TypeFor[stackDiffDoc]():       "StackDiff",
	reflect.TypeFor[stackServiceDoc]():    "StackService",
	reflect.TypeFor[stackServiceBody]():   "StackServiceUpdate",
	reflect.TypeFor[imageTagDoc]():        "ImageTag",
	reflect.TypeFor[imageTagList]():       "ImageTagList",
	reflect.TypeFor[purser.ServicePlan](): "ServicePlan",
	reflect.TypeFor[purser.FieldChange](): "FieldChange",
	reflect.TypeFor[huma.ErrorDetail]():   "ProblemField",

	reflect.TypeFor[hostDoc]():              "Host",
	reflect.TypeFor[hostRegistrationBody](): "HostRegistration",
	reflect.TypeFor[hostRegisteredDoc]():    "HostRegistered",
	reflect.TypeFor[hostPatchBody]():        "HostPatch",
	reflect.TypeFor[hostMaintenanceBody]():  "HostMaintenance",
	reflect.TypeFor[joinTokenDoc]():         "JoinToken",
	reflect.TypeFor[joinTokenBody]():        "JoinTokenCreate",
	reflect.TypeFor[joinTokenSecretDoc]():   "NewJoinToken",
	reflect.TypeFor[poolDoc]():              "Pool",
	reflect.TypeFor[poolBody]():             "PoolCreate",
	reflect.TypeFor[poolCreatedDoc]():       "PoolCreated",
	reflect.TypeFor[client.PoolPlacement](): "PoolPlacement",
	reflect.TypeFor[client.PoolHost]():      "PoolHost",
	reflect.TypeFor[client.PoolSize]():      "PoolSize",
	reflect.TypeFor[poolResizeBody]():       "PoolResize",
	reflect.TypeFor[resizePlanDoc]():        "ResizePlan",
	reflect.TypeFor[poolNodeBody]():         "PoolNode",
	reflect.TypeFor[poolDrainBody]():        "PoolDrain",
	reflect.TypeFor[poolHooksBody]():        "PoolHooks",
	reflect.TypeFor[hookRunDoc]():           "HookRun",
	reflect.TypeFor[hookRunsClaimedDoc]():   "HookRunsClaimed",
	reflect.TypeFor[hookLogLinesBody]():     "HookLogLines",
	reflect.TypeFor[client.HookLogLine]():   "HookLogLine",
	reflect.TypeFor[hookRunFinishBody]():    "HookRunFinish",

	reflect.TypeFor[client.ClusterSecret]():    "ClusterSecret",
	reflect.TypeFor[client.ClusterSecretSet](): "ClusterSecretSet",
}

// schemaName names schemas by schemaNames, a client.List[T] as T's name
// and List, and any other type as huma does (which TestSchemaNamesAreDeliberate
// refuses).
func schemaName(t reflect.Type, hint string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := schemaNames[t]; ok {
		return name
	}
	if t.PkgPath() == reflect.TypeFor[client.Meta]().PkgPath() && strings.HasPrefix(t.Name(), "List[") {
		if items, ok := t.FieldByName("Items"); ok {
			return schemaName(items.Type.Elem(), hint) + "List"
		}
	}
	return huma.DefaultSchemaNamer(t, hint)
}
