package io.iamlet.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.iamlet.agent.AgentStack;
import io.iamlet.agent.cli.FlagNames;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.log.LogFormat;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.identity.TokenVerifier;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodLookup;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeTokenIssuer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The container-credentials endpoint on a real app port, with the control module's fakes: the mock API server
 * (which signs real tokens and serves the issuer keys and TokenReview), STS and the node's IMDS. Pods are
 * loopback addresses 127.0.0.x used as source addresses, so "which pod is asking" is real.
 */
class ContainerCredentialsRouteTest {
    private static final String BASE = FakeAws.BASE_ARN;
    private static final String WEB = "127.0.0.11";
    private static final String OTHER = "127.0.0.12";
    private static final String BUILDER = "127.0.0.13";
    private static final String OWN_ROLE = "127.0.0.14";
    private static final String FOREIGN_NODE = "127.0.0.15";
    private static final String NOBODY = "127.0.0.20";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private FakeTokenIssuer issuer;
    private PodIndex index;
    private CredentialCache cache;
    private MetadataServer server;
    private AgentStack wired;
    private final ByteArrayOutputStream logs = new ByteArrayOutputStream();
    private final List<String> bodies = new ArrayList<>();
    private Pod web;
    private Pod other;
    private Pod builder;
    private Pod ownRole;
    private Pod foreign;

    private Pod create(Pod pod) {
        return aws.api().client().pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    }

    private static Pod withServiceAccount(Pod pod, String account) {
        return new PodBuilder(pod).editSpec().withServiceAccountName(account).endSpec().build();
    }

    @BeforeEach
    void start() throws Exception {
        issuer = aws.api().tokens();
        aws.sts().deny(BASE + "untrusted");
        web = create(Pods.withRole("team", "web", "node-a", "reader", WEB));
        other = create(Pods.withRole("team", "other", "node-a", "writer", OTHER));
        builder = create(withServiceAccount(Pods.pod("team", "builder", "node-a", "Running", Map.of(), BUILDER), "ci"));
        ownRole = create(withServiceAccount(Pods.withRole("team", "own", "node-a", "reader", OWN_ROLE), "ci"));
        foreign = create(Pods.withRole("team", "elsewhere", "node-b", "reader", FOREIGN_NODE));
        aws.api().client().serviceAccounts().inNamespace("team").resource(new ServiceAccountBuilder().withNewMetadata()
                .withNamespace("team").withName("ci").withAnnotations(Map.of("iam.amazonaws.com/role", "ci-deployer")).endMetadata()
                .build()).create();
        start(TokenVerifier.Mode.AUTO);
    }

