package io.iamlet.agent.metrics;

import io.iamlet.control.credentials.CacheListener;
import io.iamlet.control.credentials.CacheStats;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import io.iamlet.control.pods.Freshness;
import java.util.stream.Collectors;
import io.iamlet.control.pods.SharedReads;

/** Request counters by route and status, and the credential cache's counters, in Prometheus text format. */
public final class ServerMetrics {
    private record Key(String route, int status) {
    }

    /**
     * Where the figures come from, read at each scrape.
     *
     * @param duplicates    the pod index's duplicate-IP counters: {settled through the API server asked, settled}
     * @param freshness     where the pod index's watches stand: iamlet_watch_up and iamlet_watch_seconds_since_event
     * @param apiReads      the pod index's API reads on lookups (started, shared, refused by the budget)
     * @param notReady      why the agent is not ready (null when it is), as /readyz answers: iamlet_ready
     * @param ruleState     none (no redirect), installed, or failed: a gauge per state
     * @param redirectCheck the redirect read back from the kernel and compared with what the agent installed (as_expected,
     *                      absent, unexpected, error), or null while none is installed
     */
    public record Sources(Supplier<CacheStats.Snapshot> cache, Supplier<long[]> duplicates, Supplier<Freshness> freshness,
                          Supplier<SharedReads.Counts> apiReads, Supplier<String> notReady, Supplier<String> ruleState,
                          Supplier<String> redirectCheck) {
        /** The cache's figures only; nothing else to report (a server without a pod index or a redirect). */
        public static Sources cacheOnly(Supplier<CacheStats.Snapshot> cache) {
            return new Sources(cache, () -> new long[] {0, 0}, () -> null, () -> null, () -> null, () -> "none", () -> null);
        }
    }

    /** The server's own closings: request heads too slow (--header-timeout), sources over their cap. */
    public record Closings(long headerTimeouts, long perSourceRefusals) {
    }

    private final Map<Key, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, DoubleAdder> seconds = new ConcurrentHashMap<>();
    private final Sources sources;
    private final Kube2iamMetrics kube2iam;
    /** Made at the first scrape: its classes stay off the agent's start-up. */
    private JvmMetricsText jvm;

    public ServerMetrics(String version, Sources sources) {
        this.sources = sources;
        this.kube2iam = new Kube2iamMetrics(version);
    }

    /** Per-role cache events, for kube2iam's role_arn-labelled series. */
    public CacheListener cacheListener() {
        return kube2iam;
    }

    /** Why the agent is not ready, or null when it is: what /readyz answers and iamlet_ready exports. */
    public String notReady() {
        return sources.notReady().get();
    }

    public void request(String route, String method, int status, double millis) {
        requests.computeIfAbsent(new Key(route, status), k -> new LongAdder()).increment();
        seconds.computeIfAbsent(route, k -> new DoubleAdder()).add(millis / 1000);
        kube2iam.request(route, method, status, millis / 1000);
    }

    public void podNotInPodCache() {
        kube2iam.podNotInPodCache();
    }

    public void healthcheck(boolean passing) {
        kube2iam.healthcheck(passing);
    }

    public String prometheus(Closings closings) {
        StringBuilder out = new StringBuilder();
        requests(out);
        CacheStats.Snapshot c = sources.cache().get();
        cache(out, c);
        oneOf(out, "iamlet_rules", "Redirect rule state (1 for the current one).", "state", List.of("none", "installed", "failed"),
                sources.ruleState().get());
        out.append("# HELP iamlet_credential_cache_entries Roles (sessions) held.\n# TYPE iamlet_credential_cache_entries gauge\n")
                .append("iamlet_credential_cache_entries ").append(c.entries()).append('\n');
        Freshness f = sources.freshness().get();
        if (f != null) {
            watches(out, f);
        }
        SharedReads.Counts reads = sources.apiReads().get();
        if (reads != null) {
            apiReads(out, reads);
        }
        out.append("# HELP iamlet_connections_closed_total Connections the server closed for a limit: a request head slower than")
                .append(" --header-timeout, or over --max-connections-per-source (answered 429).\n")
                .append("# TYPE iamlet_connections_closed_total counter\n")
                .append("iamlet_connections_closed_total{reason=\"header_timeout\"} ").append(closings.headerTimeouts()).append('\n')
                .append("iamlet_connections_closed_total{reason=\"per_source_cap\"} ").append(closings.perSourceRefusals()).append('\n');
        out.append("# HELP iamlet_ready Whether the agent is ready (1) or not (0), as /readyz answers.\n# TYPE iamlet_ready gauge\n")
                .append("iamlet_ready ").append(notReady() == null ? 1 : 0).append('\n');
        String check = sources.redirectCheck().get();
        if (check != null) {
            oneOf(out, "iamlet_redirect_check", "The metadata redirect read back from the kernel at this scrape (1 for the result).",
                    "result", List.of("as_expected", "absent", "unexpected", "error"), check);
        }
        long[] dup = sources.duplicates().get();
        kube2iam.write(out, dup[0], dup[1]);
        out.append(jvm().text());
        return out.toString();
    }

