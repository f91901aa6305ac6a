package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeTokenIssuer;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Container credentials end to end: real SDKs in pods of every interface style, with nothing but
 * AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 * (a projected token signed by the fake cluster), get their own role from the agent through its real redirect
 * (--container-credentials=on); forged, foreign, stale and borrowed tokens sent from a pod are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SandboxContainerCredentialsE2eTest {
    private static final String HOST = TokenPod.HOST;
    private static final String ENDPOINT = TokenPod.ENDPOINT;
    private static final String NS = "apps";

    private Sandbox sandbox;
    private AgentProcess agent;
    private Path nodeClient;

    @BeforeAll
    void start() throws Exception {
        nodeClient = NodeClient.install();
        sandbox = Sandbox.start();
        // Hop limit 1: whatever a pod gets, it got from the agent.
        sandbox.imdsHopLimit(1);
        sandbox.namespace(NS, "app-*");
        sandbox.api().client().serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withNamespace(NS)
                .withName("deployer").withAnnotations(Map.of("iam.amazonaws.com/role", "app-deployer")).endMetadata().build()).create();
        agent = sandbox.startAgent("--on-exit=remove", "--container-credentials=on");
        assertTrue(sandbox.nodeRuleset().contains(HOST), "the agent's own redirect takes " + HOST + ":\n" + sandbox.nodeRuleset());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            assertEquals(143, agent.stop(), "the agent ends on SIGTERM");
            assertEquals("", sandbox.nodeRuleset(), "--on-exit=remove leaves no rule");
        }
        if (sandbox != null) {
            sandbox.close();
        }
    }

    private TokenPod tokenPod(InterfaceStyle style, String name, String serviceAccount, String role) throws Exception {
        return TokenPod.create(sandbox, style, NS, name, serviceAccount, role);
    }

    private static String value(Command.Result r, String key) {
        return r.stdout().lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in:\n" + r.output()));
    }

    private static String assumed(String role, String pod) {
        return "arn:aws:sts::" + Sandbox.ACCOUNT + ":assumed-role/" + role + "/" + NS + "." + pod;
    }

    /** A request's log line is written just after its answer: waited for briefly. */
    private String awaitLog(String fragment) throws Exception {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (!agent.log().contains(fragment)) {
            assertTrue(System.nanoTime() < deadline, "no '" + fragment + "' in the agent's log:\n" + agent.log());
            Thread.sleep(20);
        }
        return agent.log();
    }

    private void assertServedByTheEndpoint(SandboxPod pod) throws Exception {
        String log = awaitLog("\"req.path\":\"/v1/credentials\",\"req.remote\":\"" + pod.ip() + "\"");
        assertTrue(log.contains("\"req.method\":\"GET\",\"req.path\":\"/v1/credentials\",\"req.remote\":\"" + pod.ip() + "\",\"res.status\":200"),
                "the credentials came from /v1/credentials, asked from " + pod.ip() + ":\n" + log);
        assertFalse(log.contains("security-credentials/\",\"req.remote\":\"" + pod.ip() + "\""), "and not from IMDS");
    }

    /** No role annotation on the pod: the role comes from its ServiceAccount, which only the token path reads. */
    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void javaSdkWithOnlyTheTwoVariablesGetsItsRole(InterfaceStyle style) throws Exception {
        String name = "java-" + style.name().toLowerCase();
        TokenPod pod = tokenPod(style, name, "deployer", null);
        Command.Result r = PodClients.javaSdk(sandbox, pod.net(), pod.env());
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(assumed("app-deployer", name), value(r, "Arn"));
        assertServedByTheEndpoint(pod.net());
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void javascriptSdkWithOnlyTheTwoVariablesGetsItsRole(InterfaceStyle style) throws Exception {
        String name = "js-" + style.name().toLowerCase();
        TokenPod pod = tokenPod(style, name, "default", "app-js");
        Command.Result r = PodClients.nodeSdk(sandbox, pod.net(), nodeClient, pod.env());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(value(r, "AccessKeyId").startsWith("ASIAFAKE"), r.output());
        assertEquals(assumed("app-js", name), value(r, "Arn"));
        assertServedByTheEndpoint(pod.net());
    }

    /** What docs/container-credentials.md says of Debian 12's clients: they predate the EKS host and refuse it. */
    @Test
    void debiansBotocoreAndAwsCliRefuseTheHost() throws Exception {
        TokenPod pod = tokenPod(InterfaceStyle.CALI, "old-python", "default", "app-python");
        for (Command.Result r : new Command.Result[] {PodClients.botocore(sandbox, pod.net(), pod.env()),
                PodClients.awsCli(sandbox, pod.net(), pod.env())}) {
            assertNotEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("Unsupported host '" + HOST + "'"), r.output());
        }
    }

    @Test
    void forgedForeignStaleAndBorrowedTokensFromAPodAreRefused() throws Exception {
        TokenPod victim = tokenPod(InterfaceStyle.CALI, "victim", "default", "app-victim");
        TokenPod thief = tokenPod(InterfaceStyle.ENI, "thief", "default", "app-thief");
        FakeTokenIssuer issuer = sandbox.api().tokens();
        Date past = Date.from(Instant.now().minus(Duration.ofMinutes(5)));
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("another cluster's key", FakeTokenIssuer.sign(FakeTokenIssuer.claims(victim.object(), "iamlet", Duration.ofHours(1)).build(),
                FakeTokenIssuer.newKey()));
        cases.put("expired", issuer.sign(FakeTokenIssuer.claims(victim.object(), "iamlet", Duration.ofHours(1)).expirationTime(past).build()));
        cases.put("wrong audience", issuer.token(victim.object(), "https://kubernetes.default.svc"));
        cases.put("garbage", "eyJhbGciOiJub25lIn0.e30.");
        for (var c : cases.entrySet()) {
            RawHttp.Response r = RawHttp.get(thief.net().ns(), HOST, 80, "/v1/credentials", Map.of("Authorization", c.getValue()));
            assertEquals(400, r.status(), c.getKey() + ": " + r);
            assertFalse(r.body().contains("AccessKeyId"), r.body());
        }
        RawHttp.Response none = RawHttp.get(thief.net().ns(), HOST, 80, "/v1/credentials", Map.of());
        assertEquals(400, none.status(), none.toString());

        // The victim's real token, sent from the thief's pod: a valid token from the wrong address.
        RawHttp.Response borrowed = RawHttp.get(thief.net().ns(), HOST, 80, "/v1/credentials",
                Map.of("Authorization", Files.readString(victim.tokenFile())));
        assertEquals(403, borrowed.status(), borrowed.toString());
        assertFalse(borrowed.body().contains("AccessKeyId") || borrowed.body().contains("victim"), borrowed.body());
        awaitLog("possible spoof: the token of pod " + NS + "/victim");

        // An SDK in the thief's pod pointed at the victim's token never gets the victim's role.
        Command.Result sdk = PodClients.javaSdk(sandbox, thief.net(), Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI", ENDPOINT,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", victim.tokenFile().toString()));
        assertFalse(sdk.output().contains("app-victim"), sdk.output());
        assertFalse(sdk.output().contains(FakeImds.NODE_ACCESS_KEY), sdk.output());

        // The victim itself, with the same token, is served.
        RawHttp.Response own = RawHttp.get(victim.net().ns(), HOST, 80, "/v1/credentials",
                Map.of("Authorization", Files.readString(victim.tokenFile())));
        assertEquals(200, own.status(), own.toString());
        assertTrue(own.body().contains("\"AccessKeyId\":\"ASIAFAKE"), own.body());
    }
}
