// Package kubernetes is the kubernetes-namespace driver: an environment is
// a namespace on a registered cluster, with a ResourceQuota from the
// request's footprint, a LimitRange with defaults, a ServiceAccount bound
// to a ClusterRole (edit by default) in that namespace only, and a token
// from the TokenRequest API that expires with the environment, delivered
// as a kubeconfig. Objects are written with server-side apply under the
// field manager "purser", so provisioning twice converges.
//
// It talks to clusters through client-go's dynamic client with plain
// objects rather than its typed clientset: the typed clients register every
// API group's types and apply configurations, which made up about a third
// of the binary, for six kinds of object.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/purserhq/purser"
)

// Name is the driver's name in templates.
const Name = "kubernetes-namespace"

// Labels Purser puts on what it makes.
const (
	LabelRequest   = "purser.dev/request"
	LabelOwner     = "purser.dev/owner"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelExpires   = "purser.dev/expires" // Unix seconds: labels cannot hold a date
	fieldManager   = "purser"
	serviceAccount = "purser-env"
	minTokenTTL    = 10 * time.Minute
)

// Credentials returns a registered cluster with its credentials.
type Credentials func(ctx context.Context, name string) (*purser.Cluster, error)

// Driver provisions namespaces.
type Driver struct {
	Clusters Credentials
	// DefaultCluster is used when neither the request's cluster parameter
	// nor the template's config names one.
	DefaultCluster string
	// DeleteTimeout bounds the wait for a namespace to be gone.
	DeleteTimeout time.Duration
}

var (
	_ purser.Driver    = (*Driver)(nil)
	_ purser.Refresher = (*Driver)(nil)
)

// Refresh converges the namespace and issues a token that expires with the
// (extended) environment.
func (d *Driver) Refresh(ctx context.Context, env purser.Environment) (map[string]string, error) {
	return d.Provision(ctx, env)
}

// Name implements purser.Driver.
func (d *Driver) Name() string { return Name }

// ResourceTypes implements purser.Driver.
func (d *Driver) ResourceTypes() []string { return []string{"KUBERNETES"} }

// ValidateCluster checks a cluster's credentials before anything is
// probed or stored: a kubeconfig must hold inline data only (see
// CheckKubeconfig).
func ValidateCluster(c *purser.Cluster) error {
	if c.Kubeconfig == "" {
		return nil
	}
	_, err := CheckKubeconfig([]byte(c.Kubeconfig))
	return err
}

// RESTConfig turns a cluster's credentials into a client configuration.
// It checks a kubeconfig again, so that one stored before kubeconfigs were
// checked cannot run code or read files either.
func RESTConfig(c *purser.Cluster) (*rest.Config, error) {
	var cfg *rest.Config
	if c.Kubeconfig != "" {
		data, err := CheckKubeconfig([]byte(c.Kubeconfig))
		if err != nil {
			var refused []string
			var pe *purser.Error
			if errors.As(err, &pe) {
				for _, f := range pe.Fields {
					refused = append(refused, f.Field+" ("+f.Rule+")")
				}
			}
			return nil, fmt.Errorf("cluster %s: its kubeconfig is refused, %s: register the cluster again with inline credentials only: %w",
				c.Name, strings.Join(refused, ", "), err)
		}
		if cfg, err = clientcmd.RESTConfigFromKubeConfig(data); err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
		if err := inlineOnly(cfg); err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
		}
	} else {
		cfg = &rest.Config{Host: c.Server, BearerToken: c.Token, TLSClientConfig: rest.TLSClientConfig{CAData: []byte(c.CA)}}
	}
	cfg.Timeout = 30 * time.Second
	cfg.UserAgent = "purser/" + purser.Version
	return cfg, nil
}