    private void start(TokenVerifier.Mode mode) throws Exception {
        NodeMetadata node = new NodeMetadata(aws.imds().url(), Duration.ofSeconds(2));
        wired = new AgentStack(new AgentStack.Settings(new PodIndex.Settings("node-a", Duration.ofMinutes(30), Duration.ofMillis(300), true),
                RoleSettings.defaults().withBaseArn(BASE), CredentialCache.Settings.defaults(), Set.of(), ImdsV2.OPTIONAL,
                new ContainerCredentialsEndpoint(true, ContainerCredentialsEndpoint.DEFAULT_PATH,
                        TokenVerifier.Settings.audiences(Set.of("iamlet")), mode), Optional.empty(), FlagNames.FLAGS),
                AgentStack.Parts.of(aws.api().client(), aws.stsSource(), node, aws.imds().url(), Clock.systemUTC(),
                        new RequestLog(new PrintStream(logs, true, StandardCharsets.UTF_8), LogFormat.JSON, Clock.systemUTC())),
                AgentStack.AgentState.READY, "test");
        index = wired.index();
        cache = wired.cache();
        index.start();
        index.awaitSynced(Duration.ofSeconds(10));
        // As in the agent, every pod's role is fetched when the index learns the pod: web's, other's and own's from their
        // annotations, builder's from its ServiceAccount. Waited for, so that the tests count only their own STS calls.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (cache.stats().entries() < 4) {
            assertTrue(System.nanoTime() < deadline, "the four pods' roles are prefetched at start: " + cache.stats());
            Thread.sleep(10);
        }
        // The wildcard of both families, so that IPv6 pods (::1) reach it too.
        server = wired.server(new AgentStack.Listen(InetAddress.ofLiteral("::"), 0, 0, "10.0.0.1"), null, ServerLimits.defaults()).start();
    }

    @AfterEach
    void stop() {
        for (String body : bodies) {
            assertFalse(body.contains(FakeImds.NODE_ACCESS_KEY) || body.contains("NODE-SECRET"), "node credentials leaked: " + body);
        }
        server.close();
        wired.close();
    }

    private HttpResponse<String> call(String from, String method, String path, String token) throws Exception {
        HttpClient client = HttpClient.newBuilder().localAddress(InetAddress.ofLiteral(from)).build();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.appPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", token);
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        bodies.add(r.body());
        return r;
    }

    private HttpResponse<String> credentials(String from, String token) throws Exception {
        return call(from, "GET", "/v1/credentials", token);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.toString());
        return JSON.readTree(r.body());
    }

    /** A refusal: the status, {"code","message"}, and no credentials. Returns the message. */
    private static String refused(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertFalse(body.path("code").asText().isEmpty(), r.body());
        assertFalse(r.body().contains("AccessKeyId") || r.body().contains("ASIA"), "no credentials in a refusal: " + r.body());
        return body.path("message").asText();
    }

    /** The request's log line, written just after its answer went out: waited for briefly. */
    private String logLine(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (true) {
            var line = logs.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains(fragment)).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no log line with " + fragment + " in:\n" + logs);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void aPodWithItsOwnTokenGetsItsRoleInTheShapeSdksParse() throws Exception {
        HttpResponse<String> r = credentials(WEB, issuer.token(web, "iamlet"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals(List.of("AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"),
                iterate(body.fieldNames()));
        assertTrue(body.path("AccessKeyId").asText().startsWith("ASIA"), r.body());
        assertEquals(FakeAws.ACCOUNT, body.path("AccountId").asText());
        Instant expiration = Instant.parse(body.path("Expiration").asText());
        assertTrue(expiration.isAfter(Instant.now().plus(Duration.ofMinutes(30))), r.body());
        assertTrue(body.path("Expiration").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), r.body());
        assertTrue(aws.sts().calls().stream().anyMatch(c -> c.roleArn().equals(BASE + "reader") && c.sessionName().equals("team.web")));
        String line = logLine("\"req.path\":\"/v1/credentials\"");
        assertTrue(line.contains("\"req.remote\":\"" + WEB + "\"") && line.contains("\"pod.iam.role\":\"" + BASE + "reader\""), line);
        assertFalse(logs.toString(StandardCharsets.UTF_8).contains(issuer.token(web, "iamlet").substring(0, 40)), "no token in the log");
    }

    private static List<String> iterate(Iterator<String> names) {
        List<String> out = new ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }

    @Test
    void theEksAudienceAndABearerPrefixAreAccepted() throws Exception {
        assertEquals(200, credentials(WEB, issuer.token(web, TokenVerifier.EKS_AUDIENCE)).statusCode());
        assertEquals(200, credentials(WEB, "Bearer " + issuer.token(web, "iamlet")).statusCode());
    }

    @Test
    void imdsAndContainerCredentialsShareOneStsSession() throws Exception {
        HttpResponse<String> imds = call(WEB, "GET", "/latest/meta-data/iam/security-credentials/reader", null);
        assertEquals(200, imds.statusCode(), imds.body());
        HttpResponse<String> container = credentials(WEB, issuer.token(web, "iamlet"));
        assertEquals(200, container.statusCode(), container.body());
        assertEquals(JSON.readTree(imds.body()).path("AccessKeyId").asText(), json(container).path("AccessKeyId").asText());
        assertEquals(1, aws.sts().calls().stream().filter(c -> c.roleArn().equals(BASE + "reader") && c.sessionName().equals("team.web")).count(),
                "one AssumeRole for both paths: " + aws.sts().calls());
    }

    @Test
    void anotherPodsTokenIsRefusedAndLoggedAsAPossibleSpoof() throws Exception {
        int stsCalls = aws.sts().calls().size();
        String message = refused(credentials(WEB, issuer.token(other, "iamlet")), 403);
        assertFalse(message.contains("other") || message.contains(OTHER), "the stranger learns nothing about the token's pod: " + message);
        String line = logLine("possible spoof");
        assertTrue(line.contains("\"req.remote\":\"" + WEB + "\"") && line.contains("team/other") && line.contains("\"level\":\"warning\""), line);
        assertEquals(stsCalls, aws.sts().calls().size(), "no STS call for a refused request");
    }

    @Test
    void aPodsTokenFromAnAddressThatIsNoPodsIsRefused() throws Exception {
        refused(credentials(NOBODY, issuer.token(web, "iamlet")), 403);
        assertTrue(logLine("possible spoof").contains("\"req.remote\":\"" + NOBODY + "\""));
    }

    @Test
    void aTokenOfAPodOnAnotherNodeIsRefused() throws Exception {
        String message = refused(credentials(FOREIGN_NODE, issuer.token(foreign, "iamlet")), 403);
        assertTrue(message.contains("not a live pod on node node-a"), message);
    }

    @Test
    void theTokenOfADeletedPodIsRefused() throws Exception {
        String token = issuer.token(web, "iamlet");
        aws.api().client().pods().inNamespace("team").withName("web").withGracePeriod(0).delete();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (index.find(WEB) instanceof PodLookup.Found && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        refused(credentials(WEB, token), 403);
    }

    @Test
    void forgedStaleAndForeignTokensGet400AndNeverCredentials() throws Exception {
        int stsCalls = aws.sts().calls().size();
        var claims = FakeTokenIssuer.claims(web, "iamlet", Duration.ofHours(1));
        Date past = Date.from(Instant.now().minus(Duration.ofMinutes(5)));
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(issuer.signingKey().getKeyID()).build(),
                claims.build());
        hmac.sign(new MACSigner(issuer.signingKey().toRSAPublicKey().getEncoded()));
        Map<String, String> cases = Map.of(
                "another cluster's key", FakeTokenIssuer.sign(claims.build(), FakeTokenIssuer.newKey()),
                "expired", issuer.sign(FakeTokenIssuer.claims(web, "iamlet", Duration.ofHours(1)).expirationTime(past).build()),
                "wrong audience", issuer.token(web, "https://kubernetes.default.svc"),
                "wrong issuer", issuer.sign(FakeTokenIssuer.claims(web, "iamlet", Duration.ofHours(1)).issuer("https://evil.example").build()),
                "alg none", new PlainJWT(new PlainHeader(), claims.build()).serialize(),
                "HS256 keyed with the public key", hmac.serialize(),
                "garbage", "garbage",
                "empty", "");
        for (var c : cases.entrySet()) {
            String message = refused(credentials(WEB, c.getValue()), 400);
            assertTrue(message.startsWith("service-account token refused"), c.getKey() + ": " + message);
        }
        refused(credentials(WEB, null), 400);
        assertEquals(stsCalls, aws.sts().calls().size(), "no STS call for a refused token: " + aws.sts().calls());
    }

    @Test
    void theServiceAccountsRoleAppliesToAPodWithoutOneAndThePodsOwnWins() throws Exception {
        assertEquals(200, credentials(BUILDER, issuer.token(builder, "iamlet")).statusCode());
        assertTrue(logLine("\"req.remote\":\"" + BUILDER + "\"").contains("\"pod.iam.role\":\"" + BASE + "ci-deployer\""), logs.toString());
        assertTrue(aws.sts().calls().stream().anyMatch(c -> c.roleArn().equals(BASE + "ci-deployer") && c.sessionName().equals("team.builder")));
        assertEquals(200, credentials(OWN_ROLE, issuer.token(ownRole, "iamlet")).statusCode());
        assertTrue(logLine("\"req.remote\":\"" + OWN_ROLE + "\"").contains("\"pod.iam.role\":\"" + BASE + "reader\""), logs.toString());
    }

    /** The same status as the IMDS path gives for it; the SDKs fail either way, with STS's words in the message. */
    @Test
    void aRoleStsRefusesIsAJsonError() throws Exception {
        Pod untrusted = create(Pods.withRole("team", "untrusted", "node-a", "untrusted", "127.0.0.16"));
        String message = refused(credentials("127.0.0.16", issuer.token(untrusted, "iamlet")), 500);
        assertTrue(message.contains("AccessDenied") && message.contains("untrusted"), message);
    }

    /** Two live pods claim one address: as on the IMDS path, nobody gets credentials from it, token or not. */
    @Test
    void anAddressTwoLivePodsClaimIsNotVouchedFor() throws Exception {
        Pod first = create(Pods.withRole("team", "dup-1", "node-a", "reader", "127.0.0.17"));
        create(Pods.withRole("team", "dup-2", "node-a", "writer", "127.0.0.17"));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!(index.find("127.0.0.17") instanceof PodLookup.Ambiguous) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        refused(credentials("127.0.0.17", issuer.token(first, "iamlet")), 409);
    }

    /** An IPv6 pod (the redirect of [fd00:ec2::23] brings it here with its own address), in another spelling than the API's. */
    @Test
    void anIpv6PodIsBoundByItsAddress() throws Exception {
        Pod v6 = create(Pods.withRole("team", "v6", "node-a", "reader", "0:0:0:0:0:0:0:1"));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!(index.find("::1") instanceof PodLookup.Found) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        HttpClient client = HttpClient.newBuilder().localAddress(InetAddress.ofLiteral("::1")).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://[::1]:" + server.appPort() + "/v1/credentials"))
                .header("Authorization", issuer.token(v6, "iamlet")).build(), HttpResponse.BodyHandlers.ofString());
        bodies.add(r.body());
        assertEquals(200, r.statusCode(), r.body());
        refused(credentials(WEB, issuer.token(v6, "iamlet")), 403);
    }

    @Test
    void onlyGetIsServed() throws Exception {
        refused(call(WEB, "POST", "/v1/credentials", issuer.token(web, "iamlet")), 405);
    }

    @Test
    void withNeitherIssuerKeysNorTokenReviewTheAnswerIs503() throws Exception {
        issuer.serveKeys(false);
        issuer.serveTokenReview(false);
        String message = refused(credentials(WEB, issuer.token(web, "iamlet")), 503);
        assertTrue(message.contains("cannot verify"), message);
    }

    @Test
    void tokenReviewAloneServesWhenAsked() throws Exception {
        server.close();
        wired.close();
        start(TokenVerifier.Mode.ALWAYS);
        issuer.serveKeys(false);
        assertEquals(200, credentials(WEB, issuer.token(web, "iamlet")).statusCode());
        refused(credentials(WEB, issuer.token(other, "iamlet")), 403);
        refused(credentials(WEB, FakeTokenIssuer.sign(FakeTokenIssuer.claims(web, "iamlet", Duration.ofHours(1)).build(),
                FakeTokenIssuer.newKey())), 400);
        assertEquals(3, issuer.tokenReviews());
    }

    /** One fact of the container-credentials contract: which SDK file says so, what, and the check. */
    private record Fact(String source, String fact, Executable check) {
    }

    /**
     * The container-credentials contract as the SDKs read it: Go SDK v2 {@code credentials/endpointcreds} (provider.go,
     * internal/client/middleware.go) and {@code aws/retry/standard.go}; botocore {@code credentials.py} ContainerProvider
     * and {@code utils.py} ContainerMetadataFetcher; JS {@code @aws-sdk/credential-provider-http} fromHttp.
     */
    @TestFactory
    Stream<DynamicTest> sdkContract() {
        List<Fact> facts = List.of(
                new Fact("Go v2 credentials/endpointcreds/internal/client/middleware.go deserializeError (reads {code,message}); EKS Pod Identity Agent",
                        "a missing, unparsable or expired token: 400 with {\"code\":\"InvalidToken\",\"message\"}", () -> {
                            Date past = Date.from(Instant.now().minus(Duration.ofMinutes(5)));
                            String expired = issuer.sign(FakeTokenIssuer.claims(web, "iamlet", Duration.ofHours(1)).expirationTime(past).build());
                            for (String token : new String[] {null, "", "not-a-jwt", "a.b.c", expired}) {
                                HttpResponse<String> r = credentials(WEB, token);
                                assertEquals(400, r.statusCode(), token + ": " + r.body());
                                JsonNode body = json(r);
                                assertEquals("InvalidToken", body.path("code").asText(), r.body());
                                assertFalse(body.path("message").asText().isBlank(), r.body());
                            }
                        }),
                new Fact("botocore credentials.py ContainerProvider; JS fromHttp (AccountId); Go v2 endpointcreds provider.go (Expiration time.Time, RFC 3339)",
                        "the document: the credentials, AccountId of the role's ARN, Expiration in RFC 3339 UTC", () -> {
                            HttpResponse<String> r = credentials(WEB, issuer.token(web, "iamlet"));
                            assertEquals(200, r.statusCode(), r.body());
                            JsonNode doc = json(r);
                            for (String field : new String[] {"AccessKeyId", "SecretAccessKey", "Token"}) {
                                assertFalse(doc.path(field).asText().isEmpty(), field);
                            }
                            assertEquals(FakeAws.ACCOUNT, doc.path("AccountId").asText());
                            String expiration = doc.path("Expiration").asText();
                            assertTrue(expiration.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), expiration);
                            assertTrue(Duration.between(Instant.now(), Instant.parse(expiration)).compareTo(Duration.ofMinutes(15)) > 0);
                        }),
                new Fact("botocore utils.py ContainerMetadataFetcher and JS fromHttp (the token file is re-read on every refresh)",
                        "a rotated token is accepted at once, and the previous one until it expires", () -> {
                            String first = issuer.token(web, "iamlet");
                            assertEquals(200, credentials(WEB, first).statusCode());
                            String rotated = issuer.sign(FakeTokenIssuer.claims(web, "iamlet", Duration.ofMinutes(90)).build());
                            assertNotEquals(first, rotated);
                            assertEquals(200, credentials(WEB, rotated).statusCode());
                            assertEquals(200, credentials(WEB, first).statusCode());
                        }),
                new Fact("Go v2 aws/retry/standard.go (TooManyRequestsException is a throttle error: retried); botocore 3 attempts; JS 3 retries",
                        "a burst past the per-address limit is told 429 with a throttling code, and the retry succeeds", () -> {
                            List<Socket> held = new ArrayList<>();
                            try {
                                String token = issuer.token(web, "iamlet");
                                String answer = null;
                                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                                while (answer == null || !answer.startsWith("HTTP/1.1 429")) {
                                    assertTrue(System.nanoTime() < deadline, "never told 429: " + answer);
                                    for (int i = 0; i < 16; i++) {
                                        Socket idle = new Socket();
                                        idle.bind(new InetSocketAddress(InetAddress.ofLiteral(WEB), 0));
                                        idle.connect(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), server.appPort()), 2000);
                                        held.add(idle);
                                    }
                                    answer = rawCredentials(token);
                                }
                                int body = answer.indexOf("\r\n\r\n");
                                assertTrue(answer.contains("Content-Type: application/json"), answer);
                                assertEquals("TooManyRequestsException", JSON.readTree(answer.substring(body + 4)).path("code").asText(), answer);
                                for (Socket s : held) {
                                    s.close();
                                }
                                long retryUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                                String retried = rawCredentials(token);
                                while (!retried.startsWith("HTTP/1.1 200") && System.nanoTime() < retryUntil) {
                                    Thread.sleep(100);
                                    retried = rawCredentials(token);
                                }
                                assertTrue(retried.startsWith("HTTP/1.1 200"), "the retry: " + retried);
                            } finally {
                                for (Socket s : held) {
                                    s.close();
                                }
                            }
                        }),
                new Fact("CredentialBroker's prefetch, for roles that come from the ServiceAccount (docs/container-credentials.md)",
                        "a new pod whose role comes from its ServiceAccount has its credentials fetched before it asks", () -> {
                            create(withServiceAccount(Pods.pod("team", "late-builder", "node-a", "Running", Map.of(), "127.0.0.16"), "ci"));
                            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                            while (aws.sts().calls().stream().noneMatch(c -> c.roleArn().equals(BASE + "ci-deployer")
                                    && c.sessionName().equals("team.late-builder"))) {
                                assertTrue(System.nanoTime() < deadline, "not prefetched: " + aws.sts().calls());
                                Thread.sleep(20);
                            }
                        }));
        return facts.stream().map(f -> DynamicTest.dynamicTest(f.source() + ": " + f.fact(), f.check()));
    }

    /** One request written by hand on a new connection from WEB, and everything the server sent back. */
    private String rawCredentials(String token) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.ofLiteral(WEB), 0));
            s.connect(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), server.appPort()), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /v1/credentials HTTP/1.1\r\nHost: 169.254.170.23\r\nAuthorization: " + token
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            bodies.add(text);
            return text;
        }
    }
}
