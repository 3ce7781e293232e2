package sqldb

import "github.com/purserhq/purser"

// clusterECS is what an ecs cluster keeps in its sealed credentials: its
// access key or role, and where it is (the region and ECS cluster also
// have columns, which the API shows).
type clusterECS struct {
	Region          string `json:"region,omitempty"`
	ECSCluster      string `json:"ecs_cluster,omitempty"`
	Endpoint        string `json:"endpoint,omitempty"`
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	RoleARN         string `json:"role_arn,omitempty"`
}

func sealECS(c *purser.Cluster) clusterECS {
	return clusterECS{c.Region, c.ECSCluster, c.Endpoint, c.AccessKeyID, c.SecretAccessKey, c.RoleARN}
}

func (e clusterECS) open(c *purser.Cluster) {
	c.Region, c.ECSCluster, c.Endpoint, c.AccessKeyID, c.SecretAccessKey, c.RoleARN = e.Region, e.ECSCluster, e.Endpoint, e.AccessKeyID, e.SecretAccessKey, e.RoleARN
}
