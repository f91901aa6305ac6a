package io.iamlet.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.agent.Agent;
import io.iamlet.control.KubeClients;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.aws.StsRegion;
import io.iamlet.control.credentials.StsCredentialSource;
import io.iamlet.control.identity.IssuerKeys;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.Redirects;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.Shown;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** `iamlet doctor`: checks what the agent needs on this node and explains what is wrong. Exit 0 when nothing fails. */
final class DoctorCommand implements Subcommand {
    private static final List<String> OWN = List.of("host-ip", "host-interface", "app-port", "host-ipv6", "backend", "node",
            "metadata-addr", "kubeconfig", "api-server", "api-token", "insecure", "sts-endpoint", "use-regional-sts-endpoint", "region",
            "cgroup", "bpf-pin-dir", "container-credentials");
    private static final List<Flags.Spec> AGENT_FLAGS = RunCommand.FLAGS.stream().filter(s -> OWN.contains(s.name())).toList();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Flags.Spec> FLAGS = Stream.concat(AGENT_FLAGS.stream(), Stream.of(
            Flags.Spec.string("agent", "auto", "auto: check with the flags and environment of the agent running in this network"
                    + " namespace (found in /proc), yours added after them; none: only yours; or the agent's PID"),
            Flags.Spec.string("output", "text", "text or json"))).toList();

    private final PrintStream out;
    private final Map<String, String> env;

    DoctorCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    public String name() {
        return "doctor";
    }

    public String summary() {
        return "check the node, the rules, IMDS, the API and STS, and explain problems";
    }

    public String usage() {
        return "Usage: iamlet doctor [flags]\n\nIn the agent's container (kubectl exec ds/iamlet -- /opt/iamlet/bin/iamlet doctor) doctor checks with\n"
                + "the running agent's own flags and environment; flags given here are added after them. The rules are\n"
                + "compared with the flags when the host IP is known.\n\n" + Flags.describe(FLAGS);
    }

    /** How bad a finding is; its label is what both outputs print. */
    enum Level {
        OK, WARN, FAIL;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** --output. */
    private enum Output {
        TEXT, JSON;

        static Output parse(String text) {
            return switch (text) {
                case "text" -> TEXT;
                case "json" -> JSON;
                default -> throw new UsageException("--output takes text or json, not '" + text + "'");
            };
        }
    }

    record Finding(Level level, String check, String detail) {
    }

    public int run(List<String> args) {
        Flags own = Flags.parse(FLAGS, args);
        Output output = Output.parse(own.require("output"));
        List<Finding> findings = new ArrayList<>();
        Optional<RunningAgent> agent = agent(own.require("agent"), findings);
        List<String> combined = new ArrayList<>();
        Map<String, String> env = new LinkedHashMap<>(this.env);
        if (agent.isPresent()) {
            combined.addAll(agent.get().flagsFor(AGENT_FLAGS));
            env.putAll(agent.get().env());
        }
        combined.addAll(args);
        Flags f = Flags.parse(FLAGS, combined);
        return check(f, env, findings, output);
    }

    /** The running agent doctor checks with, and a finding saying which (or that there is none). */
    private static Optional<RunningAgent> agent(String which, List<Finding> findings) {
        if (which.equals("none")) {
            findings.add(new Finding(Level.OK, "config", "doctor's own flags and defaults (--agent=none)"));
            return Optional.empty();
        }
        List<RunningAgent> agents = RunningAgent.inThisNetworkNamespace(Path.of("/proc"));
        Optional<RunningAgent> chosen;
        if (which.equals("auto")) {
            List<RunningAgent> installing = agents.stream().filter(RunningAgent::installsRules).toList();
            chosen = (installing.isEmpty() ? agents : installing).stream().findFirst();
            if (agents.size() > 1) {
                findings.add(new Finding(Level.WARN, "config", agents.size() + " agents run in this network namespace (PIDs "
                        + agents.stream().map(a -> Long.toString(a.pid())).collect(Collectors.joining(", "))
                        + "): checked with PID " + chosen.orElseThrow().pid() + "'s; choose with --agent=PID"));
            }
        } else {
            long pid;
            try {
                pid = Long.parseLong(which);
            } catch (NumberFormatException e) {
                throw new UsageException("--agent takes auto, none or a PID, not '" + which + "'");
            }
            chosen = agents.stream().filter(a -> a.pid() == pid).findFirst();
            if (chosen.isEmpty()) {
                findings.add(new Finding(Level.FAIL, "config", "no agent (iamlet run) with PID " + pid + " in this network namespace"));
                return chosen;
            }
        }
        if (chosen.isPresent()) {
            findings.add(new Finding(Level.OK, "config", "the running agent's flags and environment (PID " + chosen.get().pid() + "): "
                    + String.join(" ", chosen.get().args())));
        } else {
            findings.add(new Finding(Level.WARN, "config", "no running agent in this network namespace: checked with doctor's own flags"
                    + " and defaults (run doctor in the agent's container: kubectl exec ds/iamlet -- /opt/iamlet/bin/iamlet doctor)"));
        }
        return chosen;
    }

