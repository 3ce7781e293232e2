package awsclient

import (
	"regexp"
	"strings"
)

// ECRRepository is a repository of an Amazon ECR private registry, parsed
// from an image reference.
type ECRRepository struct {
	Account, Region, Name string
}

// ecrHostRE matches the hosts of ECR private registries:
// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn].
var ecrHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(.+)$`)

// ParseECR parses a repository reference (no tag or digest); ok is false
// when it is not in an ECR private registry.
func ParseECR(repo string) (r ECRRepository, ok bool) {
	m := ecrHostRE.FindStringSubmatch(repo)
	if m == nil {
		return ECRRepository{}, false
	}
	return ECRRepository{Account: m[1], Region: m[2], Name: m[3]}, true
}

// SplitImage splits an image reference into its repository and its tag or
// digest (a digest starts with "sha256:"); an image naming neither has the
// tag "latest", as a container runtime reads it.
func SplitImage(image string) (repo, ref string) {
	if i := strings.LastIndex(image, "@"); i >= 0 {
		return image[:i], image[i+1:]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i], image[i+1:]
	}
	return image, "latest"
}
