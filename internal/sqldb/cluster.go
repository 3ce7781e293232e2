package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// ClusterService implements purser.ClusterService.
type ClusterService struct{ db *DB }

// NewClusterService returns the cluster service over db.
func NewClusterService(db *DB) *ClusterService { return &ClusterService{db: db} }

var _ purser.ClusterStore = (*ClusterService)(nil)

var clusterColumns = columns{plain: map[string]string{"_id": "name", "name": "name", "kind": "kind", "_created": "created_at"},
	fields: purser.ClusterFields,
}

const clusterSelect = "name, kind, description, server, credentials, reachable, k8s_version, last_error, checked_at, version, created_at, updated_at, " +
	"deployers, region, ecs_cluster, stack_settings"

type clusterCreds struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	CA         string `json:"ca,omitempty"`
	Token      string `json:"token,omitempty"`
	clusterECS
}

type clusterRow struct {
	purser.Cluster
	creds, deployers string
	settings         string
	checked          *int64
	created, updated int64
}

func scanCluster(r Row) (*clusterRow, error) {
	var c clusterRow
	err := r.Scan(&c.Name, &c.Kind, &c.Description, &c.Server, &c.creds, &c.Reachable, &c.Version, &c.LastError, &c.checked,
		&c.Meta.Version, &c.created, &c.updated, &c.deployers, &c.Region, &c.ECSCluster, &c.settings)
	c.ID = c.Name
	if err == nil {
		err = json.Unmarshal([]byte(c.deployers), &c.Deployers)
	}
	if err == nil {
		var st stackSettings
		err = json.Unmarshal([]byte(c.settings), &st)
		c.StackNamespace, c.DriftMode, c.Healthy = st.Namespace, purser.DriftMode(st.DriftMode), time.Duration(st.HealthySeconds)*time.Second
	}
	return &c, err
}

// stackSettings are a cluster's stack settings as stored: JSON.
type stackSettings struct {
	Namespace      string `json:"namespace,omitempty"`
	DriftMode      string `json:"drift_mode,omitempty"`
	HealthySeconds int64  `json:"healthy_seconds,omitempty"`
}

func settingsJSON(c *purser.Cluster) string {
	b, _ := json.Marshal(stackSettings{c.StackNamespace, string(c.DriftMode), int64(c.Healthy / time.Second)})
	return string(b)
}

// deployersJSON is a cluster's deployers as stored: a JSON list, never null.
func deployersJSON(c *purser.Cluster) string {
	if len(c.Deployers) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(c.Deployers)
	return string(b)
}

// withoutCredentials clears what of c is sealed: it is never returned
// but to drivers.
func withoutCredentials(c *purser.Cluster) *purser.Cluster {
	c.Kubeconfig, c.CA, c.Token = "", "", ""
	c.Endpoint, c.AccessKeyID, c.SecretAccessKey, c.RoleARN = "", "", "", ""
	return c
}

// checkDeployers refuses deployers naming users or roles that do not
// exist (purser.CheckDeployersExist).
func (db *DB) checkDeployers(ctx context.Context, ds []string) error {
	known := map[string]bool{}
	for _, d := range ds {
		kind, name, ok := purser.ParseDeployer(d)
		if !ok {
			continue
		}
		query := "SELECT COUNT(*) FROM users WHERE username = ?"
		if kind == purser.DeployerRole {
			query = "SELECT COUNT(*) FROM roles WHERE role = ?"
		}
		var n int
		if err := db.Read.QueryRow(ctx, query, name).Scan(&n); err != nil {
			return fmt.Errorf("deployer %s: %w", d, err)
		}
		known[d] = n > 0
	}
	return purser.CheckDeployersExist(ds, known)
}

// domain returns the cluster without its credentials.
func (r *clusterRow) domain() *purser.Cluster {
	c := r.Cluster
	c.CheckedAt, c.Created, c.Updated = fromMicrosPtr(r.checked), fromMicros(r.created), fromMicros(r.updated)
	return &c
}

// withCredentials returns the cluster with its credentials opened.
func (db *DB) withCredentials(r *clusterRow) (*purser.Cluster, error) {
	c := r.domain()
	plain, err := db.Sealer.Open(r.creds)
	if err != nil {
		return nil, fmt.Errorf("cluster %s credentials: %w", c.Name, err)
	}
	var cr clusterCreds
	if err := json.Unmarshal([]byte(plain), &cr); err != nil {
		return nil, err
	}
	c.Kubeconfig, c.CA, c.Token = cr.Kubeconfig, cr.CA, cr.Token
	cr.clusterECS.open(c)
	return c, nil
}

