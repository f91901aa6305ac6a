package io.iamlet.agent.metrics;

import io.iamlet.control.credentials.CacheListener;
import io.iamlet.control.credentials.CacheStats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import io.iamlet.control.pods.PodIndex;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import io.iamlet.control.pods.SharedReads;

/** Request counters by route and status, and the credential cache's counters, in Prometheus text format. */
public final class ServerMetrics {
    private record Key(String route, int status) {
    }

    private final Map<Key, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, DoubleAdder> seconds = new ConcurrentHashMap<>();
    private final Supplier<CacheStats.Snapshot> cache;
    private final Kube2iamMetrics kube2iam;
    private volatile String ruleState = "none";
    private volatile Supplier<long[]> duplicates = () -> new long[] {0, 0};
    private volatile Supplier<PodIndex.Freshness> freshness;
    private volatile Supplier<SharedReads.Counts> apiReads;
    private volatile LongSupplier headerTimeouts = () -> 0;
    private volatile LongSupplier perSourceRefusals = () -> 0;
    private volatile Supplier<String> notReady = () -> null;
    private volatile Supplier<String> redirectCheck;
    /** Made at the first scrape: its classes stay off the agent's start-up. */
    private JvmMetricsText jvm;

    public ServerMetrics(Supplier<CacheStats.Snapshot> cache) {
        this(cache, "unknown");
    }

    public ServerMetrics(Supplier<CacheStats.Snapshot> cache, String version) {
        this.cache = cache;
        this.kube2iam = new Kube2iamMetrics(version);
    }

    /** Per-role cache events, for kube2iam's role_arn-labelled series. */
    public CacheListener cacheListener() {
        return kube2iam;
    }

    /** The pod index's duplicate-IP counters: {settled through the API server asked, settled}. */
    public void duplicates(Supplier<long[]> counts) {
        this.duplicates = counts;
    }

    /** none (no --iptables), installed, or failed; exported as a gauge per state. */
    public void ruleState(String state) {
        this.ruleState = state;
    }

    /** Where the pod index's watches stand: exported as iamlet_watch_up and iamlet_watch_seconds_since_event. */
    public void freshness(Supplier<PodIndex.Freshness> source) {
        this.freshness = source;
    }

    /** The pod index's API reads on lookups (started, shared, refused by the budget): iamlet_api_lookup_reads_total. */
    public void apiReads(Supplier<SharedReads.Counts> source) {
        this.apiReads = source;
    }

    /** Why the agent is not ready (null when it is), as /readyz answers: exported as iamlet_ready. */
    public void readiness(Supplier<String> notReady) {
        this.notReady = notReady;
    }

    /**
     * The redirect read back from the kernel at each scrape and compared with what the agent installed: as_expected,
     * absent or unexpected (another program changed or removed it, or the agent blocks while it stops).
     */
    public void redirectCheck(Supplier<String> check) {
        this.redirectCheck = check;
    }

