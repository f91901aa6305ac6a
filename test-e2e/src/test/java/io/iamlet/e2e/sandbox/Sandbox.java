package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import io.iamlet.e2e.Launcher;
import io.iamlet.netlink.testing.Command;
import io.iamlet.netlink.testing.Netns;
import io.iamlet.netlink.testing.Relay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A small cluster made of network namespaces on this machine, for end-to-end tests and the demo.
 * <ul>
 * <li>"world" plays the VPC: the fake IMDS at 169.254.169.254:80 (the node's role, IMDSv2, user-data with a
 * secret), a fake STS at {@value #STS_IP}:80 and the fake Kubernetes API at {@value #API_IP}:6443;</li>
 * <li>"node" has the host IP {@value #HOST_IP} on its eth0 towards the world, forwards for its pods, and runs
 * the real agent, `bin/iamlet run`;</li>
 * <li>each pod is a namespace wired to the node as its CNI would wire it ({@link InterfaceStyle}).</li>
 * </ul>
 * Namespaces are named after this JVM's pid: a later run deletes what a crashed run left, agent included.
 */
public final class Sandbox implements AutoCloseable {
    public static final String HOST_IP = "10.200.0.10";
    public static final String WORLD_IP = "10.200.0.1";
    public static final String STS_IP = "10.200.1.2";
    public static final String API_IP = "10.200.1.3";
    public static final String IMDS_IP = "169.254.169.254";
    /** The node's IPv6 address once {@link #enableIpv6()} gave it one: where the agent takes [fd00:ec2::254]:80. */
    public static final String HOST_IPV6 = "fd00:10:200::10";
    public static final String ACCOUNT = "111122223333";
    public static final String BASE_ARN = "arn:aws:iam::" + ACCOUNT + ":role/";
    public static final String NODE_NAME = "sandbox-node";
    public static final String NODE_ROLE = "sandbox-node-role";
    public static final String DEFAULT_ROLE = "sandbox-default";
    /** The gateway address Calico and the VPC CNI give every pod. */
    private static final String LINK_GATEWAY = "169.254.1.1";

    private final Path dir;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Map<InterfaceStyle, Integer> podCounts = new EnumMap<>(InterfaceStyle.class);
    private final Netns world;
    private final Netns node;
    private FakeSts sts;
    private MockApiServer api;
    private Thread cleanupOnExit;
    private Path podCgroup;
    private Path cgroupMount;
    private Path bpffs;
    private CgroupDriver cgroupDriver = CgroupDriver.SYSTEMD;
    /** Each pod's container cgroup, as the kubelet would make it for the pod's current Pod object. */
    private final Map<SandboxPod, Path> containerCgroups = new java.util.concurrent.ConcurrentHashMap<>();
    private int ipv6Pods;

    private Sandbox(Path dir, Netns world, Netns node) {
        this.dir = dir;
        this.world = world;
        this.node = node;
    }

    /** Builds the world and the node; on any failure, tears down what it built and rethrows. */
    public static Sandbox start() throws Exception {
        Netns.requireRoot();
        removeLeftoverDirectories();
        Path dir = Files.createTempDirectory(DIR_PREFIX + ProcessHandle.current().pid() + "-");
        Netns world = Netns.create("world");
        Sandbox sandbox;
        try {
            sandbox = new Sandbox(dir, world, Netns.create("node"));
        } catch (RuntimeException | Error e) {
            world.close();
            throw e;
        }
        try {
            sandbox.build();
            return sandbox;
        } catch (Exception | Error e) {
            sandbox.close();
            throw e;
        }
    }

    private void build() throws Exception {
        Netns.veth(world, "vpc0", node, "eth0");
        world.exec("ip", "addr", "add", WORLD_IP + "/24", "dev", "vpc0").ok();
        for (String service : List.of(IMDS_IP, STS_IP, API_IP)) {
            world.exec("ip", "addr", "add", service + "/32", "dev", "lo").ok();
        }
        for (String podNetwork : List.of("10.244.0.0/16", "172.17.0.0/16")) {
            world.exec("ip", "route", "add", podNetwork, "via", HOST_IP).ok();
        }
        node.exec("ip", "addr", "add", HOST_IP + "/24", "dev", "eth0").ok();
        node.exec("ip", "route", "add", "default", "via", WORLD_IP).ok();
        node.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").ok();
        node.exec("ip", "link", "add", "docker0", "type", "bridge").ok();
        node.exec("ip", "addr", "add", "172.17.0.1/16", "dev", "docker0").ok();
        node.exec("ip", "link", "set", "docker0", "up").ok();

        // Sockets belong to the namespace they were opened in: these servers listen inside the world.
        FakeImds imds = world.call(() -> FakeImds.start(InetAddress.ofLiteral(IMDS_IP), 80, ACCOUNT, NODE_ROLE));
        resources.add(imds);
        sts = world.call(() -> FakeSts.start(InetAddress.ofLiteral(STS_IP), 80));
        resources.add(sts);
        sts.knownCaller(FakeImds.NODE_ACCESS_KEY, ACCOUNT, NODE_ROLE, "i-0123456789abcdef0");
        // The mock API server binds on its own threads (in this JVM's namespace): a relay carries it into the world.
        api = MockApiServer.start();
        resources.add(api);
        resources.add(Relay.into(world, new InetSocketAddress(InetAddress.ofLiteral(API_IP), 6443), URI.create(api.url()).getPort()));
        Files.writeString(kubeconfig(), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: sandbox
                  cluster:
                    server: http://%s:6443
                users:
                - name: iamlet
                  user:
                    token: sandbox-token
                contexts:
                - name: sandbox
                  context:
                    cluster: sandbox
                    user: iamlet
                current-context: sandbox
                """.formatted(API_IP));
        Files.createDirectories(home());
    }

    /** Tears the sandbox down when this JVM exits (Ctrl-C included), for programs that run it by hand. */
    public Sandbox closeOnExit() {
        cleanupOnExit = Thread.ofPlatform().unstarted(this::closeQuietly);
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        return this;
    }

    public Netns node() {
        return node;
    }

    public FakeSts sts() {
        return sts;
    }

    public MockApiServer api() {
        return api;
    }

    public Path kubeconfig() {
        return dir.resolve("kubeconfig");
    }

    /**
     * Prepares the node for the eBPF backend: a cgroup v2 directory that plays the kubelet's kubepods slice
     * (pod clients run inside it from now on) and a BPF filesystem of the sandbox's own for the agent's pin.
     * Returns the agent flags that point there.
     */
    public List<String> enableEbpf() throws Exception {
        return enableEbpf(CgroupDriver.SYSTEMD);
    }

    /**
     * {@link #enableEbpf()} with pods' cgroups named as a kubelet with this cgroup driver names them: each Pod
     * object created from now on gets a container cgroup under the pods' cgroup, and the pod's clients run there.
     */
    public List<String> enableEbpf(CgroupDriver driver) throws Exception {
        cgroupDriver = driver;
        // The agent runs under `ip netns exec`, which remounts /sys: it sees the cgroup hierarchy only where the
        // sandbox mounts it again, as a DaemonSet sees it only through its hostPath volume.
        cgroupMount = Files.createDirectory(dir.resolve("cgroup2"));
        Command.run("mount", "-t", "cgroup2", "none", cgroupMount.toString()).ok();
        Path root = cgroupMount;
        removeLeftoverCgroups(root);
        podCgroup = Files.createDirectory(root.resolve(CGROUP_PREFIX + ProcessHandle.current().pid() + "-kubepods"));
        bpffs = Files.createDirectory(dir.resolve("bpffs"));
        Command.run("mount", "-t", "bpf", "bpf", bpffs.toString()).ok();
        return List.of("--backend=ebpf", "--cgroup=" + podCgroup, "--bpf-pin-dir=" + bpffs.resolve("iamlet"));
    }

    private static final String CGROUP_PREFIX = "iamlet-sandbox-";
    private static final String DIR_PREFIX = "iamlet-sandbox-";

    /** The temporary directories of sandbox runs whose JVM is gone, with the cgroup2 and BPF mounts inside. */
    private static void removeLeftoverDirectories() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        List<String> mounts = Files.readAllLines(Path.of("/proc/self/mounts")).stream().map(l -> l.split(" ")[1]).toList();
        try (Stream<Path> dirs = Files.list(tmp)) {
            for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith(DIR_PREFIX)).toList()) {
                String pid = d.getFileName().toString().substring(DIR_PREFIX.length()).split("-")[0];
                if (!pid.chars().allMatch(Character::isDigit) || pid.isEmpty() || ProcessHandle.of(Long.parseLong(pid)).isPresent()) {
                    continue;
                }
                mounts.stream().filter(m -> m.startsWith(d + "/")).forEach(m -> Command.run("umount", "-l", m));
                deleteTree(d);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Cgroups of sandbox runs whose JVM is gone (their processes died with their namespaces). */
    private static void removeLeftoverCgroups(Path root) throws IOException {
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith(CGROUP_PREFIX)).toList()) {
                String pid = d.getFileName().toString().substring(CGROUP_PREFIX.length()).split("-")[0];
                if (ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    deleteCgroups(d);
                }
            }
        }
    }

    /**
     * The cgroup a pod's processes run in: its container cgroup once its Pod object exists (with eBPF), else
     * the pods' cgroup itself, else none.
     */
    public java.util.Optional<Path> cgroupOf(SandboxPod pod) {
        return java.util.Optional.ofNullable(containerCgroups.get(pod)).or(this::podCgroup);
    }

    /** {@code command} as the pod's own process: in its cgroup (see {@link #cgroupOf}) and network namespace. */
    public List<String> inPod(SandboxPod pod, List<String> command) {
        return inNamespace(cgroupOf(pod), pod.ns().name(), command);
    }

    /**
     * {@code command} in network namespace {@code netns}, joining {@code cgroup} first when there is one:
     * `ip netns exec` remounts /sys, after which the cgroup is out of reach.
     */
    public static List<String> inNamespace(java.util.Optional<Path> cgroup, String netns, List<String> command) {
        List<String> full = new ArrayList<>();
        cgroup.ifPresent(c -> full.addAll(List.of("sh", "-c", "echo $$ > " + c.resolve("cgroup.procs") + " && exec \"$@\"", "sh")));
        full.addAll(List.of("ip", "netns", "exec", netns));
        full.addAll(command);
        return full;
    }

    /** Makes a container cgroup for the pod with this uid, as the kubelet would (the QoS class picks the level). */
    public Path makeContainerCgroup(String podUid, String qos) throws IOException {
        String id = "%016x".formatted(ThreadLocalRandom.current().nextLong());
        return Files.createDirectories(podCgroup.resolve(cgroupDriver.container(podUid, qos, id)));
    }

    /**
     * A hostNetwork pod: its processes run in the node's namespace (so at the node's address) and, with eBPF,
     * in a cgroup of its own; the Pod object has hostNetwork set.
     */
    public SandboxPod addHostNetworkPod(String namespace, String name, Map<String, String> annotations) throws Exception {
        SandboxPod pod = new SandboxPod(node, InterfaceStyle.CALI, HOST_IP, "eth0");
        Pod object = Pods.pod(namespace, name, NODE_NAME, "Running", annotations, HOST_IP);
        object.getSpec().setHostNetwork(true);
        Pod created = api.client().pods().inNamespace(namespace).resource(object).create();
        if (podCgroup != null) {
            containerCgroups.put(pod, makeContainerCgroup(created.getMetadata().getUid(), "besteffort"));
        }
        return pod;
    }

    /** A cgroup and the ones below it, deepest first (a cgroup's files go with its directory). */
    private static void deleteCgroups(Path top) throws IOException {
        if (!Files.isDirectory(top)) {
            return;
        }
        try (Stream<Path> all = Files.walk(top)) {
            for (Path d : all.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(d);
            }
        }
    }

    /** The cgroup pod clients run in, once {@link #enableEbpf()} made one. */
    public java.util.Optional<Path> podCgroup() {
        return java.util.Optional.ofNullable(podCgroup);
    }

    public java.util.Optional<Path> bpfPinDir() {
        return java.util.Optional.ofNullable(bpffs).map(b -> b.resolve("iamlet"));
    }

    /** An empty home directory for AWS clients, so no one's ~/.aws leaks into what a pod sees. */
    public Path home() {
        return dir.resolve("home");
    }

    /** The agent flags the sandbox's node needs, before any a caller adds. */
    public List<String> agentFlags() {
        List<String> interfaces = Stream.of(InterfaceStyle.values()).map(InterfaceStyle::hostInterface).toList();
        return List.of("--node=" + NODE_NAME, "--iptables=true", "--host-ip=" + HOST_IP,
                "--host-interface=" + String.join(",", interfaces), "--kubeconfig=" + kubeconfig(),
                "--auto-discover-base-arn", "--default-role=" + DEFAULT_ROLE, "--namespace-restrictions",
                "--sts-endpoint=http://" + STS_IP, "--log-format=json");
    }

    /** Starts `bin/iamlet run` in the node namespace with {@link #agentFlags()} and the given ones; waits until ready. */
    public AgentProcess startAgent(String... extraFlags) throws Exception {
        List<String> command = new ArrayList<>(List.of(Launcher.iamlet(), "run"));
        command.addAll(agentFlags());
        command.addAll(List.of(extraFlags));
        return startInNode(command);
    }

    /**
     * Starts `bin/iamlet run` like {@link #startAgent}, in {@code cgroup} (as a DaemonSet's agent runs in its
     * own pod's cgroup under the pods' cgroup); waits until ready.
     */
    public AgentProcess startAgentInCgroup(Path cgroup, String... extraFlags) throws Exception {
        List<String> iamlet = new ArrayList<>(List.of(Launcher.iamlet(), "run"));
        iamlet.addAll(agentFlags());
        iamlet.addAll(List.of(extraFlags));
        List<String> command = inNamespace(java.util.Optional.of(cgroup), node.name(), iamlet);
        Path log = Files.createTempFile(dir, "agent-", ".log");
        AgentProcess agent = AgentProcess.start(command, log);
        resources.add(agent);
        try {
            return agent.awaitReady(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    /** Starts `bin/iamlet run` like {@link #startAgent} without waiting for anything. */
    public AgentProcess launchAgent(String... extraFlags) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", node.name(), Launcher.iamlet(), "run"));
        command.addAll(agentFlags());
        command.addAll(List.of(extraFlags));
        Path log = Files.createTempFile(dir, "agent-", ".log");
        AgentProcess agent = AgentProcess.start(command, log);
        resources.add(agent);
        return agent;
    }

    /** Starts a command line that runs the agent (e.g. from its image's root) in the node namespace; waits until ready. */
    public AgentProcess startInNode(List<String> agentCommand) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", node.name()));
        command.addAll(agentCommand);
        Path log = Files.createTempFile(dir, "agent-", ".log");
        AgentProcess agent = AgentProcess.start(command, log);
        resources.add(agent);
        try {
            return agent.awaitReady(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    /**
     * Starts `bin/iamlet` in the node namespace with exactly these arguments and this extra environment, as a
     * DaemonSet written for kube2iam would (the downward API's HOST_IP and NODE_NAME, AWS_ENDPOINT_URL_STS, ...);
     * waits until ready.
     */
    public AgentProcess startAgentExactly(Map<String, String> env, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", node.name(), "env"));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.add(Launcher.iamlet());
        command.addAll(args);
        Path log = Files.createTempFile(dir, "agent-", ".log");
        AgentProcess agent = AgentProcess.start(command, log);
        resources.add(agent);
        try {
            return agent.awaitReady(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    /** Makes the Kubernetes API unreachable from the node (connections reset in the world) or reachable again. */
    public void apiReachable(boolean reachable) {
        world.exec("nft", "add", "table", "ip", "sandbox_api").ok();
        world.exec("nft", "add", "chain", "ip", "sandbox_api", "input", "{ type filter hook input priority 0 ; }").ok();
        world.exec("nft", "flush", "chain", "ip", "sandbox_api", "input").ok();
        if (!reachable) {
            world.exec("nft", "add", "rule", "ip", "sandbox_api", "input", "ip", "daddr", API_IP, "tcp", "dport", "6443",
                    "reject", "with", "tcp", "reset").ok();
        }
    }

    /** `bin/iamlet ARGS` in the node namespace, as an operator runs it there. */
    public Command.Result iamlet(String... args) {
        List<String> command = new ArrayList<>(List.of(Launcher.iamlet()));
        command.addAll(List.of(args));
        return node.exec(command.toArray(String[]::new));
    }

    /** What the node's kernel holds: `nft list ruleset` inside the node. */
    public String nodeRuleset() {
        return node.exec("nft", "list", "ruleset").ok().stdout();
    }

    /**
     * Makes the fake IMDS answer with this IP TTL, as an instance with that metadata hop limit does: with 1,
     * answers reach the node but die at the node's first forward towards a pod.
     */
    public void imdsHopLimit(int hops) {
        world.exec("nft", "add", "table", "ip", "sandbox").ok();
        world.exec("nft", "add", "chain", "ip", "sandbox", "imds", "{ type filter hook output priority 0 ; }").ok();
        world.exec("nft", "flush", "chain", "ip", "sandbox", "imds").ok();
        world.exec("nft", "add", "rule", "ip", "sandbox", "imds", "ip", "saddr", IMDS_IP, "tcp", "sport", "80",
                "ip", "ttl", "set", Integer.toString(hops)).ok();
    }

    /** A Namespace object in the API; with --namespace-restrictions its annotation lists the roles it allows. */
    public void namespace(String name, String... allowedRoles) {
        String list = Stream.of(allowedRoles).map(r -> "\"" + r + "\"").reduce((a, b) -> a + "," + b).orElse("");
        api.client().namespaces().resource(Pods.namespace(name, Map.of("iam.amazonaws.com/allowed-roles", "[" + list + "]")))
                .create();
    }

    /**
     * Gives the node an IPv6 address ({@value #HOST_IPV6}, what the agent's --host-ipv6 names) and IPv6 forwarding, as
     * on a dual-stack or IPv6 node. Returns the agent flag. Pods get addresses with {@link #addIpv6}.
     */
    public List<String> enableIpv6() {
        node.exec("ip", "-6", "addr", "add", HOST_IPV6 + "/64", "dev", "eth0", "nodad").ok();
        node.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1").ok();
        return List.of("--host-ipv6=" + HOST_IPV6);
    }

    /**
     * An IPv6 address for a routed pod (Calico or the VPC CNI in IPv6 mode): a /128 on the pod's eth0, its default
     * route through the link-local fe80::1 of the node's veth, and on the node a host route to the pod. The pod keeps
     * its IPv4 address too (as EKS IPv6 pods keep one for egress). Returns the address; its Pod object must list it.
     */
    public String addIpv6(SandboxPod pod) {
        if (pod.style() == InterfaceStyle.DOCKER0) {
            throw new IllegalArgumentException("IPv6 pods are routed ones (cali, eni) in the sandbox, not " + pod);
        }
        String ip = "fd00:10:244::" + Integer.toHexString(++ipv6Pods);
        // nodad: no duplicate address detection, so the addresses are usable at once rather than after a second.
        pod.ns().exec("ip", "-6", "addr", "add", ip + "/128", "dev", "eth0", "nodad").ok();
        node.exec("ip", "-6", "addr", "add", "fe80::1/64", "dev", pod.nodeInterface(), "nodad").ok();
        pod.ns().exec("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0").ok();
        node.exec("ip", "-6", "route", "add", ip + "/128", "dev", pod.nodeInterface()).ok();
        return ip;
    }

    /** A pod's network, wired as its CNI would; no Pod object yet. */
    public SandboxPod plugPod(InterfaceStyle style) throws Exception {
        int n = podCounts.merge(style, 1, Integer::sum);
        Netns ns = Netns.create("pod-" + style.name().toLowerCase() + n);
        resources.add(ns);
        // Interface names as the CNIs make them: a prefix and hex digits, at most 15 characters.
        String hex = "%011x".formatted(ThreadLocalRandom.current().nextLong() & 0xfffffffffffL);
        return switch (style) {
            case CALI -> {
                SandboxPod pod = plugRouted(ns, style, "10.244.1." + (n + 1), "cali" + hex);
                // Calico answers the pods' ARP for their gateway with the node's veth, by proxy ARP.
                node.exec("sysctl", "-q", "-w", "net.ipv4.conf." + pod.nodeInterface() + ".proxy_arp=1").ok();
                yield pod;
            }
            case ENI -> {
                SandboxPod pod = plugRouted(ns, style, "10.244.2." + (n + 1), "eni" + hex);
                // The VPC CNI writes a permanent neighbour entry for the gateway into the pod instead.
                String mac = node.exec("cat", "/sys/class/net/" + pod.nodeInterface() + "/address").ok().stdout().strip();
                ns.exec("ip", "neigh", "add", LINK_GATEWAY, "lladdr", mac, "dev", "eth0", "nud", "permanent").ok();
                yield pod;
            }
            case DOCKER0 -> {
                String ip = "172.17.0." + (n + 1);
                String veth = "veth" + hex.substring(0, 7);
                Netns.veth(node, veth, ns, "eth0");
                node.exec("ip", "link", "set", veth, "master", "docker0").ok();
                ns.exec("ip", "addr", "add", ip + "/16", "dev", "eth0").ok();
                ns.exec("ip", "route", "add", "default", "via", "172.17.0.1").ok();
                yield new SandboxPod(ns, style, ip, veth);
            }
        };
    }

    /**
     * A routed pod, as Calico and the VPC CNI make them: a /32 address, the link-local gateway 169.254.1.1 on
     * eth0, and on the node a host route to the pod through its veth.
     */
    private SandboxPod plugRouted(Netns ns, InterfaceStyle style, String ip, String veth) {
        Netns.veth(node, veth, ns, "eth0");
        ns.exec("ip", "addr", "add", ip + "/32", "dev", "eth0").ok();
        ns.exec("ip", "route", "add", LINK_GATEWAY, "dev", "eth0", "scope", "link").ok();
        ns.exec("ip", "route", "add", "default", "via", LINK_GATEWAY, "dev", "eth0").ok();
        node.exec("ip", "route", "add", ip + "/32", "dev", veth, "scope", "link").ok();
        return new SandboxPod(ns, style, ip, veth);
    }

    /** The Pod object for a plugged pod: on this node, Running, with these annotations. */
    public Pod createPodObject(SandboxPod pod, String namespace, String name, Map<String, String> annotations) {
        return createPodObject(pod, Pods.pod(namespace, name, NODE_NAME, "Running", annotations, pod.ip()));
    }

    /** This Pod object for a plugged pod (a service account, both addresses of a dual-stack pod, ...), with its container cgroup under eBPF. */
    public Pod createPodObject(SandboxPod pod, Pod object) {
        Pod created = api.client().pods().inNamespace(object.getMetadata().getNamespace()).resource(object).create();
        if (podCgroup != null) {
            try {
                containerCgroups.put(pod, makeContainerCgroup(created.getMetadata().getUid(), "burstable"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return created;
    }

    public void deletePodObject(String namespace, String name) {
        api.client().pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
    }

    /** A plugged pod with its Pod object; the role annotation is left out when role is null. */
    public SandboxPod addPod(InterfaceStyle style, String namespace, String name, String role) throws Exception {
        SandboxPod pod = plugPod(style);
        createPodObject(pod, namespace, name, role == null ? Map.of() : Map.of("iam.amazonaws.com/role", role));
        return pod;
    }

    private void closeQuietly() {
        try {
            close();
        } catch (Exception e) {
            System.err.println("sandbox teardown: " + e);
        }
    }

    /** Stops the agents and fakes, deletes every namespace (and what runs inside) and the temporary files. */
    @Override
    public synchronized void close() throws Exception {
        if (cleanupOnExit != null && Thread.currentThread() != cleanupOnExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException alreadyExiting) {
                // the hook runs anyway; closing twice is harmless
            }
        }
        Exception first = null;
        for (AutoCloseable r : resources.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        resources.clear();
        node.close();
        world.close();
        if (bpffs != null) {
            // Unmounting drops the pins, which detaches whatever program the agent left attached.
            Command.run("umount", bpffs.toString());
        }
        if (podCgroup != null) {
            try {
                deleteCgroups(podCgroup);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (cgroupMount != null) {
            Command.run("umount", cgroupMount.toString());
        }
        if (Files.exists(dir)) {
            try {
                deleteTree(dir);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
