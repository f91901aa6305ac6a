package io.iamlet.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.agent.AgentStack;
import io.iamlet.agent.cli.FlagNames;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.log.LogFormat;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every route of the app and management ports, in-process, with the control module's fakes: the mock API
 * server, a fake STS and a fake node IMDS. Pods are loopback addresses 127.0.0.x, used as source address.
 */
class MetadataServerTest {
    private static final String BASE = "arn:aws:iam::111122223333:role/";
    private static final String WEB = "127.0.0.11";
    private static final String PLAIN = "127.0.0.12";
    private static final String UNTRUSTED = "127.0.0.13";
    private static final String STRANGER = "127.0.0.14";

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private MockApiServer api;
    private FakeSts sts;
    private FakeImds imds;
    private PodIndex index;
    private CredentialCache cache;
    private MetadataServer server;
    private AgentStack wired;
    private final ByteArrayOutputStream logs = new ByteArrayOutputStream();
    private final List<String> bodies = new ArrayList<>();

    private void start(ImdsV2 mode, Set<String> allowedPaths) throws Exception {
        api = aws.api();
        sts = aws.sts();
        imds = aws.imds();
        NodeMetadata node = new NodeMetadata(imds.url(), Duration.ofSeconds(2));
        wired = new AgentStack(new AgentStack.Settings(new PodIndex.Settings("node-a", Duration.ofMinutes(30), Duration.ofMillis(500), true),
                RoleSettings.defaults().withBaseArn(BASE), CredentialCache.Settings.defaults(), allowedPaths, mode,
                ContainerCredentialsEndpoint.DISABLED, Optional.empty(), FlagNames.FLAGS),
                AgentStack.Parts.of(api.client(), aws.stsSource(), node, imds.url(), Clock.systemUTC(),
                        new RequestLog(new PrintStream(logs, true, StandardCharsets.UTF_8), LogFormat.JSON, Clock.systemUTC())),
                AgentStack.AgentState.READY, "test");
        index = wired.index();
        cache = wired.cache();
        index.start();
        index.awaitSynced(Duration.ofSeconds(10));
        server = wired.server(new AgentStack.Listen(InetAddress.getLoopbackAddress(), 0, 0, "10.0.0.1"), () -> "{}",
                ServerLimits.defaults()).start();
    }

