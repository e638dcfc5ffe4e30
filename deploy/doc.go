// Package deploy holds mx_exporter's deployment files (the Grafana
// dashboard, the Prometheus alert rules and their promtool tests, the
// Alertmanager example, the Kubernetes manifests, the systemd unit, the
// example configs) and the tests that check them, beside them: go test
// ./deploy checks every file of this folder and the Dockerfile, with
// promtool, amtool, a real Alertmanager and systemd-analyze where the
// machine has them (.ci/run installs them; under CI=true a missing one
// fails).
//
// The few tests that need the daemon itself running, probing the test
// servers (the alerts firing in a real Prometheus, the dashboard's queries
// answering, the /probe sharding with three replicas, deploy/examples/
// testenv.yml), are in cmd/mx_exporter; they read the dashboard with
// DashboardQueries.
//
// It is not part of the exporter: only tests import it.
package deploy

// ShardingReplicaAddress is the replica address that the /probe sharding
// scrape configs of kubernetes/probe-sharding write into __address__ ($1 is
// the shard). The tests check that the files use it, and the end-to-end
// test replaces it with loopback replicas.
const ShardingReplicaAddress = "mx-exporter-probe-$1.mx-exporter-probe.monitoring.svc:9725"
