package io.iamlet.agent.cli;

import io.iamlet.agent.http.ImdsV2;
import io.iamlet.agent.http.ContainerCredentialsEndpoint;
import io.iamlet.agent.Agent;
import io.iamlet.agent.AgentConfig;
import io.iamlet.agent.Version;
import io.iamlet.agent.log.LogBridge;
import io.iamlet.agent.log.LogFormat;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.log.RequestLog.Level;
import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.control.KubeClients;
import io.iamlet.control.identity.TokenVerifier;
import io.iamlet.control.credentials.StsCredentialSource;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.policy.SessionTagSettings;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.Backend;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.log.LineWriter;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.ReadBudget;

/** `iamlet run [flags]`, and bare `iamlet [flags]` as kube2iam is started: every kube2iam flag, plus iamlet's own. */
final class RunCommand implements Subcommand {
    static final List<Flags.Spec> FLAGS = List.of(
            Flags.Spec.string("app-port", "8181", "metadata server port"),
            Flags.Spec.string("metrics-port", "8182", "management port (/healthz /readyz /metrics); equal to --app-port serves both on one port as kube2iam did"),
            Flags.Spec.string("host-ip", "", "node IP the redirect points to (env HOST_IP when unset); required with --iptables"),
            Flags.Spec.string("host-ipv6", "", "node IPv6 address: also redirect [fd00:ec2::254]:80"),
            Flags.Spec.string("host-interface", "docker0", "pod interfaces: name, prefix+ or a comma list"),
            Flags.Spec.bool("iptables", "install the redirect rules (with --backend)"),
            Flags.Spec.string("backend", "nftables", "nftables, iptables (visible to iptables -t nat -S) or ebpf (cgroup connect program)"),
            Flags.Spec.string("cgroup", "", "with --backend=ebpf: the pods' cgroup v2 directory (default: the kubelet's kubepods slice)"),
            Flags.Spec.string("bpf-pin-dir", CgroupRedirect.DEFAULT_PIN_DIR.toString(), "where the eBPF backend pins its link (in a BPF filesystem)"),
            Flags.Spec.string("container-credentials", "off", "on: also redirect the EKS Pod Identity endpoint 169.254.170.23:80 ([fd00:ec2::23]:80 with --host-ipv6)"),
            Flags.Spec.bool("adopt-kube2iam-rules", "remove kube2iam's own DNAT rules on install (iptables backend)"),
            Flags.Spec.string("on-exit", "auto", "auto, remove or block: what happens to the rules on SIGTERM (see docs/operations.md)"),
            Flags.Spec.string("node", "", "node name (env NODE_NAME when unset)"),
            Flags.Spec.string("kubeconfig", "", "kubeconfig file (default: in-cluster)"),
            Flags.Spec.string("api-server", "", "API server URL"),
            Flags.Spec.string("api-token", "", "API bearer token"),
            Flags.Spec.bool("insecure", "do not verify the API server's certificate"),
            Flags.Spec.string("base-role-arn", "", "prefix for bare role names, arn:aws:iam::ACCOUNT:role/"),
            Flags.Spec.bool("auto-discover-base-arn", "take the base ARN from the node's instance profile"),
            Flags.Spec.string("default-role", "", "role for pods without annotation"),
            Flags.Spec.bool("auto-discover-default-role", "the node's own role as default role"),
            Flags.Spec.string("iam-role-key", RoleSettings.DEFAULT_ROLE_KEY, "pod annotation with the role"),
            Flags.Spec.string("iam-external-id", RoleSettings.DEFAULT_EXTERNAL_ID_KEY, "pod annotation with the ExternalId"),
            Flags.Spec.string("iam-role-session-ttl", "", "kube2iam compatibility: sessions last twice this (default: --session-duration)"),
            Flags.Spec.string("session-duration", "1h", "how long assumed credentials last"),
            Flags.Spec.string("session-name", "pod", "pod (one STS session per pod) or role (shared per role)"),
            Flags.Spec.bool("session-tags", "EKS Pod Identity's session tags on every AssumeRole (roles' trust policies must allow sts:TagSession)"),
            Flags.Spec.string("cluster-name", "", "with --session-tags: the eks-cluster-name tag"),
            Flags.Spec.string("cluster-arn", "", "with --session-tags: the eks-cluster-arn tag"),
            Flags.Spec.string("iam-role-error-ttl", "0", "how long an AssumeRole error is repeated without calling STS"),
            Flags.Spec.bool("allow-cross-account", true, "allow full ARNs of other accounts and partitions"),
            Flags.Spec.bool("namespace-restrictions", "only roles listed in the namespace annotation are allowed"),
            Flags.Spec.string("namespace-key", RoleSettings.DEFAULT_NAMESPACE_KEY, "namespace annotation with allowed roles"),
            Flags.Spec.string("namespace-restriction-format", "glob", "glob or regexp"),
            Flags.Spec.string("metadata-addr", "169.254.169.254", "the node's metadata service (host[:port])"),
            Flags.Spec.string("allow-metadata-path", "", "comma list of denied paths to let through (user-data, ...)"),
            Flags.Spec.string("imds-v2", "optional", "optional or required"),
            Flags.Spec.string("sts-endpoint", "", "STS endpoint URL (default: the SDK's, which honours AWS_ENDPOINT_URL_STS)"),
            Flags.Spec.bool("use-regional-sts-endpoint", "use the STS endpoint of the node's region"),
            Flags.Spec.string("region", "", "AWS region for the regional STS endpoint (default AWS_REGION, else the node's)"),
            Flags.Spec.string("cache-resync-period", "30m", "informer resync"),
            Flags.Spec.bool("resolve-duplicate-cache-ips", true, "ask the API server when two live pods claim one IP"),
            Flags.Spec.string("backoff-max-interval", "1s", "kube2iam compatibility (accepted, not needed: lookups wait on informer events)"),
            Flags.Spec.string("backoff-max-elapsed-time", "2s", "how long a request for an unknown pod IP waits for the pod to appear"),
            Flags.Spec.string("api-reads-per-second", String.valueOf(PodIndex.Settings.DEFAULT_API_READS_PER_SECOND),
                    "API reads this node's lookups may start per second while a watch is down (beyond: known pods from the index, others 503)"),
            Flags.Spec.string("sync-timeout", "60s", "how long start-up waits for the first list of pods"),
            Flags.Spec.string("log-format", "text", "text or json"),
            Flags.Spec.string("log-level", "info", "trace, debug, info, warning or error: lines below are dropped (every library's too)"),
            Flags.Spec.bool("verbose", "debug logging (kube2iam's meaning)"),
            Flags.Spec.bool("debug", "serve /debug/store on the management port"),
            Flags.Spec.bool("version", "print the version and exit"),
            Flags.Spec.string("container-credentials-path", ContainerCredentialsEndpoint.DEFAULT_PATH,
                    "path of the container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI)"),
            Flags.Spec.string("token-audience", TokenVerifier.DEFAULT_AUDIENCE,
                    "comma list of service-account token audiences accepted there (" + TokenVerifier.EKS_AUDIENCE + " is accepted too)"),
            Flags.Spec.string("token-review", "auto", "auto (TokenReview only when the issuer keys cannot be read), always or never"),
            Flags.Spec.string("idle-timeout", "60s", "close a connection that sits idle this long after a request"),
            Flags.Spec.string("max-connections", "10000", "connections the app port holds at once, all pods together"),
            Flags.Spec.string("max-connections-per-source", "128", "connections one address (one pod) holds at once (429 beyond)"),
            Flags.Spec.string("header-timeout", "10s", "close a connection whose request line and headers take longer than this"),
            Flags.Spec.string("max-header-bytes", "16384", "largest request headers accepted (431 beyond)"),
            Flags.Spec.string("max-body-bytes", "0", "largest request body accepted (413 beyond, and the connection closes; the metadata API reads none)"));

