package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.Event;
import io.iamlet.control.PodRoles;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.Pods;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #22: with the eBPF backend the caller is the pod its cgroup names, not the pod its address names.
 * One sandbox whose pods are network namespaces and cgroups named as a systemd-driver kubelet names them,
 * an API server whose watch events arrive 2 s late (lists and GETs current), and the agent itself running in
 * a pod's cgroup under the pods' cgroup, as a DaemonSet's agent does. The node has an IPv6 address too (--host-ipv6),
 * so pods with an IPv6 address reach the agent at [fd00:ec2::254] natively, attributed through the IPv6 owners map.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KernelIdentityE2eTest {
    private static final String LISTING = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
    private static final String LISTING6 = "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/";
    private static final String IMDS_V6_MODE = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
    private static final int REPLACEMENTS = 200;

    private static Sandbox sandbox;
    private static List<String> ebpf;
    private static AgentProcess agent;

    @BeforeAll
    static void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.namespace("team", "app-*");
        sandbox.namespace("host", "app-*", Sandbox.DEFAULT_ROLE);
        // Known from the agent's first list: the watch events of this API server arrive 2 s late.
        sandbox.api().client().namespaces().resource(Pods.namespace("infra", Map.of("iam.amazonaws.com/allowed-roles", "[\"app-*\"]",
                PodRoles.HOST_NETWORK_NODE_CREDENTIALS, "true"))).create();
        ebpf = sandbox.enableEbpf(CgroupDriver.SYSTEMD);
        sandbox.api().delayWatchEvents(Duration.ofSeconds(2));
        Path agentCgroup = sandbox.makeContainerCgroup("00000000-aaaa-bbbb-cccc-000000000001", "burstable");
        List<String> flags = new ArrayList<>(ebpf);
        flags.add("--on-exit=remove");
        flags.addAll(sandbox.enableIpv6());
        agent = sandbox.startAgentInCgroup(agentCgroup, flags.toArray(String[]::new));
    }

    @AfterAll
    static void stop() throws Exception {
        if (sandbox != null) {
            sandbox.close();
        }
    }

    /**
     * Pod web-(i-1) replaced at once by web-i on the same address and network namespace, then asked by the new
     * pod with IMDSv1 at once (curl each time, botocore every 20th): how many answers named the previous role.
     */
    private static int churn(SandboxPod pod, String prefix, int replacements) throws Exception {
        return churn(pod, prefix, replacements, LISTING, Map.of(), pod.ip());
    }

    /** {@link #churn(SandboxPod, String, int)} asking {@code listing}, botocore with {@code botoEnv}, the Pod objects listing {@code ips}. */
    private static int churn(SandboxPod pod, String prefix, int replacements, String listingUrl, Map<String, String> botoEnv, String... ips)
            throws Exception {
        int previousRoles = 0;
        List<String> failures = new ArrayList<>();
        createPodObject(pod, prefix + 0, ips);
        for (int i = 1; i <= replacements; i++) {
            sandbox.deletePodObject("team", prefix + (i - 1));
            createPodObject(pod, prefix + i, ips);
            Command.Result listing = PodClients.curl(sandbox, pod, "-g", listingUrl);
            String previous = "app-" + prefix + (i - 1);
            if (listing.stdout().strip().equals(previous)) {
                previousRoles++;
            } else if (!listing.stdout().strip().equals("app-" + prefix + i)) {
                failures.add(i + ": " + listing.output());
            }
            if (i % 20 == 0) {
                Command.Result boto = PodClients.botocore(sandbox, pod, botoEnv);
                if (boto.stdout().contains("assumed-role/" + previous + "/")) {
                    previousRoles++;
                } else if (!boto.stdout().contains("assumed-role/app-" + prefix + i + "/")) {
                    failures.add(i + " botocore: " + boto.output());
                }
            }
        }
        sandbox.deletePodObject("team", prefix + replacements);
        System.out.printf("[KernelIdentityE2eTest] %s: %d replacements, %d answers with the previous pod's role, %d other answers%n",
                prefix, replacements, previousRoles, failures.size());
        if (prefix.startsWith("k")) {
            assertEquals(List.of(), failures, "every other answer is the new pod's role");
        }
        return previousRoles;
    }

    private static void createPodObject(SandboxPod pod, String name, String... ips) {
        sandbox.createPodObject(pod, Pods.pod("team", name, Sandbox.NODE_NAME, "Running", Map.of("iam.amazonaws.com/role", "app-" + name), ips));
    }

    @Test
    @Order(1)
    void imdsV1ClientsAcrossIpReuseGetTheNewPodsRoleNeverThePreviousOne() throws Exception {
        SandboxPod pod = sandbox.plugPod(InterfaceStyle.CALI);
        assertEquals(0, churn(pod, "k", REPLACEMENTS), "with the kernel's identity no answer names the previous pod's role");
        assertEquals("", sandbox.nodeRuleset(), "the eBPF backend: no netfilter rule");
    }

    @Test
    @Order(2)
    void hostNetworkPodsGetTheirOwnRoleAndTheNodeAndTheAgentKeepTheRealImds() throws Exception {
        SandboxPod annotated = sandbox.addHostNetworkPod("host", "node-exporter", Map.of("iam.amazonaws.com/role", "app-host"));
        Command.Result cli = PodClients.awsCli(sandbox, annotated, "sts", "get-caller-identity");
        assertEquals(0, cli.exitCode(), cli.output());
        assertTrue(cli.stdout().contains("assumed-role/app-host/host.node-exporter"), cli.output());

        SandboxPod unannotated = sandbox.addHostNetworkPod("host", "log-shipper", Map.of());
        Command.Result listing = PodClients.curl(sandbox, unannotated, LISTING);
        assertEquals(Sandbox.DEFAULT_ROLE, listing.stdout(), "an unannotated hostNetwork pod gets the default role: " + listing.output());
        Command.Result other = PodClients.curl(sandbox, sandbox.addHostNetworkPod("team", "batch", Map.of()), "-w", " %{http_code}", LISTING);
        assertTrue(other.stdout().equals(Sandbox.DEFAULT_ROLE + " 200") || other.stdout().endsWith(" 403"),
                "the default role or a refusal, never the node's: " + other.output());

        // The node's own processes (outside the pods' cgroup) and the agent (in its own pod's cgroup) keep the real IMDS.
        // The fake IMDS is IMDSv2-only, as the node's real one may be: a token first.
        Command.Result node = sandbox.node().exec("sh", "-c", "t=$(curl -sS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'"
                + " http://169.254.169.254/latest/api/token) && curl -sS --max-time 5 -H \"X-aws-ec2-metadata-token: $t\" " + LISTING);
        assertEquals(Sandbox.NODE_ROLE, node.stdout(), node.output());
        Command.Result instance = PodClients.curl(sandbox, annotated, "http://169.254.169.254/latest/meta-data/instance-id");
        assertTrue(instance.stdout().startsWith("i-"), "the agent forwards to the real IMDS, so its own connects are not redirected: "
                + instance.output());
        assertTrue(agent.isAlive());
    }

    /**
     * The operator's per-namespace opt-in: in namespace infra (annotated {@link PodRoles#HOST_NETWORK_NODE_CREDENTIALS}
     * "true") a hostNetwork pod without a role keeps the node's credentials, read from the node's IMDS through the
     * agent; an annotated one there still gets its own role. Namespaces without the annotation are the test above:
     * the default role or a refusal.
     */
    @Test
    @Order(3)
    void aNamespacesOptInLetsItsUnannotatedHostNetworkPodsKeepTheNodesCredentials() throws Exception {
        SandboxPod daemon = sandbox.addHostNetworkPod("infra", "aws-node", Map.of());
        Command.Result cli = PodClients.awsCli(sandbox, daemon, "sts", "get-caller-identity");
        assertEquals(0, cli.exitCode(), cli.output());
        assertTrue(cli.stdout().contains("assumed-role/" + Sandbox.NODE_ROLE + "/"), "the node's role: " + cli.output());
        Command.Result listing = PodClients.curl(sandbox, daemon, LISTING);
        assertEquals(Sandbox.NODE_ROLE, listing.stdout(), "IMDSv1 too: " + listing.output());
        Command.Result credentials = PodClients.curl(sandbox, daemon, LISTING + Sandbox.NODE_ROLE);
        assertTrue(credentials.stdout().contains(FakeImds.NODE_ACCESS_KEY), credentials.output());
        assertTrue(agent.log().contains("\"the node's own credentials (namespace infra allows hostNetwork pods the node's credentials)"),
                "the agent's log says whose decision it was");

        SandboxPod own = sandbox.addHostNetworkPod("infra", "csi-node", Map.of("iam.amazonaws.com/role", "app-csi"));
        Command.Result ownCli = PodClients.awsCli(sandbox, own, "sts", "get-caller-identity");
        assertTrue(ownCli.stdout().contains("assumed-role/app-csi/infra.csi-node"), "an annotated pod keeps its own role: " + ownCli.output());
        Command.Result ownCredentials = PodClients.curl(sandbox, own, LISTING + Sandbox.NODE_ROLE);
        assertFalse(ownCredentials.stdout().contains(FakeImds.NODE_ACCESS_KEY), ownCredentials.output());
    }

    @Test
    @Order(4)
    void aCgroupNamingNoPodAndACgroupDisagreeingWithTheAddressAreRefused() throws Exception {
        SandboxPod pod = sandbox.addPod(InterfaceStyle.ENI, "team", "api", "app-api");
        assertEquals("app-api", PodClients.curl(sandbox, pod, LISTING).stdout());

        Path stray = Files.createDirectories(sandbox.podCgroup().orElseThrow().resolve("kubepods-besteffort.slice/not-a-pod.scope"));
        Command.Result refused = Command.run("sh", "-c", "echo $$ > " + stray.resolve("cgroup.procs") + " && exec ip netns exec "
                + pod.ns().name() + " curl -sS --max-time 5 -w ' %{http_code}' " + LISTING + "app-api");
        assertTrue(refused.stdout().endsWith(" 403"), refused.output());
        assertFalse(refused.stdout().contains(FakeImds.NODE_ACCESS_KEY) || refused.stdout().contains("AccessKeyId"), refused.output());

        // A process in the api pod's cgroup but in another pod's network namespace (another address).
        SandboxPod other = sandbox.addPod(InterfaceStyle.CALI, "team", "other", "app-other");
        Path apiCgroup = sandbox.cgroupOf(pod).orElseThrow();
        Command.Result mismatch = Command.run("sh", "-c", "echo $$ > " + apiCgroup.resolve("cgroup.procs") + " && exec ip netns exec "
                + other.ns().name() + " curl -sS --max-time 5 -w ' %{http_code}' " + LISTING);
        assertTrue(mismatch.stdout().endsWith(" 403"), mismatch.output());
        assertFalse(mismatch.stdout().contains("app-other") || mismatch.stdout().contains("app-api "), mismatch.output());
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Event> events = List.of();
        while (events.isEmpty() && System.nanoTime() < deadline) {
            events = sandbox.api().client().v1().events().inNamespace("team").list().getItems().stream()
                    .filter(e -> "IdentityMismatch".equals(e.getReason())).toList();
            Thread.sleep(100);
        }
        assertEquals(1, events.size(), "one Warning Event on the pod the kernel named");
        assertEquals("api", events.getFirst().getInvolvedObject().getName());
        assertEquals("Warning", events.getFirst().getType());
    }

    /**
     * The kernel is asked once per connection: its owners entry cannot change while the connection is open, so
     * the connection's later requests keep the first one's answer without a bpf(2) call each. Proved by
     * rewriting the entry under an open keep-alive connection to name a cgroup of no pod, which a fresh lookup
     * would refuse.
     */
    @Test
    @Order(5)
    void aConnectionKeepsTheIdentityTheKernelGaveItsFirstRequest() throws Exception {
        SandboxPod pod = sandbox.addPod(InterfaceStyle.CALI, "team", "keepalive", "app-keepalive");
        Path stray = Files.createDirectories(sandbox.podCgroup().orElseThrow().resolve("kubepods-besteffort.slice/stray-keepalive.scope"));
        long strayId = (Long) Files.getAttribute(stray, "unix:ino");
        String client = """
                import http.client, sys
                c = http.client.HTTPConnection('169.254.169.254', 80, timeout=5)
                def ask():
                    c.request('GET', '/latest/meta-data/iam/security-credentials/')
                    r = c.getresponse()
                    print(r.status, r.read().decode(), flush=True)
                ask()
                print(c.sock.getsockname()[1], flush=True)
                sys.stdin.readline()
                ask()
                """;
        Process p = new ProcessBuilder("sh", "-c", "echo $$ > " + sandbox.cgroupOf(pod).orElseThrow().resolve("cgroup.procs")
                + " && exec ip netns exec " + pod.ns().name() + " python3 -c \"$0\"", client).redirectErrorStream(true).start();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
             var in = p.getOutputStream();
             var owners = io.iamlet.redirect.ebpf.ConnectionOwners.open(sandbox.bpfPinDir().orElseThrow()).orElseThrow()) {
            assertEquals("200 app-keepalive", out.readLine(), "the first request: the pod the kernel names");
            int port = Integer.parseInt(out.readLine().strip());
            java.net.InetAddress address = java.net.InetAddress.ofLiteral(pod.ip());
            assertTrue(owners.cgroupOf(address, port).isPresent(), "the kernel recorded the open connection");
            owners.record(address, port, strayId);
            in.write('\n');
            in.flush();
            assertEquals("200 app-keepalive", out.readLine(), "the second request on the connection: the identity it was accepted with");
            assertEquals(strayId, owners.cgroupOf(address, port).orElseThrow(), "the entry a fresh lookup would have read names no pod");
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    /**
     * Native IPv6 (an EKS IPv6 pod): [fd00:ec2::254] is redirected to the agent's IPv6 address and the caller is the
     * pod its cgroup names, across the same IP reuse with the same late watch events; a hostNetwork pod over IPv6 gets
     * its own role; a process outside the pods' cgroup is not redirected; a cgroup disagreeing with the IPv6 address is refused.
     */
    @Test
    @Order(6)
    void ipv6PodsAreNamedByTheirCgroupNotTheirAddress() throws Exception {
        SandboxPod pod = sandbox.plugPod(InterfaceStyle.CALI);
        String v6 = sandbox.addIpv6(pod);
        assertEquals(0, churn(pod, "k6-", 40, LISTING6, Map.of(IMDS_V6_MODE, "IPv6"), pod.ip(), v6),
                "over IPv6, no answer names the previous pod's role either");
        createPodObject(pod, "six", pod.ip(), v6);
        assertEquals("app-six", PodClients.curl(sandbox, pod, "-g", LISTING6).stdout());

        SandboxPod host = sandbox.addHostNetworkPod("host", "node-exporter6", Map.of("iam.amazonaws.com/role", "app-host6"));
        Command.Result hostListing = PodClients.curl(sandbox, host, "-g", LISTING6);
        assertEquals("app-host6", hostListing.stdout(), "a hostNetwork pod over IPv6: its own role, not the node's: " + hostListing.output());

        Command.Result outside = Command.run("sh", "-c", "exec ip netns exec " + pod.ns().name() + " curl -g -sS --max-time 3 " + LISTING6);
        assertEquals(7, outside.exitCode(), "a process outside the pods' cgroup is not redirected (the sandbox has no IPv6 IMDS to reach): "
                + outside.output());

        SandboxPod other = sandbox.plugPod(InterfaceStyle.ENI);
        String otherV6 = sandbox.addIpv6(other);
        createPodObject(other, "six-other", other.ip(), otherV6);
        Command.Result mismatch = Command.run("sh", "-c", "echo $$ > " + sandbox.cgroupOf(pod).orElseThrow().resolve("cgroup.procs")
                + " && exec ip netns exec " + other.ns().name() + " curl -g -sS --max-time 5 -w ' %{http_code}' " + LISTING6);
        assertTrue(mismatch.stdout().endsWith(" 403"), "the six pod's cgroup at six-other's IPv6 address: " + mismatch.output());
        assertFalse(mismatch.stdout().contains("app-six"), mismatch.output());
    }

    @Test
    @Order(7)
    void theSameChurnWithTheAddressAloneIsMeasured() throws Exception {
        agent.stop();
        agent = sandbox.startAgent("--backend=nftables", "--bpf-pin-dir=" + sandbox.bpfPinDir().orElseThrow(), "--on-exit=remove");
        SandboxPod pod = sandbox.plugPod(InterfaceStyle.CALI);
        int previous = churn(pod, "a", REPLACEMENTS);
        assertTrue(previous > 0, "the churn does reach the race the kernel's identity closes (address alone: " + previous + ")");
    }
}