    private int check(Flags f, Map<String, String> env, List<Finding> findings, Output output) {
        kernel(findings);
        capabilities(findings);
        rules(f, env, findings);
        metadata(f, findings);
        api(f, env, findings);
        sts(f, env, findings);
        long failed = findings.stream().filter(x -> x.level() == Level.FAIL).count();
        if (output == Output.JSON) {
            out.println(json(findings, failed));
        } else {
            findings.forEach(x -> out.printf("%-4s %-12s %s%n", x.level().label(), x.check(), x.detail()));
            out.println(failed == 0 ? "doctor: no problem found" : "doctor: " + failed + " problem(s) found");
        }
        return failed == 0 ? ExitCode.OK : ExitCode.FAILED;
    }

    private static String json(List<Finding> findings, long failed) {
        List<Map<String, Object>> list = findings.stream().map(x -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("level", x.level().label());
            m.put("check", x.check());
            m.put("detail", x.detail());
            return m;
        }).toList();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("problems", failed);
        doc.put("findings", list);
        return JSON.valueToTree(doc).toString();
    }

    private static void kernel(List<Finding> findings) {
        try {
            Redirects.probeNetfilter();
            findings.add(new Finding(Level.OK, "nf_tables", "netlink works and tables can be read"));
        } catch (RuntimeException | LinkageError e) {
            findings.add(new Finding(Level.FAIL, "nf_tables", e.getMessage()));
        }
        Optional<Path> cgroup2 = Stream.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))
                .filter(p -> Files.exists(p.resolve("cgroup.controllers"))).findFirst();
        findings.add(cgroup2.isPresent()
                ? new Finding(Level.OK, "cgroup v2", "mounted at " + cgroup2.get())
                : new Finding(Level.WARN, "cgroup v2", "not mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified (only the eBPF backend needs it)"));
        findings.add(Files.isDirectory(Path.of("/sys/fs/bpf"))
                ? new Finding(Level.OK, "bpf", "/sys/fs/bpf exists")
                : new Finding(Level.WARN, "bpf", "/sys/fs/bpf is missing (only the eBPF backend needs it)"));
    }

    private static void capabilities(List<Finding> findings) {
        try {
            String status = Files.readString(Path.of("/proc/thread-self/status"));
            long eff = status.lines().filter(l -> l.startsWith("CapEff:")).map(l -> Long.parseUnsignedLong(l.substring(7).strip(), 16))
                    .findFirst().orElse(0L);
            findings.add((eff & (1L << 12)) != 0
                    ? new Finding(Level.OK, "capabilities", "CAP_NET_ADMIN present")
                    : new Finding(Level.FAIL, "capabilities", "CAP_NET_ADMIN missing: run as root or add the NET_ADMIN capability"));
        } catch (Exception e) {
            findings.add(new Finding(Level.WARN, "capabilities", "cannot read /proc/thread-self/status: " + e.getMessage()));
        }
    }

    /**
     * The backend's redirect, compared with the flags when the host IP is known: for eBPF the pinned link
     * (present, redirecting, on the pods' cgroup), for netfilter the rules; then what competes with them.
     */
    private void rules(Flags f, Map<String, String> env, List<Finding> findings) {
        Backend backend;
        try {
            backend = RedirectFlags.backend(f);
        } catch (UsageException e) {
            findings.add(new Finding(Level.FAIL, "rules", e.getMessage()));
            return;
        }
        String name = backend == Backend.EBPF ? "ebpf" : "rules";
        try {
            Redirects redirects = RedirectFlags.redirects(f);
            Optional<RedirectSpec> spec = RedirectFlags.hostIp(f, env).map(ip -> RedirectFlags.spec(f, ip, f.integer("app-port")));
            Shown shown = redirects.of(backend).show(spec);
            findings.add(new Finding(shown.check() instanceof RuleCheck.AsExpected ? Level.OK : Level.FAIL, name, shown.headline()));
            if (backend == Backend.EBPF) {
                return;
            }
            for (String competing : redirects.competingRules()) {
                findings.add(new Finding(Level.WARN, "kube2iam", "competing DNAT of metadata traffic: " + competing
                        + " (remove kube2iam, or install with --backend=iptables --adopt-kube2iam-rules)"));
            }
            if (Redirects.legacyNatInUse()) {
                findings.add(new Finding(Level.WARN, "iptables", "a legacy (x_tables) nat table exists; nf_tables cannot see its rules."
                        + " The nftables backend works on such nodes (its chain runs first, at priority -110)."));
            }
        } catch (RuntimeException | LinkageError e) {
            findings.add(new Finding(Level.FAIL, name, e.getMessage()));
        }
    }

    private static NodeMetadata node(Flags f) {
        return new NodeMetadata(URI.create("http://" + f.require("metadata-addr")), Duration.ofSeconds(2));
    }

    private static void metadata(Flags f, List<Finding> findings) {
        try {
            findings.add(new Finding(Level.OK, "imds", "instance " + node(f).get("meta-data/instance-id").strip()
                    + " via " + f.require("metadata-addr") + " (IMDSv2)"));
        } catch (Exception e) {
            findings.add(new Finding(Level.FAIL, "imds", "the node's metadata service at " + f.require("metadata-addr")
                    + " does not answer: " + e.getMessage()));
        }
    }

    private void api(Flags f, Map<String, String> env, List<Finding> findings) {
        Optional<String> node = RedirectFlags.nodeName(f, env);
        try (KubernetesClient kube = KubeClients.create(RunCommand.apiSettings(f))) {
            kube.namespaces().list();
            if (node.isPresent()) {
                int pods = kube.pods().inAnyNamespace().withField("spec.nodeName", node.get()).list().getItems().size();
                findings.add(new Finding(Level.OK, "api", "lists namespaces and the " + pods + " pods of node " + node.get()));
            } else {
                findings.add(new Finding(Level.WARN, "api", "lists namespaces; set --node (or NODE_NAME) to check pod access"));
            }
            findings.add(eventsAllowed(kube));
            findings.add(issuerKeys(kube));
        } catch (RuntimeException e) {
            findings.add(new Finding(Level.FAIL, "api", "the Kubernetes API cannot be used: " + e.getMessage()
                    + " (check --kubeconfig/--api-server and RBAC: list/watch pods and namespaces)"));
        }
    }

    private static Finding eventsAllowed(KubernetesClient kube) {
        try {
            SelfSubjectAccessReview review = kube.authorization().v1().selfSubjectAccessReview().create(new SelfSubjectAccessReviewBuilder()
                    .withNewMetadata().endMetadata()
                    .withNewSpec().withNewResourceAttributes().withVerb("create").withResource("events").endResourceAttributes()
                    .endSpec().build());
            return review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAllowed())
                    ? new Finding(Level.OK, "rbac", "may create events (AssumeRole failures are shown on pods)")
                    : new Finding(Level.WARN, "rbac", "may not create events: AssumeRole failures will only be in the agent's log");
        } catch (RuntimeException e) {
            return new Finding(Level.WARN, "rbac", "could not ask whether events may be created: " + e.getMessage());
        }
    }

    /** Container credentials verify tokens offline with these keys; without them every token costs a TokenReview. */
    private static Finding issuerKeys(KubernetesClient kube) {
        try {
            IssuerKeys keys = new IssuerKeys(kube, Duration.ofSeconds(5), Clock.systemUTC());
            IssuerKeys.Discovery discovery = keys.discover();
            return new Finding(Level.OK, "issuer keys", "issuer " + discovery.issuer() + ", " + keys.fetchKeys(discovery).getKeys().size()
                    + " key(s) at " + discovery.keysFrom() + " (container credentials verify tokens offline)");
        } catch (IssuerKeys.KeysUnavailable e) {
            return new Finding(Level.WARN, "issuer keys", e.getMessage() + ": container credentials need --token-review=auto|always"
                    + " and RBAC create on tokenreviews");
        }
    }

    private void sts(Flags f, Map<String, String> env, List<Finding> findings) {
        try (StsCredentialSource sts = new StsCredentialSource(new StsCredentialSource.Settings(
                f.get("sts-endpoint").map(URI::create),
                StsRegion.choose(f.bool("use-regional-sts-endpoint"), f.get("region"), env, node(f)::region, FlagNames.FLAGS),
                Duration.ofHours(1), Duration.ofSeconds(10), Agent.defaultAwsCredentials()), Clock.systemUTC(), FlagNames.FLAGS)) {
            findings.add(new Finding(Level.OK, "sts", "the agent is " + sts.callerIdentity()));
        } catch (RuntimeException e) {
            findings.add(new Finding(Level.FAIL, "sts", e.getMessage()));
        }
    }
}
