package stackfile

import _ "embed"

// SeedExample is the stackfile of the desired-state seed's README,
// verbatim: the demo puts it on a simulated cluster, and the tests read
// it.
//
//go:embed testdata/seed.yaml
var SeedExample []byte