    @BeforeEach
    void defaults() throws Exception {
        // The fakes live for the whole test; a test that restarts the server keeps these pods.
        aws.sts().deny(BASE + "untrusted");
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", WEB)).create();
        aws.api().client().pods().inNamespace("team").resource(Pods.pod("team", "plain", "node-a", "Running", Map.of(), PLAIN)).create();
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "untrusted", "node-a", "untrusted", UNTRUSTED))
                .create();
        start(ImdsV2.OPTIONAL, Set.of());
    }

    @AfterEach
    void stop() {
        for (String body : bodies) {
            assertFalse(body.contains(FakeImds.NODE_ACCESS_KEY) || body.contains("NODE-SECRET"), "node credentials leaked: " + body);
            assertFalse(body.contains(FakeImds.USER_DATA_SECRET), "user-data leaked: " + body);
        }
        server.close();
        wired.close();
    }

    private HttpResponse<String> call(String from, String method, String path, Map<String, String> headers) throws Exception {
        HttpClient client = HttpClient.newBuilder().localAddress(InetAddress.ofLiteral(from))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.appPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        bodies.add(r.body());
        return r;
    }

    private HttpResponse<String> get(String from, String path) throws Exception {
        return call(from, "GET", path, Map.of());
    }

    @Test
    void roleListingWithAndWithoutSlash() throws Exception {
        for (String path : List.of("/latest/meta-data/iam/security-credentials", "/latest/meta-data/iam/security-credentials/")) {
            HttpResponse<String> r = get(WEB, path);
            assertEquals(200, r.statusCode());
            assertEquals("reader", r.body());
            assertEquals("EC2ws", r.headers().firstValue("Server").orElseThrow());
        }
        HttpResponse<String> plain = get(PLAIN, "/latest/meta-data/iam/security-credentials/");
        assertEquals(404, plain.statusCode());
        assertTrue(plain.body().contains("has no iam.amazonaws.com/role annotation"), plain.body());
        HttpResponse<String> stranger = get(STRANGER, "/latest/meta-data/iam/security-credentials/");
        assertEquals(404, stranger.statusCode());
        assertTrue(stranger.body().contains("no pod on node node-a has IP " + STRANGER), stranger.body());
    }

    @Test
    void credentialsDocumentInImdsShape() throws Exception {
        HttpResponse<String> r = get(WEB, "/latest/meta-data/iam/security-credentials/reader");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().matches("\\{\"Code\":\"Success\",\"LastUpdated\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\",\"Type\":\"AWS-HMAC\","
                + "\"AccessKeyId\":\"ASIAFAKE\\d+\",\"SecretAccessKey\":\"[^\"]+\",\"Token\":\"[^\"]+\",\"Expiration\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\"}"),
                r.body());
        assertEquals(403, get(WEB, "/latest/meta-data/iam/security-credentials/admin").statusCode());
        HttpResponse<String> node = get(PLAIN, "/latest/meta-data/iam/security-credentials/node-role");
        assertEquals(404, node.statusCode(), "a pod without role never gets the node's role");
        HttpResponse<String> denied = get(UNTRUSTED, "/latest/meta-data/iam/security-credentials/untrusted");
        assertEquals(500, denied.statusCode());
        assertTrue(denied.body().contains("AccessDenied"), denied.body());
    }

    /**
     * kube2iam routes security-credentials/{role:.*} and compares RoleARN(wanted) with the pod's role ARN (server.go):
     * SDKs ask for exactly what the listing answered, which is a full ARN or a path when the role is outside the base.
     */
    @Test
    void rolesWithSlashesAreAnsweredLikeKube2iam() throws Exception {
        String cross = "arn:aws:iam::999988887777:role/partner";
        String path = "apps/reader";
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "cross", "node-a", cross, "127.0.0.21")).create();
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "pathy", "node-a", path, "127.0.0.22")).create();
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "upper", "node-a", "ARN:aws:iam::111122223333:role/reader", "127.0.0.23")).create();
        for (String ip : List.of("127.0.0.21", "127.0.0.22", "127.0.0.23")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (index.pods().stream().noneMatch(p -> p.ips().contains(ip)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        assertEquals(cross, get("127.0.0.21", "/latest/meta-data/iam/security-credentials/").body(), "outside the base: the full ARN");
        assertEquals(200, get("127.0.0.21", "/latest/meta-data/iam/security-credentials/" + cross).statusCode());
        assertEquals(path, get("127.0.0.22", "/latest/meta-data/iam/security-credentials").body());
        HttpResponse<String> pathCredentials = get("127.0.0.22", "/latest/meta-data/iam/security-credentials/" + path);
        assertEquals(200, pathCredentials.statusCode(), pathCredentials.body());
        assertEquals(200, get("127.0.0.22", "/latest/meta-data/iam/security-credentials/" + BASE + path).statusCode(),
                "the full ARN of the pod's own role");
        assertEquals("reader", get("127.0.0.23", "/latest/meta-data/iam/security-credentials/").body());
        assertEquals(200, get("127.0.0.23", "/latest/meta-data/iam/security-credentials/reader").statusCode());
        HttpResponse<String> other = get("127.0.0.22", "/latest/meta-data/iam/security-credentials/" + cross);
        assertEquals(403, other.statusCode());
        assertTrue(other.body().startsWith("Invalid role " + cross), other.body());
        assertEquals(403, get("127.0.0.21", "/latest/meta-data/iam/security-credentials/arn:aws:iam::999988887777:role/other").statusCode());
    }

    /** One HTTP/1.1 response read by its Content-Length: the server keeps the connection open, as it may. */
    private static String readOneResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        String headers = head.toString(StandardCharsets.US_ASCII);
        Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(headers);
        int n = length.find() ? Integer.parseInt(length.group(1)) : 0;
        return headers + new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    /** kube2iam's README http_proxy workaround: the client sends the request line in absolute form. */
    @Test
    void absoluteFormRequestLinesAreAnswered() throws Exception {
        try (Socket socket = new Socket(InetAddress.ofLiteral("127.0.0.1"), server.appPort(), InetAddress.ofLiteral(WEB), 0)) {
            socket.getOutputStream().write(("GET http://169.254.169.254/latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n"
                    + "Host: 169.254.169.254\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.setSoTimeout(5000);
            String reply = readOneResponse(socket.getInputStream());
            bodies.add(reply);
            assertTrue(reply.startsWith("HTTP/1.1 200"), reply);
            assertTrue(reply.endsWith("\r\n\r\nreader"), reply);
        }
    }

    @Test
    void imdsV2TokensAreBoundToTheCaller() throws Exception {
        HttpResponse<String> token = call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "300"));
        assertEquals(200, token.statusCode());
        String t = token.body();
        assertEquals(200, call(WEB, "GET", "/latest/meta-data/iam/security-credentials/", Map.of("X-aws-ec2-metadata-token", t)).statusCode());
        assertEquals(401, call(PLAIN, "GET", "/latest/meta-data/iam/security-credentials/", Map.of("X-aws-ec2-metadata-token", t)).statusCode(),
                "a token is only good for the pod it was issued to");
        assertEquals(401, call(WEB, "GET", "/latest/meta-data/iam/security-credentials/", Map.of("X-aws-ec2-metadata-token", "1.abc")).statusCode());
        assertEquals(400, call(WEB, "PUT", "/latest/api/token", Map.of()).statusCode());
        assertEquals(400, call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "21601")).statusCode());
        assertEquals(403, call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60",
                "X-Forwarded-For", "1.2.3.4")).statusCode());
    }

    /**
     * The token answer echoes the TTL: Go SDK v2 feature/ec2/imds/api_op_GetToken.go and v1 aws/ec2metadata/service.go
     * (unmarshalTokenHandler) parse X-Aws-Ec2-Metadata-Token-Ttl-Seconds from the response and refuse the token without it.
     */
    @Test
    void tokenAnswerEchoesItsTtl() throws Exception {
        for (String ttl : List.of("1", "300", "21600")) {
            HttpResponse<String> token = call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", ttl));
            assertEquals(200, token.statusCode(), token.body());
            assertEquals(ttl, token.headers().firstValue("X-aws-ec2-metadata-token-ttl-seconds").orElse(null));
        }
        HttpResponse<String> refused = call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "0"));
        assertEquals(400, refused.statusCode());
        assertTrue(refused.headers().firstValue("X-aws-ec2-metadata-token-ttl-seconds").isEmpty(), "no TTL on a refusal");
    }

    /**
     * The extended credentials API (Java SDK v2 InstanceProfileCredentialsProvider, aws-sdk-java-v2 PR 6176): the same
     * listing, the document with AccountId; served for the pod's own role, with or without a token, never forwarded.
     */
    @Test
    void extendedCredentialsServeThePodsOwnRole() throws Exception {
        for (String path : List.of("/latest/meta-data/iam/security-credentials-extended", "/latest/meta-data/iam/security-credentials-extended/")) {
            HttpResponse<String> r = get(WEB, path);
            assertEquals(200, r.statusCode(), path);
            assertEquals("reader", r.body(), path);
        }
        for (String role : List.of("reader", "reader/", BASE + "reader")) {
            HttpResponse<String> doc = get(WEB, "/latest/meta-data/iam/security-credentials-extended/" + role);
            assertEquals(200, doc.statusCode(), doc.body());
            JsonNode json = new ObjectMapper().readTree(doc.body());
            assertEquals("111122223333", json.get("AccountId").asText());
            assertEquals("Success", json.get("Code").asText());
            assertTrue(json.get("AccessKeyId").asText().startsWith("ASIAFAKE"), doc.body());
        }
        assertFalse(get(WEB, "/latest/meta-data/iam/security-credentials/reader").body().contains("AccountId"),
                "the legacy document keeps its shape");
        String t = call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60")).body();
        HttpResponse<String> withToken = call(WEB, "GET", "/latest/meta-data/iam/security-credentials-extended/reader",
                Map.of("X-aws-ec2-metadata-token", t));
        assertEquals(200, withToken.statusCode(), withToken.body());
        // Another role: 404 (the Java and JS SDKs list again only after a 404), where the legacy path keeps kube2iam's 403.
        HttpResponse<String> other = get(WEB, "/latest/meta-data/iam/security-credentials-extended/admin");
        assertEquals(404, other.statusCode());
        assertTrue(other.body().startsWith("Invalid role admin"), other.body());
        assertEquals(403, get(WEB, "/latest/meta-data/iam/security-credentials/admin").statusCode());
        assertEquals(404, get(PLAIN, "/latest/meta-data/iam/security-credentials-extended/").statusCode());
        assertEquals(404, get(PLAIN, "/latest/meta-data/iam/security-credentials-extended/node-role").statusCode(),
                "a pod without a role never gets the node's");
        assertEquals(0, imds.reads().stream().filter(p -> p.contains("extended")).count(), "never forwarded to the node's IMDS");
    }

    @Test
    void imdsV2RequiredRefusesV1() throws Exception {
        stop();
        bodies.clear();
        start(ImdsV2.REQUIRED, Set.of());
        assertEquals(401, get(WEB, "/latest/meta-data/iam/security-credentials/").statusCode());
        String t = call(WEB, "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60")).body();
        assertEquals("reader", call(WEB, "GET", "/latest/meta-data/iam/security-credentials/", Map.of("X-aws-ec2-metadata-token", t)).body());
    }

    @Test
    void otherPathsAreProxiedExceptTheDenyList() throws Exception {
        HttpResponse<String> id = get(WEB, "/latest/meta-data/instance-id");
        assertEquals(200, id.statusCode());
        assertEquals("i-0123456789abcdef0", id.body());
        HttpResponse<String> userData = get(WEB, "/latest/user-data");
        assertEquals(403, userData.statusCode());
        assertEquals(403, get(WEB, "/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance").statusCode());
        assertEquals(400, get(WEB, "/latest/meta-data/../user-data").statusCode());
        assertEquals(404, get(WEB, "/latest/meta-data/no-such-thing").statusCode(), "IMDS's own answer passes through");
        assertEquals(405, call(WEB, "POST", "/latest/meta-data/instance-id", Map.of()).statusCode());
        HttpResponse<String> moved = get(WEB, "/latest/meta-data/iam");
        assertEquals(301, moved.statusCode(), "IMDS's redirect for a directory without slash reaches the pod");
        assertEquals("http://169.254.169.254/latest/meta-data/iam/", moved.headers().firstValue("Location").orElseThrow());
    }

    @Test
    void allowMetadataPathOpensOneEntry() throws Exception {
        stop();
        bodies.clear();
        start(ImdsV2.OPTIONAL, Set.of("user-data"));
        HttpResponse<String> r = get(WEB, "/latest/user-data");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains(FakeImds.USER_DATA_SECRET));
        bodies.clear();
        assertEquals(403, get(WEB, "/latest/meta-data/identity-credentials/ec2/info").statusCode());
    }

    @Test
    void oneJsonLogLinePerRequestWithKube2iamFields() throws Exception {
        get(WEB, "/latest/meta-data/iam/security-credentials/reader");
        get(STRANGER, "/latest/meta-data/iam/security-credentials/");
        // The line is written once the answer is sent: the client can see the answer first.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (logs.toString(StandardCharsets.UTF_8).lines().count() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String line : logs.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(new ObjectMapper().readTree(line));
        }
        assertEquals(2, lines.size(), logs.toString(StandardCharsets.UTF_8));
        JsonNode ok = lines.getFirst();
        assertEquals("GET", ok.get("req.method").asText());
        assertEquals("/latest/meta-data/iam/security-credentials/reader", ok.get("req.path").asText());
        assertEquals(WEB, ok.get("req.remote").asText());
        assertEquals(200, ok.get("res.status").asInt());
        assertTrue(ok.get("res.duration").isNumber());
        assertEquals("team", ok.get("ns.name").asText());
        assertEquals(BASE + "reader", ok.get("pod.iam.role").asText());
        assertEquals(404, lines.get(1).get("res.status").asInt());
        assertTrue(lines.get(1).get("msg").asText().contains("no pod on node"));
    }

    @Test
    void managementPortServesHealthReadinessAndMetrics() throws Exception {
        get(WEB, "/latest/meta-data/iam/security-credentials/reader");
        get(WEB, "/latest/meta-data/iam/security-credentials/reader");
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + server.managementPort();
        HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"hostIP\":\"10.0.0.1\",\"instanceId\":\"i-0123456789abcdef0\"}", health.body());
        assertEquals(200, client.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        String metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("iamlet_requests_total{route=\"credentials\",status=\"200\"} 2"), metrics);
        assertTrue(Pattern.compile("(?m)^iamlet_sts_calls_total [1-9]\\d*$").matcher(metrics).find(),
                "prefetches and requests call STS (how often depends on retry timing): " + metrics);
        assertTrue(metrics.contains("iamlet_sts_seconds_total "), metrics);
        assertTrue(metrics.contains("iamlet_rules{state=\"none\"} 1"), metrics);
        assertNotEquals(server.appPort(), server.managementPort());
        assertEquals("{}", client.send(HttpRequest.newBuilder(URI.create(base + "/debug/store")).build(),
                HttpResponse.BodyHandlers.ofString()).body(), "--debug serves the store");
        assertEquals(200, get(WEB, "/healthz").statusCode(), "kube2iam's probes ask the app port for /healthz");
        // With a management port of its own, metrics and the store stay off the app port: there they are paths without a
        // metadata version, refused like any other (400).
        assertEquals(400, get(WEB, "/metrics").statusCode(), "metrics stay off the app port");
        assertEquals(400, get(WEB, "/debug/store").statusCode());
        // kube2iam's series (its metrics/metrics.go), next to ours.
        String after = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String series : List.of("kube2iam_http_request_duration_seconds_bucket{code=\"200\",method=\"GET\",handler=\"roleHandler\",le=\"+Inf\"} 2",
                "kube2iam_iam_cache_hits_total{role_arn=\"" + BASE + "reader\"} ", "kube2iam_iam_request_duration_seconds_count{code=\"Success\",role_arn=\"" + BASE + "reader\"} ",
                "kube2iam_iam_k8s_pod_not_in_pod_cache 0", "kube2iam_iam_k8s_dup_req_count 0", "kube2iam_iam_k8s_dup_req_success_count 0",
                "kube2iam_healthcheck_status 1", "kube2iam_info{version=")) {
            assertTrue(after.contains(series), series + " in\n" + after);
        }
        // The JVM's and the process's series (Prometheus's client library), as kube2iam had Go's and the process's.
        for (String series : List.of("# TYPE process_cpu_seconds_total counter", "process_resident_memory_bytes ", "process_open_fds ",
                "process_start_time_seconds ", "jvm_memory_used_bytes{area=\"heap\"} ", "jvm_threads_current ", "jvm_gc_collection_seconds_count{",
                "jvm_runtime_info{", "iamlet_ready 1")) {
            assertTrue(after.contains(series), series + " in\n" + after);
        }
        List<String> families = after.lines().filter(l -> l.startsWith("# TYPE ")).map(l -> l.split(" ")[2]).toList();
        assertEquals(families.size(), Set.copyOf(families).size(), "each family once: " + families);
    }
}