// ClusterCredentials returns a cluster with its credentials, for drivers
// (never for the API).
func (db *DB) ClusterCredentials(ctx context.Context, name string) (*purser.Cluster, error) {
	r, err := scanCluster(db.Read.QueryRow(ctx, "SELECT "+clusterSelect+" FROM clusters WHERE name = ?", name))
	if err != nil {
		return nil, db.translate(err, "cluster "+name)
	}
	return db.withCredentials(r)
}

// FindClusterByName returns a cluster, without credentials.
func (s *ClusterService) FindClusterByName(ctx context.Context, name string) (*purser.Cluster, error) {
	if err := purser.Authorize(ctx, purser.ActionClusterRead, ""); err != nil {
		return nil, err
	}
	r, err := scanCluster(s.db.Read.QueryRow(ctx, "SELECT "+clusterSelect+" FROM clusters WHERE name = ?", name))
	if err != nil {
		return nil, s.db.translate(err, "cluster "+name)
	}
	return r.domain(), nil
}

// FindClusters lists clusters, without credentials.
func (s *ClusterService) FindClusters(ctx context.Context, q purser.Query) ([]*purser.Cluster, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionClusterRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := clusterColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "name"}}
	}
	return list(ctx, s.db, listSpec[clusterRow, purser.Cluster]{
		from: "clusters", selectCols: clusterSelect, where: where,
		orderBy: clusterColumns.orderBy(q.Sort, "name"), query: q, scan: scanCluster, domain: (*clusterRow).domain,
	})
}

// CheckNewCluster authorizes and validates a cluster about to be
// registered, before anything is probed.
func (s *ClusterService) CheckNewCluster(ctx context.Context, c *purser.Cluster) error {
	if err := purser.Authorize(ctx, purser.ActionClusterWrite, ""); err != nil {
		return err
	}
	if c.Kind == "" {
		c.Kind = purser.ClusterKubernetes
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.db.checkDeployers(ctx, c.Deployers); err != nil {
		return err
	}
	switch {
	case c.Simulated():
		return nil
	case c.Kind == purser.ClusterECS:
		c.Server = c.ECSServer()
		return nil
	case s.db.ValidateCluster != nil:
		return s.db.ValidateCluster(c)
	case c.Kubeconfig != "":
		return purser.Errorf(purser.EUNAVAILABLE, "this server cannot check kubeconfigs; give a server and a token")
	}
	return nil
}

// CreateCluster registers a cluster and seals its credentials, with the
// check its caller recorded on it.
func (s *ClusterService) CreateCluster(ctx context.Context, c *purser.Cluster) error {
	if err := s.CheckNewCluster(ctx, c); err != nil {
		return err
	}
	creds, _ := json.Marshal(clusterCreds{c.Kubeconfig, c.CA, c.Token, sealECS(c)})
	now := s.db.now()
	c.ID, c.Created, c.Updated, c.Meta.Version = c.Name, now, now, 1
	return s.db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO clusters ("+clusterSelect+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			c.Name, c.Kind, c.Description, c.Server, s.db.Sealer.Seal(string(creds)), c.Reachable, c.Version, c.LastError,
			microsPtr(c.CheckedAt), c.Meta.Version, micros(now), micros(now), deployersJSON(c), c.Region, c.ECSCluster, settingsJSON(c))
		if err != nil {
			if s.db.UniqueViolation(err) {
				return &purser.Error{Code: purser.ECONFLICT, Message: "cluster " + c.Name + " already exists",
					Fields: []purser.FieldError{{Field: "name", Rule: "unique", Message: "is taken"}}}
			}
			return fmt.Errorf("insert cluster: %w", err)
		}
		return s.db.audit(ctx, tx, "cluster.create", "cluster", c.Name, nil, map[string]any{"kind": c.Kind, "server": c.Server,
			"reachable": c.Reachable, "credentials": c.CredentialKind(), "deployers": c.Deployers}, "")
	})
}

// ClusterToCheck returns a cluster with its credentials, to probe.
func (s *ClusterService) ClusterToCheck(ctx context.Context, name string) (*purser.Cluster, error) {
	if err := purser.Authorize(ctx, purser.ActionClusterRead, ""); err != nil {
		return nil, err
	}
	return s.db.ClusterCredentials(ctx, name)
}

// RecordClusterCheck stores a cluster's reachability and version (and
// the server a kubeconfig named), and returns it without credentials.
func (s *ClusterService) RecordClusterCheck(ctx context.Context, c *purser.Cluster) (*purser.Cluster, error) {
	err := s.db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "UPDATE clusters SET reachable = ?, k8s_version = ?, last_error = ?, checked_at = ?, server = ? WHERE name = ?",
			c.Reachable, c.Version, c.LastError, microsPtr(c.CheckedAt), c.Server, c.Name)
		return err
	})
	return withoutCredentials(c), err
}

