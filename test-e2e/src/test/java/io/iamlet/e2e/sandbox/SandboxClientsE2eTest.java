package io.iamlet.e2e.sandbox;

import io.iamlet.control.testing.FakeImds;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Real AWS clients in pods of every interface style, against one sandbox and one agent that covers
 * cali+, eni+ and docker0. The fake IMDS answers with IP TTL 1 (metadata hop limit 1, the hardened
 * setting): pods could not use IMDSv2 through the node, so everything they get comes from the agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SandboxClientsE2eTest {
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/";

    private Sandbox sandbox;
    private AgentProcess agent;

    @BeforeAll
    void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.imdsHopLimit(1);
        for (InterfaceStyle style : InterfaceStyle.values()) {
            sandbox.namespace(ns(style), "app-*");
        }
        sandbox.namespace("locked", "only-this");
        agent = sandbox.startAgent("--on-exit=remove");
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            // 143 is how a JVM reports SIGTERM after its shutdown hooks ran; what counts is what they left behind.
            assertEquals(143, agent.stop(), "the agent ends on SIGTERM");
            assertEquals("", sandbox.nodeRuleset(), "--on-exit=remove leaves no rule");
        }
        if (sandbox != null) {
            sandbox.close();
        }
    }

    private static String ns(InterfaceStyle style) {
        return "team-" + style.name().toLowerCase();
    }

    private static String value(Command.Result r, String key) {
        return r.stdout().lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in:\n" + r.output()));
    }

    private String assumed(String role, String namespace, String pod) {
        return "arn:aws:sts::" + Sandbox.ACCOUNT + ":assumed-role/" + role + "/" + namespace + "." + pod;
    }

    private RawHttp.Response get(SandboxPod pod, String path) throws Exception {
        return RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, path, Map.of());
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void awsCliInAPodIsAnsweredWithItsOwnRole(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "cli", "app-cli");
        Command.Result r = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.stdout().contains("\"Arn\": \"" + assumed("app-cli", ns(style), "cli") + "\""), r.output());
        assertFalse(r.output().contains(Sandbox.NODE_ROLE), "never the node's role: " + r.output());
        assertEquals(FakeImds.NODE_ACCESS_KEY, sandbox.sts().calls().stream()
                .filter(c -> c.roleArn().equals(Sandbox.BASE_ARN + "app-cli") && c.sessionName().equals(ns(style) + ".cli"))
                .findFirst().orElseThrow().callerAccessKey(), "the agent assumes the role with the node's own credentials");
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void http10ClientsGetTheirRoleAndTheConnectionCloses(InterfaceStyle style) throws Exception {
        // Issue #12 finding 6: HTTP/1.0 got no answer. curl -0 speaks HTTP/1.0 without Host-less tricks; the
        // credentials document must arrive whole, and the server closes (HTTP/1.0 has no keep-alive by default).
        SandboxPod pod = sandbox.addPod(style, ns(style), "old", "app-old");
        Command.Result listing = PodClients.curl(sandbox, pod, "--http1.0", "-i", "http://" + Sandbox.IMDS_IP + ROLE_PATH);
        assertEquals(0, listing.exitCode(), listing.output());
        assertTrue(listing.stdout().startsWith("HTTP/1.1 200"), listing.output());
        assertTrue(listing.stdout().endsWith("app-old"), listing.output());
        Command.Result creds = PodClients.curl(sandbox, pod, "--http1.0", "http://" + Sandbox.IMDS_IP + ROLE_PATH + "app-old");
        assertEquals(0, creds.exitCode(), creds.output());
        assertTrue(creds.stdout().contains("\"AccessKeyId\""), creds.output());
        assertFalse(creds.stdout().contains(FakeImds.NODE_ACCESS_KEY), "never the node's credentials: " + creds.output());
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void botocoreInAPodFindsItsRoleThroughImds(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "boto", "app-boto");
        Command.Result r = PodClients.botocore(sandbox, pod);
        assertEquals(0, r.exitCode(), r.output());
        assertEquals("iam-role", value(r, "Method"), "botocore took the credentials from the metadata service");
        assertTrue(value(r, "AccessKeyId").startsWith("ASIAFAKE"), r.output());
        assertEquals(assumed("app-boto", ns(style), "boto"), value(r, "Arn"));
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void javaSdkInAPodUsesImdsV2AndGetsItsRole(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "java", "app-java");
        Command.Result r = PodClients.javaSdk(sandbox, pod);
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(assumed("app-java", ns(style), "java"), value(r, "Arn"));
        String tokenRequest = "\"req.method\":\"PUT\",\"req.path\":\"/latest/api/token\",\"req.remote\":\"" + pod.ip() + "\"";
        assertTrue(agent.log().contains(tokenRequest), "the SDK asked the agent for an IMDSv2 token from " + pod.ip());
        String credentialRequest = "\"req.method\":\"GET\",\"req.path\":\"" + ROLE_PATH + "app-java\",\"req.remote\":\"" + pod.ip() + "\"";
        assertTrue(agent.log().contains(credentialRequest), "the SDK's credentials came from the agent");
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void imdsV2WorksFromAPodWhateverTheHopLimit(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "v2", "app-v2");
        RawHttp.Response token = RawHttp.exchange(pod.ns(), Sandbox.IMDS_IP, 80, "PUT", "/latest/api/token",
                Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60"));
        assertEquals(200, token.status(), token.toString());
        Map<String, String> withToken = Map.of("X-aws-ec2-metadata-token", token.body());
        RawHttp.Response listing = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH, withToken);
        assertEquals("app-v2", listing.body(), listing.toString());
        // Proxied to the node's IMDS: the agent asks from the node, one hop away, so hop limit 1 is no problem.
        RawHttp.Response instance = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, "/latest/meta-data/instance-id", withToken);
        assertEquals("i-0123456789abcdef0", instance.body(), instance.toString());
        RawHttp.Response forged = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH, Map.of("X-aws-ec2-metadata-token", "forged"));
        assertEquals(401, forged.status(), forged.toString());
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void aPodListsItsRoleAndIsRefusedSomeoneElses(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "lister", "app-lister");
        RawHttp.Response listing = get(pod, ROLE_PATH);
        assertEquals(200, listing.status());
        assertEquals("app-lister", listing.body());
        assertEquals("EC2ws", listing.header("Server"));
        assertEquals("app-lister", get(pod, ROLE_PATH.substring(0, ROLE_PATH.length() - 1)).body(), "without the trailing slash too");
        RawHttp.Response mine = get(pod, ROLE_PATH + "app-lister");
        assertEquals(200, mine.status());
        assertTrue(mine.body().contains("\"Code\":\"Success\"") && mine.body().contains("\"AccessKeyId\":\"ASIAFAKE"), mine.body());
        for (String other : new String[] {"app-other", Sandbox.NODE_ROLE}) {
            RawHttp.Response refused = get(pod, ROLE_PATH + other);
            assertEquals(403, refused.status(), refused.toString());
            assertFalse(refused.body().contains("AccessKeyId"), refused.body());
        }
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void userDataAndTheNodesCredentialsStayOnTheNode(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "curious", "app-curious");
        for (String path : new String[] {"/latest/user-data", "/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance"}) {
            RawHttp.Response r = get(pod, path);
            assertEquals(403, r.status(), path + ": " + r);
            assertFalse(r.body().contains(FakeImds.USER_DATA_SECRET) || r.body().contains(FakeImds.NODE_ACCESS_KEY), r.body());
        }
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void aNamespaceThatDoesNotAllowTheRoleGets403AndThePodNoCredentials(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, "locked", "intruder-" + style.name().toLowerCase(), "app-admin");
        RawHttp.Response r = get(pod, ROLE_PATH);
        assertEquals(403, r.status(), r.toString());
        assertTrue(r.body().contains("not allowed in namespace locked"), r.body());
        Command.Result cli = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertNotEquals(0, cli.exitCode(), cli.output());
        assertTrue(cli.output().contains("Unable to locate credentials"), cli.output());
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void aPodWithoutAnnotationGetsTheDefaultRole(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, ns(style), "plain", null);
        Command.Result r = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.stdout().contains(assumed(Sandbox.DEFAULT_ROLE, ns(style), "plain")), r.output());
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void aPodAskingMillisecondsAfterItsCreationGetsItsRole(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.plugPod(style);
        sandbox.createPodObject(pod, ns(style), "early", Map.of("iam.amazonaws.com/role", "app-early"));
        RawHttp.Response r = get(pod, ROLE_PATH);
        assertEquals(200, r.status(), "the agent waits for the pod's event instead of answering 404: " + r);
        assertEquals("app-early", r.body());
    }

    /**
     * Until the agent has the event, the pod that held the address keeps its role (it may still be running);
     * then the address answers 404. A CNI hands an address out again only after its pod was torn down.
     */
    private void awaitNotFound(SandboxPod pod, String previousRole) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        RawHttp.Response r;
        while ((r = get(pod, ROLE_PATH)).status() != 404) {
            assertEquals(previousRole, r.body(), "only the previous holder's role until the event arrives: " + r);
            assertTrue(System.nanoTime() < deadline, "the agent still serves a departed pod after 10s");
            Thread.sleep(20);
        }
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void aReusedIpNeverSeesThePreviousPodsRole(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.plugPod(style);
        sandbox.createPodObject(pod, ns(style), "first", Map.of("iam.amazonaws.com/role", "app-first"));
        String firstCredentials = get(pod, ROLE_PATH + "app-first").body();
        assertTrue(firstCredentials.contains("AccessKeyId"), firstCredentials);

        // The first pod is terminating (still in the API, finalizers pending) when the next one gets its address.
        sandbox.api().client().pods().inNamespace(ns(style)).withName("first").edit(p -> {
            p.getMetadata().setFinalizers(java.util.List.of("sandbox.iamlet.io/hold"));
            return p;
        });
        sandbox.deletePodObject(ns(style), "first");
        assertNotNull(sandbox.api().client().pods().inNamespace(ns(style)).withName("first").get().getMetadata().getDeletionTimestamp(),
                "the API keeps a pod with a finalizer, marked for deletion");
        awaitNotFound(pod, "app-first");
        sandbox.createPodObject(pod, ns(style), "second", Map.of("iam.amazonaws.com/role", "app-second"));
        RawHttp.Response listing = get(pod, ROLE_PATH);
        assertEquals("app-second", listing.body(), listing.toString());
        assertEquals(403, get(pod, ROLE_PATH + "app-first").status());
        RawHttp.Response second = get(pod, ROLE_PATH + "app-second");
        assertEquals(200, second.status());
        assertNotEquals(firstCredentials, second.body());

        // Gone for good, then a third pod with the same address.
        sandbox.deletePodObject(ns(style), "first");
        sandbox.deletePodObject(ns(style), "second");
        awaitNotFound(pod, "app-second");
        sandbox.createPodObject(pod, ns(style), "third", Map.of("iam.amazonaws.com/role", "app-third"));
        assertEquals("app-third", get(pod, ROLE_PATH).body());
        Command.Result cli = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertTrue(cli.stdout().contains(assumed("app-third", ns(style), "third")), cli.output());
    }
}
