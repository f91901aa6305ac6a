package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import io.iamlet.e2e.ApiAccess;
import io.iamlet.e2e.Chart;
import io.iamlet.e2e.Launcher;
import io.iamlet.e2e.OciArchive;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The agent's image, built by bin/image and run as a node runs it, without a container runtime: its layers
 * unpacked in order into a root filesystem, its entrypoint started there (chroot) with the image's env and
 * the chart's arguments, env and securityContext (only the capabilities it adds, no privilege escalation, a
 * read-only root), inside the sandbox's node. Pods then get their roles through the real redirect; the API
 * calls the agent makes are recorded and must be exactly what the chart's ClusterRole grants.
 */
class ImageE2eTest {
    private static final Path ROOT = Launcher.repositoryRoot();
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/";
    private static final String KUBECONFIG = "/etc/iamlet/kubeconfig";
    private static final String AGENT_POD = "iamlet-x7k2p";
    /**
     * The image's unpacked size limits, what a node pulls and keeps: the image without its AOT cache stays within the
     * 150 MiB it always had; the cache (69.2 MiB on 2026-12-03, 16 MiB of the compressed pull) may take 80 MiB more.
     * Why the cache is worth it: the agent from the image reaches /readyz 200 in about half the time with it
     * (docs/image.md has the figures), and until then its node's pods wait for their credentials, after every
     * restart and roll.
     */
    private static final long MAX_WITHOUT_CACHE = 150L * 1024 * 1024;
    private static final long MAX_CACHE = 80L * 1024 * 1024;

    private static Path work;
    private static List<String> digests;
    private static OciArchive image;

