package io.iamlet.agent;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.agent.http.MetadataServer;
import io.iamlet.agent.log.Json;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.log.RequestLog.Level;
import io.iamlet.control.KubeClients;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.aws.StsRegion;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.credentials.StsCredentialSource;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirects;
import io.iamlet.redirect.RuleCheck;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/**
 * The running agent. Start-up order: pods blocked from metadata (with the redirect on) → API client and
 * informers synced → metadata server → block swapped for the redirect, read back → ready. A failure at any step stops with the reason; rules are only ever installed whole
 * (one transaction), so nothing is left half-installed. Shutdown stops accepting, then applies --on-exit.
 */
public final class Agent implements AutoCloseable {
    private final AgentConfig config;
    private final RequestLog log;
    private final Map<String, String> env;
    private final AwsCredentialsProvider awsCredentials;
    private final List<AutoCloseable> open = new ArrayList<>();
    private KubernetesClient kube;
    private Redirects redirects;
    private MetadataServer server;
    /** none (no redirect), installed or failed: iamlet_rules. */
    private volatile String ruleState = "none";
    private volatile String notReady = "starting";
    private volatile boolean rulesInstalled;
    /** The block's installation, under way while the rest of start-up goes ahead; null without --iptables. */
    private volatile CompletableFuture<Void> blocked;

    public Agent(AgentConfig config, RequestLog log, Map<String, String> env, AwsCredentialsProvider awsCredentials) {
        this.config = config;
        this.log = log;
        this.env = env;
        this.awsCredentials = awsCredentials;
    }

    public static AwsCredentialsProvider defaultAwsCredentials() {
        return DefaultCredentialsProvider.builder().build();
    }

    public Agent start() throws Exception {
        try {
            startSteps();
            return this;
        } catch (Exception | Error e) {
            log.event(Level.ERROR, "start-up failed: " + e.getMessage(), Map.of());
            close();
            throw e;
        }
    }

    private void startSteps() throws Exception {
        if (config.rules().spec().isPresent()) {
            blockFirst();
        }
        Clock clock = Clock.systemUTC();
        NodeMetadata node = new NodeMetadata(config.serving().metadata(), Duration.ofSeconds(2));
        RoleSettings roles = discover(config.credentials().roles(), node);
        kube = KubeClients.create(config.pods().api());
        open.add(kube);
        AgentStack stack = stack(node, roles, clock);
        PodIndex index = stack.index();
        CredentialCache cache = stack.cache();
        cache.holdPrefetches(); // released when ready: the node's prefetches would compete with the start
        // The pods are listed while Helidon starts (the broker already listens to the index).
        notReady = "waiting for the pods of node " + config.node().name() + " from the Kubernetes API";
        index.start();
        AgentConfig.Serving serving = config.serving();
        server = stack.server(new AgentStack.Listen(InetAddress.ofLiteral("0.0.0.0"), serving.appPort(), serving.metricsPort(), config.node().hostIp()),
                serving.debug() ? () -> debugStore(index.pods(), roles.roleKey()) : null, serving.limits()).start();
        log.event(Level.INFO, "listening", Map.of("app.port", server.appPort(), "metrics.port", server.managementPort()));

        if (blocked != null) {
            try {
                blocked.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception x ? x : e;
            }
        }
        index.awaitSynced(config.pods().syncTimeout());
        log.event(Level.INFO, "pods and namespaces synced", Map.of("pods", index.pods().size()));

        if (config.rules().spec().isPresent()) {
            installRedirect();
        }
        notReady = null;
        log.event(Level.INFO, "ready", Map.of());
        cache.releasePrefetches();
    }

    /**
     * Before anything that can wait or fail: from here on a pod is refused, never on the node's IMDS, whether this
     * start gets stuck, fails, or crash-loops. installRedirect() swaps the block for the redirect. On a thread of its
     * own, so that discovery, the clients and the first list of pods go ahead meanwhile: linking the netlink downcalls
     * alone is a noticeable part of the start (docs/performance.md). A failure of the later steps waits for the block
     * to be in before it stops the agent (close()).
     */
    private void blockFirst() {
        redirects = config.rules().redirects(Version.current());
        blocked = CompletableFuture.runAsync(() -> {
            redirects.block(config.rules().backend(), config.rules().spec().get());
            rulesInstalled = true;
            log.event(Level.INFO, "metadata blocked for pods until the agent is ready", Map.of("backend", config.rules().backend().label()));
        }, r -> Thread.ofPlatform().name("iamlet-block").start(r));
    }

