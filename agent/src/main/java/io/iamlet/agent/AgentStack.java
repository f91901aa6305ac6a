package io.iamlet.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.agent.http.ImdsV2;
import io.iamlet.agent.http.ContainerCredentialsEndpoint;
import io.iamlet.agent.http.ContainerCredentialsRoute;
import io.iamlet.agent.http.KernelIdentity;
import io.iamlet.agent.http.MetadataProxy;
import io.iamlet.agent.http.MetadataRoutes;
import io.iamlet.agent.http.MetadataServer;
import io.iamlet.agent.http.MetadataTokens;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.log.RequestLog.Level;
import io.iamlet.agent.metrics.ServerMetrics;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.PodRoles;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.credentials.CredentialSource;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.identity.ServiceAccountTokens;
import io.iamlet.control.pods.IpAddresses;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.settings.SettingNames;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The one place the serving stack is wired: pod index → role policy → credential cache → broker → routes and
 * metrics, and the server in front of them. {@link Agent} builds it from its configuration; tests build it over
 * fakes, so they test the agent's wiring, not a copy of it. Nothing here starts on construction: the caller
 * starts the index (and holds the cache's prefetches) when its start-up order wants.
 */
public final class AgentStack implements AutoCloseable {
    /** How long an Event reason is not repeated for one pod. */
    private static final Duration EVENT_REPEAT = Duration.ofMinutes(5);
    /** One request to the node's metadata service, forwarded for a pod. */
    private static final Duration PROXY_TIMEOUT = Duration.ofSeconds(5);

    /**
     * What the stack runs on, made by the caller (real clients in the agent, fakes in tests).
     *
     * @param sts        where credentials come from
     * @param metadata   the node's metadata service, for the proxy
     * @param tokenClock the IMDSv2 tokens' clock (tests move it; everything else uses {@code clock})
     */
    public record Parts(KubernetesClient kube, CredentialSource sts, NodeMetadata node, URI metadata, Clock clock, Clock tokenClock,
                        RequestLog log) {
        public static Parts of(KubernetesClient kube, CredentialSource sts, NodeMetadata node, URI metadata, Clock clock, RequestLog log) {
            return new Parts(kube, sts, node, metadata, clock, clock, log);
        }
    }

    /**
     * What the stack is told.
     *
     * @param kernel with the eBPF backend: where its owners map is pinned and the pods' cgroup, so the kernel names callers
     * @param names  how the control layer's messages name a setting (the agent's flags)
     */
    public record Settings(PodIndex.Settings pods, RoleSettings roles, CredentialCache.Settings cache, Set<String> allowedMetadataPaths,
                           ImdsV2 imdsV2, ContainerCredentialsEndpoint containerCredentials,
                           Optional<Kernel> kernel, SettingNames names) {
        public Settings {
            allowedMetadataPaths = Set.copyOf(allowedMetadataPaths);
        }
    }

    /**
     * Where the server listens: the app port (pods), the management port (probes, metrics; the same number for
     * kube2iam's one-port layout; 0 for an ephemeral port each), and the node's address for /healthz's check.
     */
    public record Listen(InetAddress address, int appPort, int metricsPort, String hostIp) {
    }

    /** The eBPF backend's pinned owners map and the cgroup v2 directory the pods run under. */
    public record Kernel(Path pinDir, Path podCgroup) {
    }

    /**
     * What the agent tells the metrics about itself.
     *
     * @param notReady      why the agent is not ready, or null when it is
     * @param ruleState     none, installed or failed
     * @param redirectCheck the redirect read back now (as_expected, absent, unexpected, error), or null when none is installed
     */
    public record AgentState(Supplier<String> notReady, Supplier<String> ruleState, Supplier<String> redirectCheck) {
        /** Nothing of the agent's own to wait for, no redirect installed: readiness is the index's. */
        public static final AgentState READY = new AgentState(() -> null, () -> "none", () -> null);
    }

    private final Parts parts;
    private final PodIndex index;
    private final CredentialCache cache;
    private final CredentialBroker broker;
    private final ServerMetrics metrics;
    private final MetadataRoutes routes;
    private final Optional<KernelIdentity> kernel;
    private final PodEventRecorder events;

    public AgentStack(Settings settings, Parts parts, AgentState agent, String version) {
        this.parts = parts;
        index = new PodIndex(parts.kube(), settings.pods(), settings.names());
        PodRoles roles = new PodRoles(index, new RolePolicy(settings.roles(), settings.names()));
        cache = new CredentialCache(parts.sts(), settings.cache(), parts.clock(), roles::wants);
        events = new PodEventRecorder(parts.kube(), settings.pods().nodeName(), parts.clock(), EVENT_REPEAT);
        ContainerCredentialsEndpoint containerCredentials = settings.containerCredentials();
        broker = new CredentialBroker(roles, cache, events, containerCredentials.enabled()
                ? Optional.of(ServiceAccountTokens.of(parts.kube(), containerCredentials.audiences(), containerCredentials.tokenReview(),
                parts.clock(), settings.names()))
                : Optional.empty());
        metrics = new ServerMetrics(version, new ServerMetrics.Sources(cache::stats, index::duplicateCounts, index::freshness,
                index::apiReads, () -> {
                    String notReady = agent.notReady().get();
                    return notReady != null ? notReady : index.notCurrent();
                }, agent.ruleState(), agent.redirectCheck()));
        cache.listen(metrics.cacheListener());
        routes = new MetadataRoutes(broker, new MetadataTokens(parts.tokenClock()),
                new MetadataProxy(parts.metadata(), parts.node(), settings.allowedMetadataPaths(), PROXY_TIMEOUT), settings.imdsV2(),
                parts.log(), metrics);
        kernel = settings.kernel().map(k -> new KernelIdentity(k.pinDir(), k.podCgroup()));
        kernel.ifPresent(routes::withKernelIdentity);
        if (containerCredentials.enabled()) {
            routes.withRoutesAhead(new ContainerCredentialsRoute(containerCredentials.path(), broker, parts.log(), metrics)
                    .withKernelIdentity(kernel.orElse(null))::register);
            parts.log().event(Level.INFO, "container credentials served", Map.of("path", containerCredentials.path(),
                    "token.audiences", String.join(",", new TreeSet<>(containerCredentials.audiences())), "token.review",
                    containerCredentials.tokenReview().name().toLowerCase()));
        }
    }

    /**
     * The server in front of the routes (not started). Its readiness is the metrics' (the agent's own, then the
     * index's); the management port refuses this node's pods.
     *
     * @param debugStore /debug/store's answer, or null without it
     */
    public MetadataServer server(Listen listen, Supplier<String> debugStore, ServerLimits limits) {
        return new MetadataServer(new MetadataServer.Settings(listen.address(), listen.appPort(), listen.metricsPort(), listen.hostIp(),
                metrics::notReady, debugStore), routes, metrics, parts.node(), limits)
                .refuseManagementFrom(ip -> index.ips().contains(IpAddresses.normalize(ip)));
    }

    public PodIndex index() {
        return index;
    }

    public CredentialCache cache() {
        return cache;
    }

    public CredentialBroker broker() {
        return broker;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        kernel.ifPresent(KernelIdentity::close);
        cache.close();
        index.close();
        // Before the caller closes the API client: an Event still queued is sent or dropped now, not after.
        events.close();
    }
}