    private void requests(StringBuilder out) {
        out.append("# HELP iamlet_requests_total Metadata requests by route and status.\n# TYPE iamlet_requests_total counter\n");
        new TreeMap<String, Long>(requests.entrySet().stream().collect(Collectors.toMap(
                e -> "route=\"" + e.getKey().route() + "\",status=\"" + e.getKey().status() + "\"", e -> e.getValue().sum())))
                .forEach((labels, n) -> out.append("iamlet_requests_total{").append(labels).append("} ").append(n).append('\n'));
        out.append("# HELP iamlet_request_seconds_total Time spent answering, by route.\n# TYPE iamlet_request_seconds_total counter\n");
        new TreeMap<>(seconds).forEach((route, s) -> out.append("iamlet_request_seconds_total{route=\"").append(route).append("\"} ")
                .append(s.sum()).append('\n'));
    }

    private static void cache(StringBuilder out, CacheStats.Snapshot c) {
        counter(out, "iamlet_credential_cache_hits_total", "Credential requests answered from memory.", c.hits());
        counter(out, "iamlet_credential_cache_misses_total", "Credential requests that needed STS.", c.misses());
        counter(out, "iamlet_sts_calls_total", "AssumeRole calls.", c.stsCalls());
        counter(out, "iamlet_sts_errors_total", "Failed AssumeRole calls.", c.stsErrors());
        counter(out, "iamlet_credential_refreshes_total", "Background refreshes.", c.refreshes());
        counter(out, "iamlet_credential_evictions_total", "Credentials dropped as unused.", c.evictions());
        counter(out, "iamlet_credential_stale_served_total", "Cached credentials served while STS failed.", c.staleServed());
        out.append("# HELP iamlet_sts_seconds_total Time spent in AssumeRole calls.\n# TYPE iamlet_sts_seconds_total counter\n")
                .append("iamlet_sts_seconds_total ").append(c.stsSeconds()).append('\n');
    }

    private static void watches(StringBuilder out, Freshness f) {
        out.append("# HELP iamlet_watch_up Whether the informer's watch runs (0: the agent confirms with the API server).\n")
                .append("# TYPE iamlet_watch_up gauge\n")
                .append("iamlet_watch_up{resource=\"pods\"} ").append(f.podsWatching() ? 1 : 0).append('\n')
                .append("iamlet_watch_up{resource=\"namespaces\"} ").append(f.namespacesWatching() ? 1 : 0).append('\n');
        out.append("# HELP iamlet_watch_seconds_since_event Seconds since the informer's last event or new resourceVersion.\n")
                .append("# TYPE iamlet_watch_seconds_since_event gauge\n")
                .append("iamlet_watch_seconds_since_event{resource=\"pods\"} ").append(f.secondsSincePodEvent()).append('\n')
                .append("iamlet_watch_seconds_since_event{resource=\"namespaces\"} ").append(f.secondsSinceNamespaceEvent()).append('\n');
    }

    private static void apiReads(StringBuilder out, SharedReads.Counts reads) {
        out.append("# HELP iamlet_api_lookup_reads_total API reads of lookups while a watch is down: started, shared with")
                .append(" another lookup (in flight or kept 1 s), or not started for --api-reads-per-second (answered from the index or 503).\n")
                .append("# TYPE iamlet_api_lookup_reads_total counter\n")
                .append("iamlet_api_lookup_reads_total{outcome=\"started\"} ").append(reads.started()).append('\n')
                .append("iamlet_api_lookup_reads_total{outcome=\"shared\"} ").append(reads.shared()).append('\n')
                .append("iamlet_api_lookup_reads_total{outcome=\"over_budget\"} ").append(reads.overBudget()).append('\n');
    }

    /** A gauge per value of {@code label}, 1 for {@code current} and 0 for the others. */
    private static void oneOf(StringBuilder out, String name, String help, String label, List<String> values, String current) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
        for (String value : values) {
            out.append(name).append('{').append(label).append("=\"").append(value).append("\"} ").append(value.equals(current) ? 1 : 0)
                    .append('\n');
        }
    }

    private synchronized JvmMetricsText jvm() {
        if (jvm == null) {
            jvm = new JvmMetricsText();
        }
        return jvm;
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(value).append('\n');
    }
}
