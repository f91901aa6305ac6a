package io.iamlet.agent.metrics;

import io.iamlet.control.credentials.CacheListener;
import io.iamlet.control.policy.RoleArn;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * kube2iam's own metric names, types and labels (its metrics/metrics.go), exported next to iamlet's so that
 * dashboards and alerts written for kube2iam keep working: kube2iam_http_request_duration_seconds{code,method,handler},
 * kube2iam_iam_request_duration_seconds{code,role_arn}, kube2iam_iam_cache_hits_total{role_arn},
 * kube2iam_iam_k8s_pod_not_in_pod_cache, kube2iam_iam_k8s_dup_req_count, kube2iam_iam_k8s_dup_req_success_count,
 * kube2iam_healthcheck_status and kube2iam_info. Hand-written like ServerMetrics: a dozen series in the text format.
 */
final class Kube2iamMetrics implements CacheListener {
    /** kube2iam's buckets: prometheus.ExponentialBuckets(0.001, 2, 14). */
    private static final double[] BUCKETS = new double[14];

    static {
        for (int i = 0; i < BUCKETS.length; i++) {
            BUCKETS[i] = 0.001 * (1L << i);
        }
    }

    /** A classic Prometheus histogram: cumulative buckets are summed at scrape time. */
    private static final class Histogram {
        final LongAdder[] counts = new LongAdder[BUCKETS.length + 1];
        final DoubleAdder sum = new DoubleAdder();

        Histogram() {
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double seconds) {
            int i = 0;
            while (i < BUCKETS.length && seconds > BUCKETS[i]) {
                i++;
            }
            counts[i].increment();
            sum.add(seconds);
        }

        void write(StringBuilder out, String name, String labels) {
            long cumulative = 0;
            for (int i = 0; i <= BUCKETS.length; i++) {
                cumulative += counts[i].sum();
                String le = i < BUCKETS.length ? Double.toString(BUCKETS[i]) : "+Inf";
                out.append(name).append("_bucket{").append(labels).append(",le=\"").append(le).append("\"} ").append(cumulative).append('\n');
            }
            out.append(name).append("_sum{").append(labels).append("} ").append(sum.sum()).append('\n');
            out.append(name).append("_count{").append(labels).append("} ").append(cumulative).append('\n');
        }
    }

    private final Map<List<String>, Histogram> http = new ConcurrentHashMap<>();
    private final Map<List<String>, Histogram> iam = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> hits = new ConcurrentHashMap<>();
    private final LongAdder notInPodCache = new LongAdder();
    private volatile boolean healthy;
    private final String version;

    Kube2iamMetrics(String version) {
        this.version = version;
        // kube2iam pre-creates these two series so that rate() queries have data from the start.
        iam.put(List.of("Success", ""), new Histogram());
        iam.put(List.of("UnknownError", ""), new Histogram());
    }

    /** kube2iam's handler names for our routes. */
    static String handler(String route) {
        return switch (route) {
            case "role" -> "securityCredentialsHandler";
            case "credentials" -> "roleHandler";
            case "healthz" -> "healthHandler";
            case "debug" -> "debugStoreHandler";
            default -> "reverseProxyHandler";
        };
    }

    void request(String route, String method, int status, double seconds) {
        http.computeIfAbsent(List.of(String.valueOf(status), method, handler(route)), k -> new Histogram()).observe(seconds);
    }

    void podNotInPodCache() {
        notInPodCache.increment();
    }

    void healthcheck(boolean passing) {
        healthy = passing;
    }

    @Override
    public void hit(RoleArn role) {
        hits.computeIfAbsent(role.text(), k -> new LongAdder()).increment();
    }

    @Override
    public void stsCall(RoleArn role, String code, double seconds) {
        iam.computeIfAbsent(List.of(code, role.text()), k -> new Histogram()).observe(seconds);
    }

    void write(StringBuilder out, long duplicateLookups, long duplicatesResolved) {
        out.append("# HELP kube2iam_http_request_duration_seconds Time taken for kube2iam to serve HTTP request.\n")
                .append("# TYPE kube2iam_http_request_duration_seconds histogram\n");
        new TreeMap<>(labelled(http, "code", "method", "handler")).forEach((labels, h) -> h.write(out, "kube2iam_http_request_duration_seconds", labels));
        out.append("# HELP kube2iam_iam_request_duration_seconds Time taken to complete IAM request in seconds.\n")
                .append("# TYPE kube2iam_iam_request_duration_seconds histogram\n");
        new TreeMap<>(labelled(iam, "code", "role_arn")).forEach((labels, h) -> h.write(out, "kube2iam_iam_request_duration_seconds", labels));
        out.append("# HELP kube2iam_iam_cache_hits_total Total number of IAM cache hits.\n# TYPE kube2iam_iam_cache_hits_total counter\n");
        new TreeMap<>(hits).forEach((role, n) -> out.append("kube2iam_iam_cache_hits_total{role_arn=\"").append(escape(role)).append("\"} ")
                .append(n.sum()).append('\n'));
        counter(out, "kube2iam_iam_k8s_pod_not_in_pod_cache", "Requests from an IP no known pod has.", notInPodCache.sum());
        counter(out, "kube2iam_iam_k8s_dup_req_count", "IPs two live pods claimed, settled through the API server.", duplicateLookups);
        counter(out, "kube2iam_iam_k8s_dup_req_success_count", "Of those, the ones the API server settled.", duplicatesResolved);
        out.append("# HELP kube2iam_healthcheck_status The healthcheck status at scrape time. A value of 1 means it is passing, 0 means it is failing.\n")
                .append("# TYPE kube2iam_healthcheck_status gauge\nkube2iam_healthcheck_status ").append(healthy ? 1 : 0).append('\n');
        out.append("# HELP kube2iam_info Informational labels about the kube2iam process.\n# TYPE kube2iam_info gauge\n")
                .append("kube2iam_info{version=\"").append(escape(version)).append("\",build_date=\"\",commit_hash=\"\"} 1\n");
    }

    private static Map<String, Histogram> labelled(Map<List<String>, Histogram> series, String... names) {
        Map<String, Histogram> out = new TreeMap<>();
        series.forEach((values, h) -> {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < names.length; i++) {
                b.append(i == 0 ? "" : ",").append(names[i]).append("=\"").append(escape(values.get(i))).append('"');
            }
            out.put(b.toString(), h);
        });
        return out;
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(value).append('\n');
    }

    /** Label values are annotation text: backslash, quote and newline escaped as the text format asks. */
    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
