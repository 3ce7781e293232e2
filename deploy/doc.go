// Package deploy holds what runs Purser outside a developer's machine: the
// container image (Dockerfile), a compose file for PostgreSQL, Redis, two
// replicas and a load balancer, the Helm chart (helm/purser) and the plain
// manifests made from it (manifests/purser.yaml), Grafana's dashboard and
// Prometheus's alerts. It has no code: its tests check those files.
package deploy