    /**
     * bin/image twice: the second run reuses the cached root filesystem and the AOT cache trained for the same runtime
     * and jars, and must give the same digest.
     */
    @BeforeAll
    static void buildTwice() throws Exception {
        work = Files.createTempDirectory("iamlet-image-test-");
        digests = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            long start = System.nanoTime();
            // The AOT cache's training (the benchmark, briefly) runs with this JVM's class path: no build inside the build.
            Command.Result r = Command.run(Duration.ofMinutes(10), List.of("env", "IAMLET_TRAINING_CLASSPATH=" + System.getProperty("java.class.path"),
                    ROOT.resolve("bin/image").toString(), "--no-build"));
            assertEquals(0, r.exitCode(), "bin/image failed:\n" + r.output());
            System.out.printf("bin/image run %d: %d s%n%s%n", i + 1, (System.nanoTime() - start) / 1_000_000_000, r.stdout());
            digests.add(Files.readString(archive().resolveSibling(archive().getFileName() + ".digest")).strip());
        }
        image = OciArchive.open(archive(), work.resolve("layout"));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (work != null) {
            Command.run("rm", "-rf", work.toString()).ok();
        }
    }

    private static String appVersion() throws IOException {
        return Files.readAllLines(Chart.DIR.resolve("Chart.yaml")).stream().filter(l -> l.startsWith("appVersion:"))
                .map(l -> l.substring("appVersion:".length()).strip().replace("\"", "")).findFirst().orElseThrow();
    }

    private static Path archive() throws IOException {
        return ROOT.resolve("target/image/iamlet-" + appVersion() + ".oci.tar");
    }

    @Test
    void theImageIsReproducibleSmallAndWhatTheChartPullsByDefault() throws Exception {
        assertEquals(digests.get(0), digests.get(1), "same inputs, same digest");
        assertEquals(digests.get(0), image.digest(), "the .digest file names the archive's image");
        DaemonSet ds = Chart.one(Chart.objects(Chart.render(Map.of())), DaemonSet.class);
        assertEquals(ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage(), image.reference(),
                "the chart's default image is the one bin/image builds");
        long size = image.uncompressedSize();
        long cache = Files.size(ROOT.resolve("target/image/iamlet.aot")); // what bin/image shipped as /opt/iamlet/iamlet.aot
        System.out.printf("image %s: %.1f MiB uncompressed, of which the AOT cache %.1f MiB; archive %.1f MiB%n", image.reference(),
                size / 1024.0 / 1024.0, cache / 1024.0 / 1024.0, Files.size(archive()) / 1024.0 / 1024.0);
        assertTrue(size - cache <= MAX_WITHOUT_CACHE, "the image without its AOT cache unpacks to " + (size - cache) + " bytes, more than " + MAX_WITHOUT_CACHE);
        assertTrue(cache <= MAX_CACHE, "the AOT cache has " + cache + " bytes, more than " + MAX_CACHE);
    }

    private static final String INTERFACES = Stream.of(InterfaceStyle.values()).map(InterfaceStyle::hostInterface).collect(Collectors.joining(","));

    /** The values that point the chart's agent at the sandbox's fakes; the rest is the chart's defaults. */
    private static Map<String, String> sandboxValues() {
        // When the container-credentials endpoint (issue #16) gets a chart value, turn it on here and add a pod's
        // request to it below: its TokenReview rule must then be granted and used like every other.
        return new LinkedHashMap<>(Map.of("hostInterface", "\"" + INTERFACES + "\"", "stsEndpoint", "http://" + Sandbox.STS_IP,
                "defaultRole", Sandbox.DEFAULT_ROLE, "namespaceRestrictions", "true",
                "extraArgs", "[\"--kubeconfig=" + KUBECONFIG + "\"]"));
    }

    /** The chart's agent container for these values, with the checks that let a chroot stand for its runtime. */
    private static Container chartContainer(List<HasMetadata> objects) {
        Container container = Chart.one(objects, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
        OciArchive.Config config = image.config();
        assertTrue(Set.of("", "0", "0:0").contains(config.user()), "the image runs as root, the chart sets no runAsUser: " + config.user());
        assertNull(container.getSecurityContext().getRunAsUser());
        assertEquals("/", config.workingDir().isEmpty() ? "/" : config.workingDir(), "capsh --chroot starts in /");
        return container;
    }

    /** The agent's own pod and DaemonSet in the API, which --on-exit=auto looks up on SIGTERM. */
    private static void agentPodAndDaemonSet(Sandbox sandbox, List<HasMetadata> objects) {
        DaemonSet created = sandbox.api().client().apps().daemonSets().inNamespace("kube-system")
                .resource(Chart.one(objects, DaemonSet.class)).create();
        Pod self = new PodBuilder(Pods.pod("kube-system", AGENT_POD, Sandbox.NODE_NAME, "Running", Map.of(), Sandbox.HOST_IP))
                .editMetadata().addNewOwnerReference().withApiVersion("apps/v1").withKind("DaemonSet")
                .withName(created.getMetadata().getName()).withUid(created.getMetadata().getUid()).withController(true).endOwnerReference().endMetadata()
                .editMetadata().addToLabels(created.getSpec().getSelector().getMatchLabels()).endMetadata()
                .editSpec().withHostNetwork(true).endSpec().editStatus().withHostIP(Sandbox.HOST_IP).endStatus().build();
        sandbox.api().client().pods().inNamespace("kube-system").resource(self).create();
    }

    @Test
    void theAgentRunsFromTheImageAsTheChartRunsItAndCallsExactlyWhatItsClusterRoleGrants() throws Exception {
        List<HasMetadata> objects = Chart.objects(Chart.render(sandboxValues()));
        Container container = chartContainer(objects);
        OciArchive.Config config = image.config();

        try (Sandbox sandbox = Sandbox.start()) {
            sandbox.namespace("team", "app-*");
            agentPodAndDaemonSet(sandbox, objects);

            try (ContainerRoot root = ContainerRoot.create(image, Map.of(KUBECONFIG, Files.readString(sandbox.kubeconfig())), Map.of())) {
                AgentProcess agent = sandbox.startInNode(containerCommand(root, config, container, container.getArgs()));
                assertCapabilitiesAreTheChartsOnly(agent, root, container);
                String jvmOptions = container.getEnv().stream().filter(e -> e.getName().equals("IAMLET_JAVA_OPTS")).findFirst().orElseThrow().getValue();
                assertTrue(Files.readString(Path.of("/proc/" + agent.pid() + "/cmdline")).contains(jvmOptions), "the chart's jvmOptions reach the JVM");
                for (var probe : List.of(container.getLivenessProbe().getHttpGet(), container.getReadinessProbe().getHttpGet())) {
                    RawHttp.Response r = RawHttp.get(sandbox.node(), Sandbox.HOST_IP, probe.getPort().getIntVal(), probe.getPath(), Map.of());
                    assertEquals(200, r.status(), "the probe " + probe.getPath() + " on port " + probe.getPort().getIntVal() + ": " + r);
                }

                SandboxPod web = sandbox.addPod(InterfaceStyle.CALI, "team", "web", "app-web");
                assertEquals("app-web", RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH, Map.of()).body());
                RawHttp.Response creds = RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "app-web", Map.of());
                assertEquals(200, creds.status(), creds.toString());
                assertTrue(creds.body().contains("\"AccessKeyId\""), creds.body());
                // A role STS refuses: the agent records a Warning event on the pod.
                sandbox.sts().deny(Sandbox.BASE_ARN + "app-refused");
                SandboxPod refused = sandbox.addPod(InterfaceStyle.ENI, "team", "refused", "app-refused");
                RawHttp.Response denied = RawHttp.get(refused.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "app-refused", Map.of());
                assertNotEquals(200, denied.status(), denied.toString());
                awaitRequest(sandbox.api(), "POST", "/events");
                // `kubectl exec ds/iamlet -- /opt/iamlet/bin/iamlet doctor` exactly as NOTES.txt prints it, no flag: the same
                // root, env and capabilities as the agent; doctor finds the agent in /proc and checks with its flags
                // (the chart's interfaces, the kubeconfig, the STS endpoint), so its verdict is this node's.
                Command.Result doctor = sandbox.node().exec(containerCommand(root, config, container, List.of("doctor"))
                        .toArray(String[]::new));
                for (String line : List.of("ok   config       the running agent's flags and environment (PID ", "ok   capabilities CAP_NET_ADMIN",
                        "ok   rules", "ok   api          lists namespaces and the", "ok   sts")) {
                    assertTrue(doctor.stdout().contains(line), "'" + line + "' missing from doctor:\n" + doctor.output());
                }
                assertTrue(doctor.stdout().contains("--host-interface=" + INTERFACES), doctor.output());
                // Every script of the image, with the image's environment only: no tool it calls may be missing.
                List<String> scripts;
                try (var files = Files.list(root.path().resolve("opt/iamlet/bin"))) {
                    scripts = files.map(f -> "opt/iamlet/bin/" + f.getFileName()).sorted().toList();
                }
                assertEquals(List.of("opt/iamlet/bin/iamlet", "opt/iamlet/bin/java-home"), scripts);
                for (String script : scripts) {
                    List<String> args = script.endsWith("/iamlet") ? List.of("version") : List.of();
                    Command.Result r = sandbox.node().exec(containerCommand(root, config, container, List.of("/" + script), args).toArray(String[]::new));
                    assertEquals(0, r.exitCode(), script + ":\n" + r.output());
                    assertFalse(r.output().contains("command not found"), script + ":\n" + r.output());
                }
                assertFalse(agent.log().contains("command not found"), agent.log());
                helmTestFromTheImage(sandbox, root, config, container, objects);

                agent.stop();
                String blocked = sandbox.nodeRuleset();
                assertTrue(blocked.contains("reject with tcp reset"), "--on-exit=auto found its DaemonSet staying: block\n" + blocked
                        + "\n" + agent.log());

                Command.Result uninstall = sandbox.node().exec(containerCommand(root, config, container, List.of("uninstall")).toArray(String[]::new));
                assertEquals(0, uninstall.exitCode(), uninstall.output());
                assertEquals("", sandbox.nodeRuleset(), "uninstall from the image leaves no trace in nft list ruleset");
            }

            Set<ApiAccess> used = agentCalls(sandbox.api());
            Set<ApiAccess> granted = ApiAccess.granted(Chart.one(objects, ClusterRole.class));
            assertEquals(granted, used, "the ClusterRole must grant exactly the calls the agent made (used " + used + ", granted " + granted + ")");
        }
    }

    /**
     * `helm test`'s command, from the image, against the sandbox's API: the DaemonSet's pods found by its selector and
     * each node's agent asked. A second agent pod on a node where nothing answers (its hostIP the fake STS's address)
     * makes it fail naming that node; without it, it passes.
     */
    private static void helmTestFromTheImage(Sandbox sandbox, ContainerRoot root, OciArchive.Config config, Container agentContainer,
                                             List<HasMetadata> objects) throws Exception {
        Container test = Chart.tests(sandboxValues()).stream().filter(Pod.class::isInstance).map(Pod.class::cast).findFirst().orElseThrow()
                .getSpec().getContainers().getFirst();
        List<String> command = new ArrayList<>(test.getCommand());
        command.add("--kubeconfig=" + KUBECONFIG); // in a cluster: the test ServiceAccount's token
        DaemonSet ds = Chart.one(objects, DaemonSet.class);
        Pod other = new PodBuilder(Pods.pod("kube-system", "iamlet-q9z8w", "node-b", "Running", Map.of(), Sandbox.STS_IP))
                .editMetadata().addToLabels(ds.getSpec().getSelector().getMatchLabels()).endMetadata()
                .editSpec().withHostNetwork(true).endSpec().editStatus().withHostIP(Sandbox.STS_IP).endStatus().build();
        sandbox.api().client().pods().inNamespace("kube-system").resource(other).create();
        Command.Result failing = sandbox.node().exec(containerCommand(root, config, agentContainer, command.subList(0, 1), command.subList(1, command.size()))
                .toArray(String[]::new));
        assertEquals(1, failing.exitCode(), failing.output());
        assertTrue(failing.stdout().contains("ok   " + Sandbox.NODE_NAME + " " + Sandbox.HOST_IP + " /readyz 200"), failing.output());
        assertTrue(failing.stdout().contains("fail node-b " + Sandbox.STS_IP + " /readyz"), failing.output());
        sandbox.api().client().pods().inNamespace("kube-system").withName("iamlet-q9z8w").withGracePeriod(0).delete();
        Command.Result passing = sandbox.node().exec(containerCommand(root, config, agentContainer, command.subList(0, 1), command.subList(1, command.size()))
                .toArray(String[]::new));
        assertEquals(0, passing.exitCode(), passing.output());
        assertTrue(passing.stdout().contains("readiness: 1 of 1 agents ready (" + Sandbox.NODE_NAME + ")"), passing.output());
    }

    /**
     * The image's AOT cache is used and what it buys: the agent started from the image as the chart starts it, from
     * process start to /readyz 200 on its metrics port, with the cache required (-XX:AOTMode=on: the JVM refuses to
     * start when it cannot map the cache, so a start proves the cache matches the image's runtime and jars) and with
     * it off, alternately. The figures are printed (docs/image.md has them, dated); no timing is asserted.
     */
    @Test
    void theImagesAotCacheIsUsedAndItsStartUpIsMeasured() throws Exception {
        List<HasMetadata> objects = Chart.objects(Chart.render(sandboxValues()));
        Container container = chartContainer(objects);
        OciArchive.Config config = image.config();
        int metricsPort = container.getReadinessProbe().getHttpGet().getPort().getIntVal();
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        try (Sandbox sandbox = Sandbox.start()) {
            sandbox.namespace("team", "app-*");
            try (ContainerRoot root = ContainerRoot.create(image, Map.of(KUBECONFIG, Files.readString(sandbox.kubeconfig())), Map.of())) {
                assertTrue(Files.size(root.path().resolve("opt/iamlet/iamlet.aot")) > 0, "the image ships /opt/iamlet/iamlet.aot");
                for (int run = 0; run < 3; run++) {
                    for (String mode : List.of("-XX:AOTMode=on", "-XX:AOTMode=off")) {
                        Container c = withJvmOption(container, mode);
                        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", sandbox.node().name()));
                        command.addAll(containerCommand(root, config, c, c.getArgs()));
                        long start = System.nanoTime();
                        try (AgentProcess agent = AgentProcess.start(command, Files.createTempFile(work, "agent-", ".log"))) {
                            while (!ready(sandbox, metricsPort)) {
                                if (!agent.isAlive() || System.nanoTime() - start > Duration.ofSeconds(60).toNanos()) {
                                    fail("the agent from the image (" + mode + ") never answered /readyz 200:\n" + agent.log());
                                }
                                Thread.sleep(10);
                            }
                            seconds.computeIfAbsent(mode, m -> new ArrayList<>()).add((System.nanoTime() - start) / 1e9);
                            assertFalse(agent.log().contains("AOT"), "the JVM complained about the cache:\n" + agent.log());
                            agent.stop();
                        }
                    }
                }
                Command.Result uninstall = sandbox.node().exec(containerCommand(root, config, container, List.of("uninstall")).toArray(String[]::new));
                assertEquals(0, uninstall.exitCode(), uninstall.output());
            }
        }
        seconds.forEach((mode, s) -> System.out.printf("image start -> /readyz 200, %s: %s s (median %.2f s)%n", mode,
                s.stream().map(x -> String.format("%.2f", x)).toList(), s.stream().sorted().toList().get(s.size() / 2)));
    }

    private static boolean ready(Sandbox sandbox, int port) {
        try {
            return RawHttp.get(sandbox.node(), Sandbox.HOST_IP, port, "/readyz", Map.of()).status() == 200;
        } catch (Exception notListeningYet) {
            return false;
        }
    }

    /** The container with one more JVM option in IAMLET_JAVA_OPTS (the chart's jvmOptions), after the chart's. */
    private static Container withJvmOption(Container container, String option) {
        Container c = new io.fabric8.kubernetes.api.model.ContainerBuilder(container).build();
        c.setEnv(container.getEnv().stream().map(e -> e.getName().equals("IAMLET_JAVA_OPTS")
                ? new EnvVar(e.getName(), e.getValue() + " " + option, null) : e).toList());
        assertTrue(c.getEnv().stream().anyMatch(e -> e.getName().equals("IAMLET_JAVA_OPTS") && e.getValue().endsWith(option)), c.getEnv().toString());
        return c;
    }

    /**
     * The chart's eBPF variant from the image: the capabilities it adds (and no others) are enough to load, attach
     * and check the connect program, with the node's cgroup hierarchy read-only and the BPF filesystem where the
     * chart mounts them.
     */
    @Test
    void theEbpfBackendRunsFromTheImageWithTheCapabilitiesTheChartAddsOnly() throws Exception {
        try (Sandbox sandbox = Sandbox.start()) {
            sandbox.namespace("team", "app-*");
            sandbox.enableEbpf();
            Path podCgroup = sandbox.podCgroup().orElseThrow();
            Map<String, String> values = sandboxValues();
            values.put("backend", "ebpf");
            values.put("onExit", "remove");
            values.put("ebpf", "{cgroup: /sys/fs/cgroup/" + podCgroup.getFileName() + "}");
            List<HasMetadata> objects = Chart.objects(Chart.render(values));
            Container container = chartContainer(objects);
            assertTrue(container.getSecurityContext().getCapabilities().getAdd().containsAll(List.of("NET_ADMIN", "BPF")));
            agentPodAndDaemonSet(sandbox, objects);
            // The chart's hostPath volumes: the node's cgroup hierarchy (read-only) and BPF filesystem.
            Map<String, String> mounts = new LinkedHashMap<>();
            container.getVolumeMounts().forEach(m -> mounts.put(m.getName(), m.getMountPath()));
            Map<Path, String> hostPaths = new LinkedHashMap<>();
            hostPaths.put(podCgroup.getParent(), mounts.get("cgroup"));
            hostPaths.put(sandbox.bpfPinDir().orElseThrow().getParent(), mounts.get("bpffs"));

            try (ContainerRoot root = ContainerRoot.create(image, Map.of(KUBECONFIG, Files.readString(sandbox.kubeconfig())), hostPaths)) {
                AgentProcess agent = sandbox.startInNode(containerCommand(root, image.config(), container, container.getArgs()));
                assertCapabilitiesAreTheChartsOnly(agent, root, container);
                SandboxPod web = sandbox.addPod(InterfaceStyle.CALI, "team", "web", "app-web");
                Command.Result role = PodClients.curl(sandbox, web, "-s", "http://" + Sandbox.IMDS_IP + ROLE_PATH);
                assertEquals("app-web", role.stdout(), role.output());
                assertEquals("", sandbox.nodeRuleset(), "no netfilter rule: the cgroup program redirects");
                assertEquals(1, CgroupRedirect.attachedPrograms(podCgroup));
                agent.stop();
                assertEquals(0, CgroupRedirect.attachedPrograms(podCgroup), "--on-exit=remove detaches it\n" + agent.log());
            }
        }
    }

    /**
     * The container's process as a runtime starts it: env of the image, then of the container (the downward
     * API resolved as on the sandbox's node); the root; the bounding set cut to what the securityContext adds
     * (root then gets exactly those on exec); no_new_privs; the image's entrypoint with the container's args.
     */
    private static List<String> containerCommand(ContainerRoot root, OciArchive.Config config, Container c, List<String> args) {
        return containerCommand(root, config, c, config.entrypoint(), args == null || args.isEmpty() ? config.cmd() : args);
    }

    /** A command line in the container as {@link #containerCommand(ContainerRoot, OciArchive.Config, Container, List)}, another program. */
    private static List<String> containerCommand(ContainerRoot root, OciArchive.Config config, Container c, List<String> entrypoint, List<String> args) {
        Map<String, String> env = new LinkedHashMap<>(config.env());
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() == null) {
                env.put(e.getName(), e.getValue());
                continue;
            }
            String field = e.getValueFrom().getFieldRef().getFieldPath();
            env.put(e.getName(), switch (field) {
                case "status.hostIP" -> Sandbox.HOST_IP;
                case "spec.nodeName" -> Sandbox.NODE_NAME;
                case "metadata.name" -> AGENT_POD;
                case "metadata.namespace" -> "kube-system";
                default -> throw new AssertionError("a downward API field the sandbox does not provide: " + field);
            });
        }
        var security = c.getSecurityContext();
        assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
        assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem(), "ContainerRoot mounts the root read-only");
        Set<String> keep = security.getCapabilities().getAdd().stream().map(a -> "cap_" + a.toLowerCase()).collect(Collectors.toSet());
        List<String> drop = allCapabilities().stream().filter(cap -> !keep.contains(cap)).toList();

        List<String> command = new ArrayList<>(List.of("/usr/bin/env", "-i"));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.addAll(List.of("/usr/sbin/capsh", "--chroot=" + root.path(), "--drop=" + String.join(",", drop)));
        if (Boolean.FALSE.equals(security.getAllowPrivilegeEscalation())) {
            command.add("--no-new-privs");
        }
        command.add("--shell=" + entrypoint.getFirst());
        command.add("--");
        command.addAll(entrypoint.subList(1, entrypoint.size()));
        command.addAll(args);
        return command;
    }

    /** Every capability this kernel knows, by capsh's names. */
    private static List<String> allCapabilities() {
        int last = Integer.parseInt(Command.run("cat", "/proc/sys/kernel/cap_last_cap").ok().stdout().strip());
        String decoded = Command.run("capsh", "--decode=0x" + Long.toHexString((1L << (last + 1)) - 1)).ok().stdout().strip();
        return List.of(decoded.substring(decoded.indexOf('=') + 1).split(","));
    }

    private static void assertCapabilitiesAreTheChartsOnly(AgentProcess agent, ContainerRoot root, Container c) throws IOException {
        long expected = 0;
        for (String add : c.getSecurityContext().getCapabilities().getAdd()) {
            expected |= 1L << capabilityNumber("cap_" + add.toLowerCase());
        }
        Map<String, String> status = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + agent.pid() + "/status"))) {
            String[] kv = line.split(":\\s*", 2);
            status.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        assertTrue(Files.readString(Path.of("/proc/" + agent.pid() + "/cmdline")).contains("java"), "the started process became the JVM");
        for (String set : List.of("CapBnd", "CapPrm", "CapEff")) {
            assertEquals(expected, Long.parseUnsignedLong(status.get(set), 16), set + " of the agent: only what the chart adds");
        }
        assertEquals(0, Long.parseUnsignedLong(status.get("CapAmb"), 16), "no ambient capabilities");
        assertEquals("1", status.get("NoNewPrivs"), "allowPrivilegeEscalation: false");
        assertEquals(root.path(), Files.readSymbolicLink(Path.of("/proc/" + agent.pid() + "/root")), "the agent's root is the image's");
    }

    private static int capabilityNumber(String name) {
        List<String> all = allCapabilities();
        int n = all.indexOf(name);
        assertTrue(n >= 0, "unknown capability " + name);
        return n;
    }

    /** Waits until the agent (the kubeconfig's token) sent METHOD to a path ending so. */
    private static void awaitRequest(MockApiServer api, String method, String pathEnd) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (api.requests().stream().anyMatch(r -> r.method().equals(method) && r.path().split("\\?")[0].endsWith(pathEnd))) {
                return;
            }
            Thread.sleep(50);
        }
        fail("no " + method + " …" + pathEnd + " reached the API: " + api.requests());
    }

    /** Kubernetes grants this to every authenticated user (ClusterRole system:basic-user): doctor asks it, no rule needed. */
    private static final ApiAccess SELF_REVIEW = new ApiAccess("authorization.k8s.io", "selfsubjectaccessreviews", "create");

    /** What the agent and doctor asked of the API (requests with the sandbox kubeconfig's token, not the test's own). */
    private static Set<ApiAccess> agentCalls(MockApiServer api) {
        Set<ApiAccess> out = new TreeSet<>();
        for (MockApiServer.Request r : api.requests()) {
            // The service-account issuer's discovery documents (doctor checks them for container credentials) are
            // non-resource URLs Kubernetes grants every service account (system:service-account-issuer-discovery).
            boolean issuerDiscovery = r.path().startsWith("/.well-known/openid-configuration") || r.path().startsWith("/openid/v1/jwks");
            if ("Bearer sandbox-token".equals(r.authorization()) && !issuerDiscovery) {
                out.add(ApiAccess.of(r.method(), r.path()));
            }
        }
        assertTrue(out.remove(SELF_REVIEW), "doctor asks whether it may create events: " + out);
        return out;
    }
}
