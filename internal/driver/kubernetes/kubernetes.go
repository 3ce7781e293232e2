// Package kubernetes is the kubernetes-namespace driver: an environment is
// a namespace on a registered cluster, with a ResourceQuota from the
// request's footprint, a LimitRange with defaults, a ServiceAccount bound
// to a ClusterRole (edit by default) in that namespace only, and a token
// from the TokenRequest API that expires with the environment, delivered
// as a kubeconfig. Objects are written with server-side apply under the
// field manager "purser", so provisioning twice converges.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	k8s "k8s.io/client-go/kubernetes"
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
	cs, err := k8s.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
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

func (d *Driver) cluster(ctx context.Context, env purser.Environment) (*purser.Cluster, *k8s.Clientset, *rest.Config, error) {
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
	cs, err := k8s.NewForConfig(cfg)
	return c, cs, cfg, err
}

func (d *Driver) logf(env purser.Environment, format string, args ...any) {
	if env.Log != nil {
		env.Log.WriteLine("purser", fmt.Sprintf(format, args...))
	}
}

// Provision makes (or converges) the namespace and its objects and
// returns a kubeconfig for the environment's service account.
func (d *Driver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	c, cs, cfg, err := d.cluster(ctx, env)
	if err != nil {
		return nil, err
	}
	ns := Namespace(env)
	labels := map[string]string{LabelRequest: env.RequestID, LabelOwner: dnsLabel(env.Owner, 63), LabelManagedBy: "purser",
		LabelExpires: strconv.FormatInt(env.ExpiresBy.Unix(), 10)}
	apply := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	d.logf(env, "applying namespace %s on cluster %s (%s)", ns, c.Name, cfg.Host)
	if _, err := cs.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(ns).WithLabels(labels).
		WithAnnotations(map[string]string{"purser.dev/expires-by": env.ExpiresBy.UTC().Format(time.RFC3339)}), apply); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	if _, err := cs.CoreV1().ResourceQuotas(ns).Apply(ctx, corev1ac.ResourceQuota("purser-quota", ns).WithLabels(labels).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(quota(env))), apply); err != nil {
		return nil, fmt.Errorf("resource quota: %w", err)
	}
	limits := corev1ac.LimitRangeItem().WithType(corev1.LimitTypeContainer).
		WithDefault(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")}).
		WithDefaultRequest(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")})
	if _, err := cs.CoreV1().LimitRanges(ns).Apply(ctx, corev1ac.LimitRange("purser-limits", ns).WithLabels(labels).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(limits)), apply); err != nil {
		return nil, fmt.Errorf("limit range: %w", err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Apply(ctx, corev1ac.ServiceAccount(serviceAccount, ns).WithLabels(labels), apply); err != nil {
		return nil, fmt.Errorf("service account: %w", err)
	}
	role, _ := env.Config["cluster_role"].(string)
	if role == "" {
		role = "edit"
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Apply(ctx, rbacv1ac.RoleBinding(serviceAccount, ns).WithLabels(labels).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(role)).
		WithSubjects(rbacv1ac.Subject().WithKind("ServiceAccount").WithName(serviceAccount).WithNamespace(ns)), apply); err != nil {
		return nil, fmt.Errorf("role binding: %w", err)
	}
	ttl := time.Until(env.ExpiresBy)
	if ttl < minTokenTTL {
		ttl = minTokenTTL
	}
	secs := int64(ttl.Seconds())
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	kc, err := kubeconfig(cfg, c.Name, ns, tr.Status.Token)
	if err != nil {
		return nil, err
	}
	d.logf(env, "namespace %s ready; token valid until %s", ns, tr.Status.ExpirationTimestamp.UTC().Format(time.RFC3339))
	return map[string]string{
		"kubeconfig": kc, "namespace": ns, "cluster": c.Name, "server": cfg.Host,
		"token_expires_at": tr.Status.ExpirationTimestamp.UTC().Format(time.RFC3339),
	}, nil
}

// quota turns the footprint into the namespace's hard limits.
func quota(env purser.Environment) corev1.ResourceList {
	hard := corev1.ResourceList{}
	if c := env.Footprint.Cores; c > 0 {
		hard[corev1.ResourceLimitsCPU] = *resource.NewMilliQuantity(int64(c*1000), resource.DecimalSI)
		hard[corev1.ResourceRequestsCPU] = *resource.NewMilliQuantity(int64(c*1000), resource.DecimalSI)
	}
	if m := env.Footprint.Memory; m > 0 {
		q := resource.MustParse(fmt.Sprintf("%dMi", int64(m*1024)))
		hard[corev1.ResourceLimitsMemory], hard[corev1.ResourceRequestsMemory] = q, q
	}
	pods := int64(20)
	switch p := env.Params["pods"].(type) {
	case int64:
		pods = p
	case float64:
		pods = int64(p)
	}
	hard[corev1.ResourcePods] = *resource.NewQuantity(pods, resource.DecimalSI)
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
	_, cs, _, err := d.cluster(ctx, env)
	if err != nil {
		return err
	}
	ns := Namespace(env)
	d.logf(env, "deleting namespace %s", ns)
	err = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
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
		_, err := cs.CoreV1().Namespaces().Get(wctx, ns, metav1.GetOptions{})
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
	if l, err := cs.CoreV1().Namespaces().List(ctx, sel); err != nil {
		return err
	} else {
		for _, n := range l.Items {
			left = append(left, "namespace/"+n.Name)
		}
	}
	if l, err := cs.RbacV1().ClusterRoleBindings().List(ctx, sel); err != nil {
		return err
	} else {
		for _, b := range l.Items {
			left = append(left, "clusterrolebinding/"+b.Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("left behind after deleting namespace %s: %s", ns, strings.Join(left, ", "))
	}
	d.logf(env, "namespace %s is gone; nothing labelled %s=%s is left", ns, LabelRequest, env.RequestID)
	return nil
}