    /** The serving stack (and the STS client under it) from the configuration, closed with the agent. */
    private AgentStack stack(NodeMetadata node, RoleSettings roles, Clock clock) {
        AgentConfig.Credentials credentials = config.credentials();
        StsCredentialSource sts = new StsCredentialSource(new StsCredentialSource.Settings(credentials.stsEndpoint(),
                StsRegion.choose(credentials.regionalSts(), credentials.region(), env, node::region, config.names()), credentials.sessionDuration(),
                Duration.ofSeconds(10), awsCredentials), clock, config.names());
        open.add(sts);
        AgentConfig.Rules rules = config.rules();
        Optional<AgentStack.Kernel> kernel = rules.backend() == Backend.EBPF && rules.spec().isPresent()
                ? rules.cgroup().map(cgroup -> new AgentStack.Kernel(rules.bpfPinDir(), cgroup)) : Optional.empty();
        AgentConfig.Pods pods = config.pods();
        AgentConfig.Serving serving = config.serving();
        AgentStack stack = new AgentStack(new AgentStack.Settings(new PodIndex.Settings(config.node().name(), pods.resync(),
                pods.lookupBudget(), pods.resolveDuplicates(), pods.apiReadsPerSecond(), PodIndex.Settings.KEEP_API_ANSWERS), roles,
                CredentialCache.Settings.defaults().withErrorTtl(credentials.errorTtl()), serving.allowedMetadataPaths(), serving.imdsV2(),
                serving.containerCredentials(), kernel, config.names()),
                AgentStack.Parts.of(kube, sts, node, serving.metadata(), clock, log),
                new AgentStack.AgentState(() -> notReady, () -> ruleState, this::redirectCheck), Version.current());
        open.add(stack);
        return stack;
    }

    /** The block swapped for the redirect in one step, read back and compared with the spec. */
    private void installRedirect() {
        notReady = "installing the metadata redirect";
        try {
            long started = System.nanoTime();
            String installed = redirects.switchTo(config.rules().backend(), config.rules().spec().get()).headline();
            ruleState = "installed";
            log.event(Level.INFO, "metadata redirect installed and verified", Map.of("installed", installed,
                    "backend", config.rules().backend().label(), "duration.ms", millisSince(started)));
        } catch (RuntimeException e) {
            ruleState = "failed";
            throw e;
        }
    }

    /**
     * The installed redirect as the kernel holds it now, for iamlet_redirect_check (one netlink read per scrape);
     * null until the agent has installed it.
     */
    private String redirectCheck() {
        if (!"installed".equals(ruleState)) {
            return null;
        }
        try {
            return switch (redirects.of(config.rules().backend()).show(config.rules().spec()).check()) {
                case RuleCheck.AsExpected ok -> "as_expected";
                case RuleCheck.Absent absent -> "absent";
                case RuleCheck.Unexpected unexpected -> "unexpected";
            };
        } catch (RuntimeException e) {
            log.event(Level.WARNING, "could not read the metadata redirect back for the metrics", Map.of("error", String.valueOf(e)));
            return "error";
        }
    }

    private void awaitBlock() {
        if (blocked != null) {
            try {
                blocked.join();
            } catch (RuntimeException reportedByStart) {
                // start() reports the failure; here only its end matters
            }
        }
    }

    /** The base ARN and default role from the node's metadata when asked (--auto-discover-*). */
    private RoleSettings discover(RoleSettings roles, NodeMetadata node) throws Exception {
        RoleSettings r = roles;
        // kube2iam: --auto-discover-default-role "overwrites any previous setting for --base-role-arn", so the
        // node's role and bare role names work with that flag alone.
        if (config.credentials().autoDiscoverBaseArn() || config.credentials().autoDiscoverDefaultRole()) {
            RoleArn.Base base = node.discoverBaseArn();
            r = r.withBaseArn(base.text());
            log.event(Level.INFO, "discovered base role ARN", Map.of("base.arn", base.text()));
        }
        if (config.credentials().autoDiscoverDefaultRole()) {
            String role = node.discoverNodeRole();
            r = r.withDefaultRole(role);
            log.event(Level.WARNING, "using the node's own role as the default role for pods without annotation", Map.of("role", role));
        }
        return r;
    }

