package sqldb

import "github.com/riverqueue/river"

// unique keeps one job per request and kind waiting or running at a time.
// The job argument types are the domain's (purser.ProvisionArgs...).
var unique = &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