    /** The server's own closings: request heads too slow (--header-timeout), sources over their cap. */
    public void connectionLimits(LongSupplier headerTimeouts, LongSupplier perSourceRefusals) {
        this.headerTimeouts = headerTimeouts;
        this.perSourceRefusals = perSourceRefusals;
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

    public String prometheus() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP iamlet_requests_total Metadata requests by route and status.\n# TYPE iamlet_requests_total counter\n");
        new TreeMap<String, Long>(requests.entrySet().stream().collect(Collectors.toMap(
                e -> "route=\"" + e.getKey().route() + "\",status=\"" + e.getKey().status() + "\"", e -> e.getValue().sum())))
                .forEach((labels, n) -> out.append("iamlet_requests_total{").append(labels).append("} ").append(n).append('\n'));
        out.append("# HELP iamlet_request_seconds_total Time spent answering, by route.\n# TYPE iamlet_request_seconds_total counter\n");
        new TreeMap<>(seconds).forEach((route, s) -> out.append("iamlet_request_seconds_total{route=\"").append(route).append("\"} ")
                .append(s.sum()).append('\n'));
        CacheStats.Snapshot c = cache.get();
        counter(out, "iamlet_credential_cache_hits_total", "Credential requests answered from memory.", c.hits());
        counter(out, "iamlet_credential_cache_misses_total", "Credential requests that needed STS.", c.misses());
        counter(out, "iamlet_sts_calls_total", "AssumeRole calls.", c.stsCalls());
        counter(out, "iamlet_sts_errors_total", "Failed AssumeRole calls.", c.stsErrors());
        counter(out, "iamlet_credential_refreshes_total", "Background refreshes.", c.refreshes());
        counter(out, "iamlet_credential_evictions_total", "Credentials dropped as unused.", c.evictions());
        counter(out, "iamlet_credential_stale_served_total", "Cached credentials served while STS failed.", c.staleServed());
        out.append("# HELP iamlet_sts_seconds_total Time spent in AssumeRole calls.\n# TYPE iamlet_sts_seconds_total counter\n")
                .append("iamlet_sts_seconds_total ").append(c.stsSeconds()).append('\n');
        out.append("# HELP iamlet_rules Redirect rule state (1 for the current one).\n# TYPE iamlet_rules gauge\n");
        for (String state : new String[] {"none", "installed", "failed"}) {
            out.append("iamlet_rules{state=\"").append(state).append("\"} ").append(state.equals(ruleState) ? 1 : 0).append('\n');
        }
        out.append("# HELP iamlet_credential_cache_entries Roles (sessions) held.\n# TYPE iamlet_credential_cache_entries gauge\n")
                .append("iamlet_credential_cache_entries ").append(c.entries()).append('\n');
        Supplier<PodIndex.Freshness> source = freshness;
        if (source != null) {
            PodIndex.Freshness f = source.get();
            out.append("# HELP iamlet_watch_up Whether the informer's watch runs (0: the agent confirms with the API server).\n")
                    .append("# TYPE iamlet_watch_up gauge\n")
                    .append("iamlet_watch_up{resource=\"pods\"} ").append(f.podsWatching() ? 1 : 0).append('\n')
                    .append("iamlet_watch_up{resource=\"namespaces\"} ").append(f.namespacesWatching() ? 1 : 0).append('\n');
            out.append("# HELP iamlet_watch_seconds_since_event Seconds since the informer's last event or new resourceVersion.\n")
                    .append("# TYPE iamlet_watch_seconds_since_event gauge\n")
                    .append("iamlet_watch_seconds_since_event{resource=\"pods\"} ").append(f.secondsSincePodEvent()).append('\n')
                    .append("iamlet_watch_seconds_since_event{resource=\"namespaces\"} ").append(f.secondsSinceNamespaceEvent()).append('\n');
        }
        Supplier<SharedReads.Counts> reads = apiReads;
        if (reads != null) {
            SharedReads.Counts r = reads.get();
            out.append("# HELP iamlet_api_lookup_reads_total API reads of lookups while a watch is down: started, shared with")
                    .append(" another lookup (in flight or kept 1 s), or not started for --api-reads-per-second (answered from the index or 503).\n")
                    .append("# TYPE iamlet_api_lookup_reads_total counter\n")
                    .append("iamlet_api_lookup_reads_total{outcome=\"started\"} ").append(r.started()).append('\n')
                    .append("iamlet_api_lookup_reads_total{outcome=\"shared\"} ").append(r.shared()).append('\n')
                    .append("iamlet_api_lookup_reads_total{outcome=\"over_budget\"} ").append(r.overBudget()).append('\n');
        }
        out.append("# HELP iamlet_connections_closed_total Connections the server closed for a limit: a request head slower than")
                .append(" --header-timeout, or over --max-connections-per-source (answered 429).\n")
                .append("# TYPE iamlet_connections_closed_total counter\n")
                .append("iamlet_connections_closed_total{reason=\"header_timeout\"} ").append(headerTimeouts.getAsLong()).append('\n')
                .append("iamlet_connections_closed_total{reason=\"per_source_cap\"} ").append(perSourceRefusals.getAsLong()).append('\n');
        out.append("# HELP iamlet_ready Whether the agent is ready (1) or not (0), as /readyz answers.\n# TYPE iamlet_ready gauge\n")
                .append("iamlet_ready ").append(notReady.get() == null ? 1 : 0).append('\n');
        Supplier<String> check = redirectCheck;
        if (check != null) {
            String result = check.get();
            out.append("# HELP iamlet_redirect_check The metadata redirect read back from the kernel at this scrape (1 for the result).\n")
                    .append("# TYPE iamlet_redirect_check gauge\n");
            for (String r : new String[] {"as_expected", "absent", "unexpected", "error"}) {
                out.append("iamlet_redirect_check{result=\"").append(r).append("\"} ").append(r.equals(result) ? 1 : 0).append('\n');
            }
        }
        long[] dup = duplicates.get();
        kube2iam.write(out, dup[0], dup[1]);
        out.append(jvm().text());
        return out.toString();
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