// DeleteCluster removes a cluster, unless an environment lives on it.
func (s *ClusterService) DeleteCluster(ctx context.Context, name string) error {
	if err := purser.Authorize(ctx, purser.ActionClusterWrite, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, `SELECT r.id, r.resource_parameters, t.spec FROM requests r JOIN templates t ON t.id = r.resource_template
			WHERE t.driver = ? AND r.status NOT IN (?, ?, ?, ?)`, "kubernetes-namespace",
			purser.StatusRequested, purser.StatusRevoked, purser.StatusRejected, purser.StatusPurged)
		if err != nil {
			return err
		}
		var users []string
		for rows.Next() {
			var id, params, spec string
			if err := rows.Scan(&id, &params, &spec); err != nil {
				rows.Close()
				return err
			}
			if clusterOf(params, spec) == name {
				users = append(users, id)
			}
		}
		rows.Close()
		if err := purser.CheckClusterUnused(name, users); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, "DELETE FROM clusters WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n == 0 {
			return purser.Errorf(purser.ENOTFOUND, "cluster %s not found", name)
		}
		return s.db.audit(ctx, tx, "cluster.delete", "cluster", name, nil, nil, "")
	})
}

// clusterOf finds the cluster a kubernetes-namespace request lives on
// (purser.RequestCluster), from its stored parameters and template spec.
func clusterOf(params, spec string) string {
	var p map[string]any
	_ = json.Unmarshal([]byte(params), &p)
	var sp templateSpec
	_ = json.Unmarshal([]byte(spec), &sp)
	return purser.RequestCluster(p, sp.Config)
}

// ClusterToUpdate returns a cluster with its credentials (before) and
// what it becomes with upd (after), authorized and validated, new
// credentials checked as at registration; nothing is written.
func (s *ClusterService) ClusterToUpdate(ctx context.Context, name string, upd purser.ClusterUpdate, ifMatch string) (before, after *purser.Cluster, err error) {
	if err := purser.Authorize(ctx, purser.ActionClusterWrite, ""); err != nil {
		return nil, nil, err
	}
	if before, err = s.db.ClusterCredentials(ctx, name); err != nil {
		return nil, nil, err
	}
	if err := checkETag(ifMatch, before.Meta, "cluster "+name); err != nil {
		return nil, nil, err
	}
	if after, err = before.Update(upd); err != nil {
		return nil, nil, err
	}
	if upd.Deployers != nil {
		if err := s.db.checkDeployers(ctx, after.Deployers); err != nil {
			return nil, nil, err
		}
	}
	if upd.NewCredentials() && after.Kind == purser.ClusterKubernetes {
		switch {
		case s.db.ValidateCluster != nil:
			err = s.db.ValidateCluster(after)
		case after.Kubeconfig != "":
			err = purser.Errorf(purser.EUNAVAILABLE, "this server cannot check kubeconfigs; give a server and a token")
		}
	}
	return before, after, err
}

// SaveCluster writes after, the update of before, unless the cluster
// changed since before was read, and returns it without credentials.
func (s *ClusterService) SaveCluster(ctx context.Context, before, after *purser.Cluster) (*purser.Cluster, error) {
	if err := purser.Authorize(ctx, purser.ActionClusterWrite, ""); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx Tx) error { return s.db.commit(ctx, tx, before.CommitUpdate(after, s.db.now())) })
	if err != nil {
		return nil, err
	}
	out := *after
	return withoutCredentials(&out), nil
}

// saveCluster writes a cluster, its credentials sealed, checking its version.
func (db *DB) saveCluster(ctx context.Context, tx Tx, c *purser.Cluster) error {
	creds, _ := json.Marshal(clusterCreds{c.Kubeconfig, c.CA, c.Token, sealECS(c)})
	n, err := tx.Exec(ctx, `UPDATE clusters SET description = ?, server = ?, credentials = ?, reachable = ?, k8s_version = ?, last_error = ?,
		checked_at = ?, version = version + 1, updated_at = ?, deployers = ?, region = ?, ecs_cluster = ?, stack_settings = ? WHERE name = ? AND version = ?`,
		c.Description, c.Server, db.Sealer.Seal(string(creds)), c.Reachable, c.Version, c.LastError, microsPtr(c.CheckedAt),
		micros(c.Updated), deployersJSON(c), c.Region, c.ECSCluster, settingsJSON(c), c.Name, c.Meta.Version)
	if err != nil {
		return fmt.Errorf("update cluster: %w", err)
	}
	if n == 0 {
		return purser.Errorf(purser.EPRECONDITION, "cluster %s changed while updating; read it again", c.Name)
	}
	c.Meta.Version++
	return nil
}
