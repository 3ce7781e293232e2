package purser

import (
	"net/url"
	"regexp"
)

var (
	awsRegionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	ecsClusterRE = boundedPattern(`^[A-Za-z0-9_-]+$`, 1, 255)
	accessKeyRE  = boundedPattern(`^[A-Z0-9]+$`, 16, 128)
	// The role's path and name: 1 to 512 bytes after the fixed part.
	roleARNRE = roleARNPattern{boundedPattern(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\w+=,.@/-]+)$`, 0, 2048)}
)

// roleARNPattern bounds the part after "role/" to 512 bytes, as IAM does.
type roleARNPattern struct{ pattern }

func (p roleARNPattern) MatchString(s string) bool {
	m := p.re.FindStringSubmatch(s)
	return len(s) <= p.max && m != nil && len(m[1]) <= 512
}

// hasECSFields reports whether any field only an ecs cluster has is set.
func (c *Cluster) hasECSFields() bool {
	return c.Region != "" || c.ECSCluster != "" || c.Endpoint != "" || c.AccessKeyID != "" || c.SecretAccessKey != "" || c.RoleARN != ""
}

// validateECS checks an ecs cluster's fields: a region, the ECS cluster's
// name, an optional http(s) endpoint, and an access key (id and secret)
// or a role ARN, not both; no Kubernetes credentials.
func (c *Cluster) validateECS() []FieldError {
	var fe []FieldError
	if c.Kubeconfig != "" || c.Token != "" || c.CA != "" {
		fe = append(fe, FieldError{"kubeconfig", "absent", "an ecs cluster takes an access key or a role, not Kubernetes credentials"})
	}
	if !awsRegionRE.MatchString(c.Region) {
		fe = append(fe, FieldError{"region", "pattern", "must be an AWS region, such as eu-west-1"})
	}
	if !ecsClusterRE.MatchString(c.ECSCluster) {
		fe = append(fe, FieldError{"ecs_cluster", "pattern", "must be the ECS cluster's name: letters, digits, '-' and '_', at most 255"})
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe = append(fe, FieldError{"endpoint", "format", "must be an http(s) URL"})
		}
	}
	keyed := c.AccessKeyID != "" || c.SecretAccessKey != ""
	switch {
	case keyed == (c.RoleARN != ""):
		fe = append(fe, FieldError{"access_key_id", "one_of", "give an access key (id and secret), or a role ARN"})
	case keyed && !accessKeyRE.MatchString(c.AccessKeyID):
		fe = append(fe, FieldError{"access_key_id", "pattern", "must be an AWS access key id: capital letters and digits, 16 to 128"})
	case keyed && c.SecretAccessKey == "":
		fe = append(fe, FieldError{"secret_access_key", "required", "an access key id needs its secret"})
	case !keyed && !roleARNRE.MatchString(c.RoleARN):
		fe = append(fe, FieldError{"role_arn", "pattern", "must be an IAM role ARN, such as arn:aws:iam::123456789012:role/purser"})
	}
	return fe
}

// ECSServer is the URL an ecs cluster is reached at: its endpoint, else
// its region's.
func (c *Cluster) ECSServer() string {
	if c.Endpoint != "" {
		return c.Endpoint
	}
	return "https://ecs." + c.Region + ".amazonaws.com"
}

// updateECS applies an ecs cluster's new placement or credentials: a new
// access key or role replaces the old credentials whole, and the last
// check, of the old ones, is forgotten.
func (c *Cluster) updateECS(u ECSUpdate) {
	for _, f := range []struct{ src, dst *string }{{u.Region, &c.Region}, {u.ECSCluster, &c.ECSCluster}, {u.Endpoint, &c.Endpoint}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	switch {
	case u.RoleARN != nil:
		c.AccessKeyID, c.SecretAccessKey, c.RoleARN = "", "", *u.RoleARN
		if u.AccessKeyID != nil || u.SecretAccessKey != nil {
			c.AccessKeyID = "both" // refused by validateECS: a key or a role, not both
		}
	case u.AccessKeyID != nil:
		// A new key id needs its secret; a secret alone rotates the key.
		c.AccessKeyID, c.SecretAccessKey, c.RoleARN = *u.AccessKeyID, "", ""
		if u.SecretAccessKey != nil {
			c.SecretAccessKey = *u.SecretAccessKey
		}
	case u.SecretAccessKey != nil:
		c.SecretAccessKey, c.RoleARN = *u.SecretAccessKey, ""
	}
	c.Server = c.ECSServer()
	c.Reachable, c.Version, c.LastError, c.CheckedAt = false, "", "", nil
}

func invalidOrNil(fe []FieldError) error {
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}