    private final PrintStream out;
    private final Map<String, String> env;

    RunCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    public String name() {
        return "run";
    }

    public String summary() {
        return "run the agent (also: iamlet [flags], as kube2iam)";
    }

    public String usage() {
        return "Usage: iamlet run [flags]   (or iamlet [flags])\n\nFlags:\n" + Flags.describe(FLAGS);
    }

    public int run(List<String> args) {
        Flags flags = Flags.parse(FLAGS, args);
        if (!flags.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + flags.positional().getFirst() + "'");
        }
        if (flags.bool("version")) {
            out.println("iamlet " + Version.current());
            return ExitCode.OK;
        }
        AgentConfig config = config(flags, env);
        RequestLog log = new RequestLog(LineWriter.async(out), config.serving().logFormat(), logLevel(flags),
                Clock.systemUTC());
        LogBridge.install(log);
        Agent agent = new Agent(config, log, env, Agent.defaultAwsCredentials());
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = Thread.ofPlatform().unstarted(() -> {
            log.event(Level.INFO, "stopping", Map.of());
            agent.close();
            log.flush();
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            agent.start();
        } catch (Exception e) {
            // Agent.start has logged why, in the log's own format (one JSON line with --log-format=json).
            Runtime.getRuntime().removeShutdownHook(hook);
            log.flush();
            return ExitCode.FAILED;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ExitCode.OK;
    }

    static AgentConfig config(Flags f, Map<String, String> env) {
        String node = RedirectFlags.nodeName(f, env)
                .orElseThrow(() -> new UsageException("--node is required (in a DaemonSet: env NODE_NAME from spec.nodeName)"));
        String hostIp = RedirectFlags.hostIp(f, env).orElse("");
        AgentConfig.Serving serving = serving(f);
        return new AgentConfig(new AgentConfig.Node(node, hostIp), rules(f, hostIp, serving.appPort()), pods(f), credentials(f), serving,
                FlagNames.FLAGS);
    }

    private static AgentConfig.Rules rules(Flags f, String hostIp, int appPort) {
        Backend backend = RedirectFlags.backend(f);
        Optional<RedirectSpec> redirect = f.bool("iptables") ? Optional.of(RedirectFlags.spec(f, hostIp, appPort)) : Optional.empty();
        Optional<Path> cgroup = Optional.empty();
        if (backend == Backend.EBPF && redirect.isPresent()) {
            cgroup = Optional.of(RedirectFlags.requireCgroup(f));
        }
        return new AgentConfig.Rules(redirect, backend, f.bool("adopt-kube2iam-rules"), choice(f, "on-exit", AgentConfig.OnExit.class),
                cgroup, Path.of(f.require("bpf-pin-dir")));
    }

    private static AgentConfig.Pods pods(Flags f) {
        return new AgentConfig.Pods(apiSettings(f), Durations.parse(f.require("cache-resync-period"), "cache-resync-period"),
                Durations.parse(f.require("backoff-max-elapsed-time"), "backoff-max-elapsed-time"), f.bool("resolve-duplicate-cache-ips"),
                apiReadsPerSecond(f), Durations.parse(f.require("sync-timeout"), "sync-timeout"));
    }

    private static AgentConfig.Credentials credentials(Flags f) {
        RoleSettings roles = new RoleSettings(f.require("iam-role-key"), f.require("iam-external-id"), Optional.empty(),
                f.get("default-role"), f.bool("allow-cross-account"), f.bool("namespace-restrictions"), f.require("namespace-key"),
                choice(f, "namespace-restriction-format", RoleSettings.RestrictionFormat.class),
                choice(f, "session-name", RoleSettings.SessionNaming.class));
        if (f.get("base-role-arn").isPresent()) {
            try {
                roles = roles.withBaseArn(f.get("base-role-arn").get());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--base-role-arn: " + e.getMessage());
            }
        }
        roles = roles.withSessionTags(sessionTags(f));
        if (f.bool("auto-discover-default-role") && f.get("default-role").isPresent()) {
            throw new UsageException("--auto-discover-default-role and --default-role are alternatives: give one");
        }
        return new AgentConfig.Credentials(roles, f.bool("auto-discover-base-arn"), f.bool("auto-discover-default-role"),
                f.get("sts-endpoint").map(RunCommand::uri), f.bool("use-regional-sts-endpoint"), f.get("region"), sessionDuration(f),
                Durations.parse(f.require("iam-role-error-ttl"), "iam-role-error-ttl"));
    }

    /** --session-duration, or kube2iam's --iam-role-session-ttl (half the session), within STS's and the cache's limits. */
    private static Duration sessionDuration(Flags f) {
        String sessionFlag = f.get("iam-role-session-ttl").isPresent() ? "iam-role-session-ttl" : "session-duration";
        Duration session = sessionFlag.equals("iam-role-session-ttl")
                ? Durations.parse(f.get("iam-role-session-ttl").get(), "iam-role-session-ttl").multipliedBy(2)
                : Durations.parse(f.require("session-duration"), "session-duration");
        try {
            StsCredentialSource.checkSessionDuration(session);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + sessionFlag + ": " + e.getMessage());
        }
        Duration shortest = CredentialCache.Settings.defaults().shortestSession();
        if (session.compareTo(shortest) < 0) {
            throw new UsageException("--" + sessionFlag + ": sessions must last at least " + shortest.toMinutes() + "m, not "
                    + session.toMinutes() + "m: pods are never served credentials with 15 minutes or less left (SDKs refresh"
                    + " on every call below that) and the agent refreshes 5 to 7 minutes before; use --session-duration=1h");
        }
        return session;
    }