    /** /debug/store's answer; {@code roleKey} is the annotation that names a pod's role (--iam-role-key). */
    static String debugStore(Collection<PodInfo> pods, String roleKey) {
        return pods.stream().map(p -> podJson(p, roleKey)).collect(Collectors.joining(",", "[", "]"));
    }

    /** Annotations are anyone's text: written by Jackson, never pasted. */
    private static String podJson(PodInfo p, String roleKey) {
        Map<String, Object> pod = new LinkedHashMap<>();
        pod.put("namespace", p.namespace());
        pod.put("name", p.name());
        pod.put("ips", p.ips());
        pod.put("phase", String.valueOf(p.phase()));
        pod.put("role", p.annotations().getOrDefault(roleKey, ""));
        return Json.object(pod);
    }

    public boolean ready() {
        return notReady == null;
    }

    public int appPort() {
        return server.appPort();
    }

    public int managementPort() {
        return server.managementPort();
    }

    /** What --on-exit=auto comes to: REMOVE when our DaemonSet is gone or going, BLOCK otherwise (and when unsure). */
    AgentConfig.OnExit resolveOnExit() {
        if (config.rules().onExit() != AgentConfig.OnExit.AUTO) {
            return config.rules().onExit();
        }
        try {
            return ownDaemonSetLeaving(kube, env) ? AgentConfig.OnExit.REMOVE : AgentConfig.OnExit.BLOCK;
        } catch (RuntimeException e) {
            log.event(Level.WARNING, "cannot tell whether the DaemonSet is being deleted; blocking: " + e.getMessage(), Map.of());
            return AgentConfig.OnExit.BLOCK;
        }
    }

    /**
     * Whether the DaemonSet that owns this agent's pod (env POD_NAME/POD_NAMESPACE) is gone or being deleted.
     * False when that cannot be known (no downward API env, no owner): the caller then keeps pods safe.
     */
    static boolean ownDaemonSetLeaving(KubernetesClient kube, Map<String, String> env) {
        String podName = env.get("POD_NAME");
        String podNamespace = env.get("POD_NAMESPACE");
        if (kube == null || podName == null || podNamespace == null) {
            return false;
        }
        Pod self = kube.pods().inNamespace(podNamespace).withName(podName).get();
        Optional<OwnerReference> owner = self == null ? Optional.empty() : self.getMetadata().getOwnerReferences().stream()
                .filter(o -> "DaemonSet".equals(o.getKind())).findFirst();
        if (owner.isEmpty()) {
            return false;
        }
        DaemonSet ds = kube.apps().daemonSets().inNamespace(podNamespace).withName(owner.get().getName()).get();
        return ds == null || ds.getMetadata().getDeletionTimestamp() != null;
    }

    /** Stop accepting, apply --on-exit to the rules, release everything. Safe to call more than once. */
    @Override
    public synchronized void close() {
        notReady = "shutting down";
        awaitBlock(); // whether the block went in decides what --on-exit has to do
        if (server != null) {
            server.close();
            server = null;
        }
        if (rulesInstalled) {
            AgentConfig.OnExit onExit = resolveOnExit();
            try {
                if (onExit == AgentConfig.OnExit.REMOVE) {
                    long started = System.nanoTime();
                    redirects.of(config.rules().backend()).remove();
                    log.event(Level.INFO, "metadata redirect removed; pods reach the node's metadata service again",
                            Map.of("duration.ms", millisSince(started)));
                } else {
                    redirects.block(config.rules().backend(), config.rules().spec().get());
                    log.event(Level.INFO, "metadata redirect replaced by a block until the next agent starts", Map.of());
                }
            } catch (RuntimeException e) {
                log.event(Level.ERROR, "could not apply --on-exit=" + onExit.name().toLowerCase() + ": " + e.getMessage()
                        + "; the redirect stays in place (pods get connection refused while no agent listens)", Map.of());
            }
            rulesInstalled = false;
        }
        for (AutoCloseable c : open.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                log.event(Level.WARNING, "closing " + c.getClass().getSimpleName() + ": " + e.getMessage(), Map.of());
            }
        }
        open.clear();
    }

    /** How long a step took, in milliseconds with microsecond precision: the benchmark reads it from the log. */
    private static double millisSince(long startedNanos) {
        return Math.round((System.nanoTime() - startedNanos) / 1_000.0) / 1_000.0;
    }
}
