package io.iamlet.e2e.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.Pods;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every real client, each through its own default credential chain, from pods of the sandbox: the AWS CLI v2 and
 * botocore (Debian), the AWS SDK for Java v2 and for JavaScript v3 (the versions the build pins), and the AWS SDK for
 * Go v2 and v1 (Debian's packaged sources, {@link GoClients}). One sandbox and one agent per backend (nftables,
 * iptables, ebpf) and IMDSv2 mode (the default, optional, and --imds-v2=required); all clients run against it.
 * Each must get its own pod's role, never the node's, with one IMDSv2 token kept for all its requests: from an IPv4
 * pod in both modes, from an IPv6 pod ([fd00:ec2::254]) with --imds-v2=required, and through the container-credentials
 * path (169.254.170.23, and [fd00:ec2::23] from an IPv6 pod) where the SDK supports it, once per backend (that path
 * does not depend on the IMDSv2 mode). Under eBPF the IPv6 pods' native connects are redirected by the connect6 program
 * and attributed by their cgroup through the IPv6 owners map, as the IPv4 ones are. Under eBPF the Java SDK runs as it would in any pod, on the JVM's dual-stack
 * (AF_INET6) sockets, which reach 169.254.169.254 and 169.254.170.23 as IPv4-mapped addresses: the connect6 program
 * must redirect them (without it the SDK got no credentials here, and would reach the node's IMDS on a real node).
 * The fake IMDS answers with hop limit 1, so whatever a pod gets, it got from the agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealClientsE2eTest {
    private static final String NS = "clients";
    private static final String IMDS_V6_MODE = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
    private static final String CONTAINER_V6 = "http://[fd00:ec2::23]/v1/credentials";
    private static final Pattern CLI_ARN = Pattern.compile("\"Arn\": \"([^\"]+)\"");
    private static final ObjectMapper JSON = new ObjectMapper();

    enum Backend {
        NFTABLES, IPTABLES, EBPF;

        String flag() {
            return "--backend=" + name().toLowerCase();
        }
    }

    record Setup(Backend backend, boolean imdsV2Required) {
        @Override
        public String toString() {
            return backend.flag() + (imdsV2Required ? " --imds-v2=required" : " (IMDSv2 optional)");
        }
    }

    /** The six clients; each pod runs one, so what the agent logged for the pod's address is that client's doing. */
    enum Client {
        AWS_CLI("cli"), BOTOCORE("boto"), JAVA_V2("java"), JAVASCRIPT_V3("js"), GO_V2("go2"), GO_V1("go1");

        final String id;

        Client(String id) {
            this.id = id;
        }
    }

    private GoClients go;
    private Path javascript;

    @BeforeAll
    void buildClients() throws Exception {
        go = GoClients.build();
        javascript = NodeClient.install();
    }

    static Stream<Setup> setups() {
        return Stream.of(Backend.values()).flatMap(b -> Stream.of(new Setup(b, false), new Setup(b, true)));
    }

    private Command.Result run(Client client, Sandbox sandbox, SandboxPod pod, Map<String, String> env) {
        return switch (client) {
            case AWS_CLI -> PodClients.awsCli(sandbox, pod, env);
            case BOTOCORE -> PodClients.botocore(sandbox, pod, env);
            case JAVA_V2 -> PodClients.javaSdk(sandbox, pod, env);
            case JAVASCRIPT_V3 -> PodClients.nodeSdk(sandbox, pod, javascript, env);
            case GO_V2 -> PodClients.goSdk(sandbox, pod, go.v2(), env);
            case GO_V1 -> PodClients.goSdk(sandbox, pod, go.v1(), env);
        };
    }

    /** The ARN GetCallerIdentity returned: the AWS CLI prints JSON, the other clients an Arn= line. */
    private static String arn(Command.Result r) {
        Matcher cli = CLI_ARN.matcher(r.stdout());
        if (cli.find()) {
            return cli.group(1);
        }
        return r.stdout().lines().filter(l -> l.startsWith("Arn=")).map(l -> l.substring(4)).findFirst().orElse("no ARN");
    }

    private static String assumed(String role, String pod) {
        return "arn:aws:sts::" + Sandbox.ACCOUNT + ":assumed-role/" + role + "/" + NS + "." + pod;
    }

    /** A pod with its Pod object; its status lists its IPv4 address and, for an IPv6 pod, the IPv6 one too. */
    private record Placed(SandboxPod net, String ip) {
    }

    private static Placed place(Sandbox sandbox, InterfaceStyle style, boolean ipv6, String name, String role) throws Exception {
        SandboxPod net = sandbox.plugPod(style);
        String[] ips = ipv6 ? new String[] {net.ip(), sandbox.addIpv6(net)} : new String[] {net.ip()};
        sandbox.createPodObject(net, Pods.pod(NS, name, Sandbox.NODE_NAME, "Running", Map.of("iam.amazonaws.com/role", role), ips));
        return new Placed(net, ips[ips.length - 1]);
    }

    /** The agent's request lines from this address (IPv6 compared as addresses, whatever their spelling), once it logged the last one. */
    private static List<JsonNode> requests(AgentProcess agent, String ip, String lastPath) throws Exception {
        InetAddress source = InetAddress.ofLiteral(ip);
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (true) {
            List<JsonNode> lines = new ArrayList<>();
            for (String line : agent.log().lines().filter(l -> l.startsWith("{") && l.contains("\"req.remote\"")).toList()) {
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (IOException partial) {
                    continue;
                }
                String remote = node.path("req.remote").asText().replace("[", "").replace("]", "");
                if (!remote.isEmpty() && InetAddress.ofLiteral(remote).equals(source)) {
                    lines.add(node);
                }
            }
            // Lines are written just after their answers: wait briefly for the client's last request.
            if (lines.stream().anyMatch(n -> n.path("req.path").asText().startsWith(lastPath)) || System.nanoTime() > deadline) {
                return lines;
            }
            Thread.sleep(20);
        }
    }

    /** What each client got through the instance metadata path, and how it asked for it. */
    private Executable imdsClient(Setup setup, AgentProcess agent, Client client, Placed pod, Command.Result r, boolean ipv6) {
        String role = "app-" + client.id;
        String name = client.id + (ipv6 ? "-v6" : "-v4");
        return () -> {
            String what = client + (ipv6 ? " from an IPv6 pod (" : " from an IPv4 pod (") + pod.ip() + "), " + setup + ":\n";
            assertEquals(0, r.exitCode(), what + r.output());
            assertEquals(assumed(role, name), arn(r), what + r.output());
            assertFalse(r.output().contains(Sandbox.NODE_ROLE) || r.output().contains(FakeImds.NODE_ACCESS_KEY),
                    what + "never the node's role or keys: " + r.output());
            List<JsonNode> requests = requests(agent, pod.ip(), "/latest/meta-data/iam/security-credentials");
            List<JsonNode> puts = requests.stream().filter(n -> n.path("req.method").asText().equals("PUT")).toList();
            // One token, kept for every GET: a client that rejects the token's answer falls back to IMDSv1 and asks
            // for a new token before each GET (the Go SDKs did, without the echoed TTL header).
            assertEquals(1, puts.size(), what + "one IMDSv2 token, kept: " + requests);
            assertEquals(200, puts.getFirst().path("res.status").asInt(), what + requests);
            assertTrue(requests.stream().anyMatch(n -> n.path("req.method").asText().equals("GET")
                            && n.path("req.path").asText().endsWith("/" + role) && n.path("res.status").asInt() == 200),
                    what + "the role's credentials came from the agent: " + requests);
        };
    }

    private record ContainerRun(Client client, TokenPod pod, String endpoint, String ip) {
    }

    private static Map<String, String> containerEnv(TokenPod pod, String endpoint) {
        return Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", pod.tokenFile().toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setups")
    void everyClientGetsItsPodsRoleAndNeverTheNodes(Setup setup) throws Exception {
        try (Sandbox sandbox = Sandbox.start()) {
            sandbox.imdsHopLimit(1);
            sandbox.namespace(NS, "app-*");
            boolean ebpf = setup.backend() == Backend.EBPF;
            // IPv6 pods ask IMDS with the stricter mode; the container path does not depend on the mode: once per backend.
            boolean imdsOverIpv6 = setup.imdsV2Required();
            boolean container = !setup.imdsV2Required();
            List<String> flags = new ArrayList<>(List.of(setup.backend().flag(), "--on-exit=remove", "--container-credentials=on",
                    "--imds-v2=" + (setup.imdsV2Required() ? "required" : "optional")));
            List<Executable> checks = new ArrayList<>();
            if (ebpf) {
                flags.addAll(sandbox.enableEbpf());
            }
            flags.addAll(sandbox.enableIpv6());

            // Every pod exists before the agent starts: it finds them all in its first list.
            InterfaceStyle[] styles = InterfaceStyle.values();
            List<Callable<Executable>> runs = new ArrayList<>();
            Map<Client, Placed> v4 = new EnumMap<>(Client.class);
            Map<Client, Placed> v6 = new EnumMap<>(Client.class);
            for (Client c : Client.values()) {
                v4.put(c, place(sandbox, styles[c.ordinal() % styles.length], false, c.id + "-v4", "app-" + c.id));
                if (imdsOverIpv6) {
                    v6.put(c, place(sandbox, c.ordinal() % 2 == 0 ? InterfaceStyle.CALI : InterfaceStyle.ENI, true, c.id + "-v6", "app-" + c.id));
                }
            }
            AgentProcess agent = sandbox.startAgent(flags.toArray(String[]::new));

            for (Client c : Client.values()) {
                Placed pod = v4.get(c);
                runs.add(() -> imdsClient(setup, agent, c, pod, run(c, sandbox, pod.net(), Map.of()), false));
                if (imdsOverIpv6) {
                    Placed pod6 = v6.get(c);
                    runs.add(() -> imdsClient(setup, agent, c, pod6, run(c, sandbox, pod6.net(), Map.of(IMDS_V6_MODE, "IPv6")), true));
                }
            }
            runs.add(() -> tokenlessRequests(sandbox, setup, v4.get(Client.AWS_CLI), "http://" + Sandbox.IMDS_IP));
            if (imdsOverIpv6) {
                runs.add(() -> tokenlessRequests(sandbox, setup, v6.get(Client.AWS_CLI), "http://[fd00:ec2::254]"));
            }
            if (container) {
                runs.addAll(containerCredentials(sandbox, setup, agent));
            }
            // The clients run a few at a time: each pod has its own address, so the agent's log tells them apart.
            try (ExecutorService pool = Executors.newFixedThreadPool(3)) {
                for (Future<Executable> done : pool.invokeAll(runs)) {
                    checks.add(done.get());
                }
            }

            assertEquals(143, agent.stop(), "the agent ends on SIGTERM");
            String ruleset = sandbox.nodeRuleset();
            checks.add(() -> assertFalse(ruleset.contains("iamlet") || ruleset.contains("IAMLET") || ruleset.contains("dnat")
                    || ruleset.contains("169.254."), "--on-exit=remove leaves no rule of ours:\n" + ruleset));
            if (ebpf) {
                int attached = CgroupRedirect.attachedPrograms(sandbox.podCgroup().orElseThrow());
                checks.add(() -> assertEquals(0, attached, "--on-exit=remove detaches the program"));
                boolean pinned = java.nio.file.Files.exists(sandbox.bpfPinDir().orElseThrow());
                checks.add(() -> assertFalse(pinned, "--on-exit=remove unpins the links and both owners maps"));
            }
            assertAll(setup.toString(), checks);
        }
    }

    /** A GET without a token: answered with the pod's role when IMDSv2 is optional, 401 when it is required. */
    private static Executable tokenlessRequests(Sandbox sandbox, Setup setup, Placed pod, String base) {
        Command.Result r = PodClients.curl(sandbox, pod.net(), "-g", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                base + "/latest/meta-data/iam/security-credentials/");
        return () -> assertEquals(setup.imdsV2Required() ? "401" : "200", r.stdout(), "a GET without a token to " + base + ", " + setup
                + ": " + r.output());
    }

    /**
     * The container-credentials path: the Java and JavaScript SDKs with only the two EKS Pod Identity variables get
     * their role (through [fd00:ec2::23] too, from an IPv6 pod); Debian's Go SDKs predate the EKS host and allow only
     * loopback hosts (aws-sdk-go-v2 config/resolve_credentials.go, aws-sdk-go aws/defaults/defaults.go): they refuse it.
     */
    private List<Callable<Executable>> containerCredentials(Sandbox sandbox, Setup setup, AgentProcess agent) throws Exception {
        TokenPod javaPod = TokenPod.create(sandbox, InterfaceStyle.CALI, NS, "java-cc", "default", "app-java-cc");
        TokenPod jsPod = TokenPod.create(sandbox, InterfaceStyle.ENI, NS, "js-cc", "default", "app-js-cc");
        List<ContainerRun> runs = new ArrayList<>(List.of(new ContainerRun(Client.JAVA_V2, javaPod, TokenPod.ENDPOINT, javaPod.net().ip()),
                new ContainerRun(Client.JAVASCRIPT_V3, jsPod, TokenPod.ENDPOINT, jsPod.net().ip())));
        // Java SDK 2.38.0 refused http://[fd00:ec2::23] ("has an invalid host") and fell through to IMDS; 2.59.1 takes it.
        for (Client c : List.of(Client.JAVA_V2, Client.JAVASCRIPT_V3)) {
            String name = c.id + "-cc6";
            SandboxPod net = sandbox.plugPod(InterfaceStyle.CALI);
            String v6 = sandbox.addIpv6(net);
            runs.add(new ContainerRun(c, TokenPod.create(sandbox, net, NS, name, "default", "app-" + name, net.ip(), v6), CONTAINER_V6, v6));
        }
        List<Callable<Executable>> tasks = new ArrayList<>();
        for (ContainerRun run : runs) {
            Map<String, String> env = containerEnv(run.pod(), run.endpoint());
            String name = run.pod().object().getMetadata().getName();
            tasks.add(() -> {
                Command.Result r = run(run.client(), sandbox, run.pod().net(), env);
                return () -> {
                    String what = run.client() + " with container credentials at " + run.endpoint() + " from " + run.ip() + ", " + setup + ":\n";
                    assertEquals(0, r.exitCode(), what + r.output());
                    assertEquals(assumed("app-" + name, name), arn(r), what + r.output());
                    assertFalse(r.output().contains(Sandbox.NODE_ROLE) || r.output().contains(FakeImds.NODE_ACCESS_KEY), what + r.output());
                    assertTrue(requests(agent, run.ip(), "/v1/credentials").stream().anyMatch(n -> n.path("req.path").asText()
                            .equals("/v1/credentials") && n.path("res.status").asInt() == 200), what + "served by the agent's endpoint, from the pod's own address");
                };
            });
        }
        for (Client c : List.of(Client.GO_V2, Client.GO_V1)) {
            tasks.add(() -> {
                Command.Result r = run(c, sandbox, jsPod.net(), jsPod.env());
                return () -> {
                    assertNotEquals(0, r.exitCode(), c + ": " + r.output());
                    assertTrue(r.output().contains("only loopback hosts are allowed"), c + " refuses the EKS host: " + r.output());
                    assertFalse(r.output().contains("AccessKeyId="), r.output());
                };
            });
        }
        return tasks;
    }

    @Test
    void theGoClientsAreBuiltFromDebiansSdkSources() throws Exception {
        // What `strings` would show: the binaries carry the packages they were built from, not a module download.
        for (Path binary : List.of(go.v2(), go.v1())) {
            String text = new String(java.nio.file.Files.readAllBytes(binary), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(text.contains("/usr/share/gocode/src/github.com/aws/"), binary + " built from /usr/share/gocode");
        }
    }
}