    private static AgentConfig.Serving serving(Flags f) {
        return new AgentConfig.Serving(port(f, "app-port"), port(f, "metrics-port"), metadataUri(f.require("metadata-addr")),
                new LinkedHashSet<>(f.get("allow-metadata-path").map(s -> Arrays.stream(s.split(",")).map(String::strip)
                        .filter(x -> !x.isEmpty()).toList()).orElse(List.of())),
                choice(f, "imds-v2", ImdsV2.class), containerCredentialsEndpoint(f), limits(f),
                choice(f, "log-format", LogFormat.class), f.bool("debug"));
    }

    private static SessionTagSettings sessionTags(Flags f) {
        try {
            return new SessionTagSettings(f.bool("session-tags"), f.get("cluster-name"), f.get("cluster-arn"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--cluster-name, --cluster-arn: " + e.getMessage());
        }
    }

    /** The endpoint that --container-credentials=on serves on the app port (with or without --iptables). */
    private static ContainerCredentialsEndpoint containerCredentialsEndpoint(Flags f) {
        List<String> audiences = Arrays.stream(f.require("token-audience").split(",")).map(String::strip).filter(a -> !a.isEmpty()).toList();
        if (audiences.isEmpty()) {
            throw new UsageException("--token-audience needs at least one audience");
        }
        TokenVerifier.Mode review = choice(f, "token-review", TokenVerifier.Mode.class);
        boolean enabled = RedirectFlags.containerCredentials(f);
        try {
            return new ContainerCredentialsEndpoint(enabled, f.require("container-credentials-path"),
                    TokenVerifier.Settings.audiences(new LinkedHashSet<>(audiences)), review);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--container-credentials-path: " + e.getMessage());
        }
    }

    /** --api-reads-per-second; the range check is ReadBudget's own, this adds the flag's name. */
    private static int apiReadsPerSecond(Flags f) {
        String value = f.require("api-reads-per-second");
        try {
            return ReadBudget.checkPerSecond(Integer.parseInt(value));
        } catch (NumberFormatException e) {
            throw new UsageException("--api-reads-per-second must be a whole number, not '" + value + "'");
        } catch (IllegalArgumentException e) {
            throw new UsageException("--api-reads-per-second: " + e.getMessage());
        }
    }

    /** The API flags; the conflict check is ApiSettings' own, this adds the flag names. */
    static KubeClients.ApiSettings apiSettings(Flags f) {
        try {
            return new KubeClients.ApiSettings(f.get("kubeconfig").map(Path::of), f.get("api-server"), f.get("api-token"), f.bool("insecure"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--kubeconfig and --api-server are alternatives: give one");
        }
    }

    /** kube2iam: --verbose means debug, whatever --log-level says. */
    static RequestLog.Level logLevel(Flags f) {
        if (f.bool("verbose")) {
            return RequestLog.Level.DEBUG;
        }
        try {
            return RequestLog.Level.parse(f.require("log-level"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--log-level: " + e.getMessage());
        }
    }

    private static ServerLimits limits(Flags f) {
        try {
            return new ServerLimits(Durations.parse(f.require("idle-timeout"), "idle-timeout"),
                    Integer.parseInt(f.require("max-connections")), Integer.parseInt(f.require("max-header-bytes")),
                    Long.parseLong(f.require("max-body-bytes")), Durations.parse(f.require("header-timeout"), "header-timeout"),
                    Integer.parseInt(f.require("max-connections-per-source")));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--idle-timeout, --header-timeout, --max-connections, --max-connections-per-source,"
                    + " --max-header-bytes, --max-body-bytes: " + e.getMessage());
        }
    }

    private static int port(Flags f, String name) {
        int p = f.integer(name);
        if (p < 1 || p > 65535) {
            throw new UsageException("--" + name + " must be 1..65535, not " + p);
        }
        return p;
    }

    private static <E extends Enum<E>> E choice(Flags f, String name, Class<E> type) {
        String v = f.require(name);
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) {
                return e;
            }
        }
        throw new UsageException("--" + name + " must be one of " + Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase()).toList() + ", not '" + v + "'");
    }

    private static URI uri(String text) {
        try {
            URI u = URI.create(text);
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new UsageException("--sts-endpoint must be a URL like https://sts.eu-west-1.amazonaws.com, not '" + text + "'");
        }
    }

    private static URI metadataUri(String addr) {
        String a = addr.strip();
        if (!a.matches("[A-Za-z0-9.:\\[\\]-]+")) {
            throw new UsageException("--metadata-addr takes host or host:port, not '" + addr + "'");
        }
        return URI.create("http://" + a);
    }
}