// Probe checks that a cluster answers and returns its version; it fills
// the cluster's Server from its kubeconfig.
func Probe(ctx context.Context, c *purser.Cluster) (string, error) {
	cfg, err := RESTConfig(c)
	if err != nil {
		return "", err
	}
	c.Server = cfg.Host
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	body, err := get(ctx, hc, strings.TrimSuffix(cfg.Host, "/")+"/version")
	if err != nil {
		return "", fmt.Errorf("cluster %s at %s does not answer: %w", c.Name, cfg.Host, err)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := jsonUnmarshal(body, &v); err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

var dnsUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes s DNS-1123 safe: lower case, [a-z0-9-], at most n, no
// leading or trailing '-'.
func dnsLabel(s string, n int) string {
	s = dnsUnsafe.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > n {
		s = s[:n]
	}
	return strings.Trim(s, "-")
}

// Namespace returns the namespace of an environment: the template's
// namespace_pattern ({owner}, {id}, {template}) or "{owner}-{id}", made
// DNS-1123 safe. {id} is the request id's last 8 characters, unique enough
// beside the owner.
func Namespace(env purser.Environment) string {
	pattern, _ := env.Config["namespace_pattern"].(string)
	if pattern == "" {
		pattern = "{owner}-{id}"
	}
	id := env.RequestID
	if len(id) > 8 {
		id = id[len(id)-8:]
	}
	name := strings.NewReplacer("{owner}", dnsLabel(env.Owner, 40), "{id}", id, "{template}", dnsLabel(env.Template, 30)).Replace(pattern)
	return dnsLabel(name, 63)
}

// The resources the driver writes and reads.
var (
	namespaces          = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	resourceQuotas      = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
	limitRanges         = schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}
	serviceAccounts     = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	roleBindings        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	clusterRoleBindings = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
)

// object is a Kubernetes object of apiVersion and kind named name in
// namespace ns ("" for a cluster-scoped one), labelled, with the fields
// in fields beside its metadata.
func object(apiVersion, kind, ns, name string, labels map[string]string, fields map[string]any) *unstructured.Unstructured {
	meta := map[string]any{"name": name, "labels": stringMap(labels)}
	if ns != "" {
		meta["namespace"] = ns
	}
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
	for k, v := range fields {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

// stringMap is m as the map[string]any unstructured objects hold.
func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (d *Driver) cluster(ctx context.Context, env purser.Environment) (*purser.Cluster, dynamic.Interface, *rest.Config, error) {
	name, _ := env.Params["cluster"].(string)
	if name == "" {
		name, _ = env.Config["cluster"].(string)
	}
	if name == "" {
		name = d.DefaultCluster
	}
	if name == "" {
		return nil, nil, nil, errors.New("no cluster: give the request a cluster parameter or the template a config.cluster")
	}
	c, err := d.Clusters(ctx, name)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	cfg, err := RESTConfig(c)
	if err != nil {
		return nil, nil, nil, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	return c, dc, cfg, err
}

func (d *Driver) logf(env purser.Environment, format string, args ...any) {
	if env.Log != nil {
		env.Log.WriteLine("purser", fmt.Sprintf(format, args...))
	}
}

// Provision makes (or converges) the namespace and its objects and
// returns a kubeconfig for the environment's service account.
func (d *Driver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	c, dc, cfg, err := d.cluster(ctx, env)
	if err != nil {
		return nil, err
	}
	ns := Namespace(env)
	labels := map[string]string{LabelRequest: env.RequestID, LabelOwner: dnsLabel(env.Owner, 63), LabelManagedBy: "purser",
		LabelExpires: strconv.FormatInt(env.ExpiresBy.Unix(), 10)}
	apply := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	d.logf(env, "applying namespace %s on cluster %s (%s)", ns, c.Name, cfg.Host)
	nsObj := object("v1", "Namespace", "", ns, labels, nil)
	nsObj.SetAnnotations(map[string]string{"purser.dev/expires-by": env.ExpiresBy.UTC().Format(time.RFC3339)})
	if _, err := dc.Resource(namespaces).Apply(ctx, ns, nsObj, apply); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	if _, err := dc.Resource(resourceQuotas).Namespace(ns).Apply(ctx, "purser-quota",
		object("v1", "ResourceQuota", ns, "purser-quota", labels, map[string]any{"spec": map[string]any{"hard": quota(env)}}), apply); err != nil {
		return nil, fmt.Errorf("resource quota: %w", err)
	}
	limits := map[string]any{"type": "Container",
		"default":        map[string]any{"cpu": "500m", "memory": "512Mi"},
		"defaultRequest": map[string]any{"cpu": "100m", "memory": "128Mi"}}
	if _, err := dc.Resource(limitRanges).Namespace(ns).Apply(ctx, "purser-limits",
		object("v1", "LimitRange", ns, "purser-limits", labels, map[string]any{"spec": map[string]any{"limits": []any{limits}}}), apply); err != nil {
		return nil, fmt.Errorf("limit range: %w", err)
	}
	if _, err := dc.Resource(serviceAccounts).Namespace(ns).Apply(ctx, serviceAccount,
		object("v1", "ServiceAccount", ns, serviceAccount, labels, nil), apply); err != nil {
		return nil, fmt.Errorf("service account: %w", err)
	}
	role, _ := env.Config["cluster_role"].(string)
	if role == "" {
		role = "edit"
	}
	binding := map[string]any{
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": serviceAccount, "namespace": ns}},
	}
	if _, err := dc.Resource(roleBindings).Namespace(ns).Apply(ctx, serviceAccount,
		object("rbac.authorization.k8s.io/v1", "RoleBinding", ns, serviceAccount, labels, binding), apply); err != nil {
		return nil, fmt.Errorf("role binding: %w", err)
	}
	ttl := time.Until(env.ExpiresBy)
	if ttl < minTokenTTL {
		ttl = minTokenTTL
	}
	req := object("authentication.k8s.io/v1", "TokenRequest", ns, serviceAccount, nil,
		map[string]any{"spec": map[string]any{"expirationSeconds": int64(ttl.Seconds())}})
	tr, err := dc.Resource(serviceAccounts).Namespace(ns).Create(ctx, req, metav1.CreateOptions{}, "token")
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	token, _, _ := unstructured.NestedString(tr.Object, "status", "token")
	expiresAt, _, _ := unstructured.NestedString(tr.Object, "status", "expirationTimestamp")
	if token == "" {
		return nil, errors.New("token request: the cluster answered without a token")
	}
	if t, err := time.Parse(time.RFC3339, expiresAt); err == nil {
		expiresAt = t.UTC().Format(time.RFC3339)
	}
	kc, err := kubeconfig(cfg, c.Name, ns, token)
	if err != nil {
		return nil, err
	}
	d.logf(env, "namespace %s ready; token valid until %s", ns, expiresAt)
	return map[string]string{
		"kubeconfig": kc, "namespace": ns, "cluster": c.Name, "server": cfg.Host,
		"token_expires_at": expiresAt,
	}, nil
}

// quota turns the footprint into the namespace's hard limits, as
// Kubernetes quantities: cores in millicores, memory in MiB.
func quota(env purser.Environment) map[string]any {
	hard := map[string]any{}
	if c := env.Footprint.Cores; c > 0 {
		cpu := fmt.Sprintf("%dm", int64(c*1000))
		hard["limits.cpu"], hard["requests.cpu"] = cpu, cpu
	}
	if m := env.Footprint.Memory; m > 0 {
		mem := fmt.Sprintf("%dMi", int64(m*1024))
		hard["limits.memory"], hard["requests.memory"] = mem, mem
	}
	pods := int64(20)
	switch p := env.Params["pods"].(type) {
	case int64:
		pods = p
	case float64:
		pods = int64(p)
	}
	hard["pods"] = strconv.FormatInt(pods, 10)
	return hard
}

func kubeconfig(cfg *rest.Config, cluster, ns, token string) (string, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[cluster] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, InsecureSkipTLSVerify: cfg.Insecure}
	if cfg.CAFile != "" && len(cfg.CAData) == 0 {
		kc.Clusters[cluster].CertificateAuthority = cfg.CAFile
	}
	kc.AuthInfos[ns] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts[ns] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: ns, Namespace: ns}
	kc.CurrentContext = ns
	b, err := clientcmd.Write(*kc)
	return string(b), err
}

// Destroy deletes the namespace, waits until it is gone, then fails if
// anything labelled with the request is left.
func (d *Driver) Destroy(ctx context.Context, env purser.Environment) error {
	_, dc, _, err := d.cluster(ctx, env)
	if err != nil {
		return err
	}
	ns := Namespace(env)
	d.logf(env, "deleting namespace %s", ns)
	err = dc.Resource(namespaces).Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", ns, err)
	}
	timeout := d.DeleteTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := dc.Resource(namespaces).Get(wctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("namespace %s is still terminating after %s", ns, timeout)
		case <-tick.C:
		}
	}
	sel := metav1.ListOptions{LabelSelector: LabelRequest + "=" + env.RequestID}
	var left []string
	for _, r := range []schema.GroupVersionResource{namespaces, clusterRoleBindings} {
		l, err := dc.Resource(r).List(ctx, sel)
		if err != nil {
			return err
		}
		for _, o := range l.Items {
			left = append(left, strings.TrimSuffix(r.Resource, "s")+"/"+o.GetName())
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("left behind after deleting namespace %s: %s", ns, strings.Join(left, ", "))
	}
	d.logf(env, "namespace %s is gone; nothing labelled %s=%s is left", ns, LabelRequest, env.RequestID)
	return nil
}
