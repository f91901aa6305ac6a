package io.iamlet.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.Pods;
import io.iamlet.control.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The instance-metadata credentials contract as the AWS SDKs read it, one case per fact, each naming the SDK source
 * it comes from (docs/testing.md lists the versions read), against the real server stack with raw requests (an HTTP
 * client library would tidy up what these cases are about). The same table runs over IPv4 (169.254.169.254) and
 * IPv6 ({@code [fd00:ec2::254]}: the Host the SDKs send in IPv6 endpoint mode, from the pod's IPv6 address).
 *
 * Sources: botocore {@code botocore/utils.py} (IMDSFetcher, InstanceMetadataFetcher) and {@code credentials.py};
 * Go SDK v2 {@code feature/ec2/imds/api_op_GetToken.go}, {@code token_provider.go}, {@code api_client.go},
 * {@code credentials/ec2rolecreds/provider.go}; Go SDK v1 {@code aws/ec2metadata/service.go}, {@code token_provider.go},
 * {@code aws/credentials/ec2rolecreds/ec2_role_provider.go}; Java SDK v2 {@code InstanceProfileCredentialsProvider};
 * JS {@code @smithy/credential-provider-imds} {@code fromInstanceMetadata.ts}; kube2iam {@code server/server_test.go}
 * and {@code e2e} (TestWrongRoleRejected).
 */
class SdkContractTest {
    private static final String LEGACY = "/latest/meta-data/iam/security-credentials/";
    private static final String EXTENDED = "/latest/meta-data/iam/security-credentials-extended/";
    private static final Pattern IMDS_TIME = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private final TestClock tokenClock = new TestClock(Instant.now());
    private ServerStack stack;

    /** Where the pod is and what it calls the metadata service. */
    private record Family(String name, String bind, String pod, String host) {
    }

    private static final Family IPV4 = new Family("IPv4", "127.0.0.1", "127.0.0.31", "169.254.169.254");
    private static final Family IPV6 = new Family("IPv6", "::1", "::1", "[fd00:ec2::254]");

    /** One fact: which SDK file says so, what, and the check. */
    private record Case(String source, String fact, Check check) {
    }

    @FunctionalInterface
    private interface Check {
        void run(Family f) throws Exception;
    }

    /** An answer: status, headers (names lower-case) and body exactly as sent. */
    private record Answer(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase());
        }
    }

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> overIpv4() throws Exception {
        return contract(IPV4);
    }

    @TestFactory
    Stream<DynamicTest> overIpv6() throws Exception {
        return contract(IPV6);
    }

    /**
     * With {@code --imds-v2=required} (what docs/security.md recommends): each SDK's token flow, with the TTL it asks
     * for, gets its credentials on both paths, and a request without a token is 401 (the SDKs then fetch a token).
     */
    @TestFactory
    Stream<DynamicTest> imdsV2Required() throws Exception {
        Family f = IPV4;
        stack = new ServerStack(aws, ImdsV2.REQUIRED, ServerLimits.defaults(), Duration.ofMillis(500),
                InetAddress.ofLiteral(f.bind()), tokenClock);
        createPod("sdk", "reader", f.pod());
        record Flow(String source, String ttl) {
        }
        List<Flow> flows = List.of(new Flow("Go v2 feature/ec2/imds token_provider.go defaultTokenTTL", "300"),
                new Flow("Go v1 aws/ec2metadata/service.go defaultTTL", "21600"),
                new Flow("botocore utils.py _TOKEN_TTL", "21600"),
                new Flow("JS @smithy/credential-provider-imds fromInstanceMetadata.ts getMetadataToken", "21600"));
        Stream<DynamicTest> tokenFlows = flows.stream().map(flow -> DynamicTest.dynamicTest(
                "IMDSv2 required · " + flow.source() + ": TTL " + flow.ttl() + " echoed, then listing and document on both paths", () -> {
                    Answer token = put(f, flow.ttl());
                    assertEquals(200, token.status(), token.body());
                    assertEquals(flow.ttl(), token.header("X-aws-ec2-metadata-token-ttl-seconds"));
                    for (String base : new String[] {LEGACY, EXTENDED}) {
                        Answer listing = get(f, base, token.body());
                        assertEquals(200, listing.status(), base + ": " + listing.body());
                        assertEquals("reader", listing.body());
                        Answer doc = get(f, base + listing.body(), token.body());
                        assertEquals(200, doc.status(), doc.body());
                        assertEquals("Success", JSON.readTree(doc.body()).get("Code").asText());
                    }
                }));
        Stream<DynamicTest> v1 = Stream.of(DynamicTest.dynamicTest(
                "IMDSv2 required · Go v2 token_provider.go, JS (a 401 makes them fetch a token): a request without a token is 401", () -> {
                    for (String path : new String[] {LEGACY, LEGACY + "reader", EXTENDED, EXTENDED + "reader"}) {
                        assertEquals(401, get(f, path, null).status(), path);
                    }
                }));
        return Stream.concat(tokenFlows, v1);
    }

    private Stream<DynamicTest> contract(Family f) throws Exception {
        stack = new ServerStack(aws, ImdsV2.OPTIONAL, ServerLimits.defaults(), Duration.ofMillis(500),
                InetAddress.ofLiteral(f.bind()), tokenClock);
        createPod("sdk", "reader", f.pod());
        return cases().stream().map(c -> DynamicTest.dynamicTest(f.name() + " · " + c.source() + ": " + c.fact(), () -> c.check().run(f)));
    }

    private List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        // The token PUT.
        cases.add(new Case("Go v2 feature/ec2/imds/api_op_GetToken.go (strconv.ParseInt of the response's TTL header), token_provider.go defaultTokenTTL 5m",
                "PUT with TTL 300: 200, the TTL echoed", f -> {
                    Answer a = put(f, "300");
                    assertEquals(200, a.status(), a.body());
                    assertEquals("300", a.header("X-aws-ec2-metadata-token-ttl-seconds"));
                    assertFalse(a.body().isBlank());
                }));
        cases.add(new Case("Go v1 aws/ec2metadata/service.go (unmarshalTokenHandler, defaultTTL 21600s); botocore utils.py _TOKEN_TTL; JS fromInstanceMetadata.ts getMetadataToken",
                "PUT with TTL 21600: 200, the TTL echoed, the token alone in the body", f -> {
                    Answer a = put(f, "21600");
                    assertEquals(200, a.status(), a.body());
                    assertEquals("21600", a.header("X-aws-ec2-metadata-token-ttl-seconds"));
                    assertEquals(a.body().strip(), a.body(), "the token is used verbatim as a header: no whitespace");
                }));
        cases.add(new Case("botocore utils.py IMDSFetcher._fetch_metadata_token (400 raises BadIMDSRequestError); Go v2 token_provider.go (400 is terminal); JS (throws on 400)",
                "a missing, zero, negative, non-numeric or over-21600 TTL: 400", f -> {
                    for (String ttl : new String[] {null, "", "0", "-1", "abc", "1.5", "21601", "99999999999"}) {
                        Answer a = put(f, ttl);
                        assertEquals(400, a.status(), "TTL " + ttl + ": " + a.body());
                        assertNull(a.header("X-aws-ec2-metadata-token-ttl-seconds"), "no TTL on a refusal");
                    }
                }));
        cases.add(new Case("botocore utils.py (403/404/405 fall back to IMDSv1); Go v2 token_provider.go (403/404/405 disable tokens for good)",
                "a good PUT is never 403, 404 or 405", f -> {
                    for (String ttl : new String[] {"1", "60", "300", "21600"}) {
                        Answer a = put(f, ttl);
                        assertEquals(200, a.status(), "TTL " + ttl + ": " + a.body());
                    }
                }));
        cases.add(new Case("Go v2 token_provider.go HandleDeserialize (401 re-enables and refetches the token); JS fromInstanceMetadata.ts (401 refetches)",
                "an unknown token: 401", f -> {
                    assertEquals(401, get(f, LEGACY, "1796292300.nobody.AAAA").status());
                    assertEquals(401, get(f, LEGACY + "reader", "not-a-token").status());
                }));
        cases.add(new Case("Go v1 aws/ec2metadata/token_provider.go (a 401 on a GET drops the token and refetches)",
                "an expired token: 401, a fresh one works", f -> {
                    String token = put(f, "60").body();
                    assertEquals(200, get(f, LEGACY, token).status());
                    tokenClock.advance(Duration.ofSeconds(61));
                    assertEquals(401, get(f, LEGACY, token).status(), "expired");
                    assertEquals(200, get(f, LEGACY, put(f, "60").body()).status(), "a new token is good");
                }));
        // The listing.
        cases.add(new Case("botocore utils.py InstanceMetadataFetcher._get_iam_role (the whole body is the role name); kube2iam server_test.go (body \"my-role\")",
                "the listing is the role name, no newline, with or without token", f -> {
                    String token = put(f, "300").body();
                    for (Optional<String> t : List.of(Optional.<String>empty(), Optional.of(token))) {
                        Answer a = get(f, LEGACY, t.orElse(null));
                        assertEquals(200, a.status(), a.body());
                        assertEquals("reader", a.body());
                    }
                }));
        cases.add(new Case("Java v2 InstanceProfileCredentialsProvider (trim, first line); Rust asks without the slash",
                "the listing without its trailing slash: 200 and the same body, not IMDS's 301", f -> {
                    Answer a = get(f, LEGACY.substring(0, LEGACY.length() - 1), null);
                    assertEquals(200, a.status());
                    assertEquals("reader", a.body());
                }));
        // The document.
        cases.add(new Case("Go v1 ec2_role_provider.go (Code != \"Success\" is an error); Go v2 ec2rolecreds/provider.go (EqualFold Success); botocore _REQUIRED_CREDENTIAL_FIELDS",
                "the document: Code Success, Type AWS-HMAC, the four credential fields", f -> {
                    JsonNode doc = document(f, LEGACY + "reader");
                    assertEquals("Success", doc.get("Code").asText());
                    assertEquals("AWS-HMAC", doc.get("Type").asText());
                    for (String field : new String[] {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "LastUpdated"}) {
                        assertTrue(doc.hasNonNull(field) && !doc.get(field).asText().isEmpty(), field);
                    }
                    assertFalse(doc.get("AccessKeyId").asText().equals(FakeImds.NODE_ACCESS_KEY), "never the node's credentials");
                }));
        cases.add(new Case("botocore utils.py InstanceMetadataFetcher._evaluate_expiration (strptime %Y-%m-%dT%H:%M:%SZ); Go v2 time.Time (RFC 3339)",
                "Expiration and LastUpdated as YYYY-MM-DDTHH:MM:SSZ, Expiration after LastUpdated", f -> {
                    JsonNode doc = document(f, LEGACY + "reader");
                    String expiration = doc.get("Expiration").asText();
                    String updated = doc.get("LastUpdated").asText();
                    assertTrue(IMDS_TIME.matcher(expiration).matches(), expiration);
                    assertTrue(IMDS_TIME.matcher(updated).matches(), updated);
                    assertTrue(Instant.parse(expiration).isAfter(Instant.parse(updated)));
                    assertEquals(expiration, DateTimeFormatter.ISO_INSTANT.format(Instant.parse(expiration)), "no fraction");
                }));
        cases.add(new Case("botocore credentials.py (advisory refresh 15 min, mandatory 10 min before Expiration); Java v2 (refreshes under 15 min)",
                "served credentials have more than 15 minutes left", f -> {
                    Instant expiration = Instant.parse(document(f, LEGACY + "reader").get("Expiration").asText());
                    Duration left = Duration.between(Instant.now(), expiration);
                    assertTrue(left.compareTo(Duration.ofMinutes(15)) > 0, "only " + left + " left");
                }));
        cases.add(new Case("Go v2 ec2rolecreds/provider.go requestCred (path.Join of the listed name)",
                "the role asked for with a trailing slash is the same role", f -> {
                    assertEquals(200, get(f, LEGACY + "reader/", null).status());
                }));
        // Roles that are not the pod's, and a role change.
        cases.add(new Case("kube2iam e2e TestWrongRoleRejected (another role: 403); Java v2 InstanceProfileCredentialsProviderExtendedApiTest"
                + " resolveCredentials_withUnstableProfile_ReturnsCredentials (extended: lists again only after a 404)",
                "a role that is not the pod's: 403 on the legacy path, 404 on the extended one, never the node's, nothing forwarded", f -> {
                    aws.imds().clearReads();
                    for (String base : new String[] {LEGACY, EXTENDED}) {
                        for (String other : new String[] {"admin", "node-role", ServerStack.BASE + "admin"}) {
                            Answer a = get(f, base + other, null);
                            assertEquals(base == LEGACY ? 403 : 404, a.status(), base + other + ": " + a.body());
                            assertFalse(a.body().contains(FakeImds.NODE_ACCESS_KEY));
                        }
                    }
                    assertEquals(List.of(), aws.imds().reads(), "asked the node's IMDS");
                }));
        // The extended credentials API.
        cases.add(new Case("Java v2 InstanceProfileCredentialsProvider (aws-sdk-java-v2 PR 6176: legacy only after a 404); JS fromInstanceMetadata.ts getImdsProfile",
                "the extended listing, with and without slash: 200 and the role, never 403/404", f -> {
                    for (String path : new String[] {EXTENDED, EXTENDED.substring(0, EXTENDED.length() - 1)}) {
                        Answer a = get(f, path, put(f, "300").body());
                        assertEquals(200, a.status(), path + ": " + a.body());
                        assertEquals("reader", a.body());
                    }
                }));
        cases.add(new Case("Java v2 InstanceProfileCredentialsProvider (extended document: AccountId); JS fromInstanceMetadata.ts getCredentialsFromPath",
                "the extended document: the legacy fields plus AccountId from the role ARN", f -> {
                    JsonNode doc = document(f, EXTENDED + "reader");
                    assertEquals(FakeAws.ACCOUNT, doc.get("AccountId").asText());
                    assertEquals("Success", doc.get("Code").asText());
                    assertTrue(IMDS_TIME.matcher(doc.get("Expiration").asText()).matches());
                    assertFalse(document(f, LEGACY + "reader").has("AccountId"), "the legacy document keeps IMDS's shape");
                }));
        cases.add(new Case("Java v2 2.59.1 InstanceProfileCredentialsProvider getCredentialHeaders (X-amzn-extended: 1 on the legacy path)",
                "the legacy path with X-amzn-extended: 1 gives the extended document; another role stays 403, never the node's", f -> {
                    String token = put(f, "300").body();
                    Answer a = exchange(f, "GET " + LEGACY + "reader HTTP/1.1\r\nHost: " + f.host() + "\r\nX-aws-ec2-metadata-token: " + token
                            + "\r\nX-amzn-extended: 1\r\nConnection: close\r\n\r\n");
                    assertEquals(200, a.status(), a.body());
                    JsonNode doc = JSON.readTree(a.body());
                    assertEquals(FakeAws.ACCOUNT, doc.get("AccountId").asText());
                    assertEquals("Success", doc.get("Code").asText());
                    Answer other = exchange(f, "GET " + LEGACY + "admin HTTP/1.1\r\nHost: " + f.host() + "\r\nX-aws-ec2-metadata-token: " + token
                            + "\r\nX-amzn-extended: 1\r\nConnection: close\r\n\r\n");
                    assertEquals(403, other.status(), other.body());
                    assertFalse(other.body().contains(FakeImds.NODE_ACCESS_KEY));
                }));
        // Answers within the SDKs' timeout, cold.
        cases.add(new Case("botocore utils.py DEFAULT_METADATA_SERVICE_TIMEOUT 1 s, one attempt; Go v1 service.go Timeout 1 s; JS timeout 1000 ms",
                "a new pod's first token, listing and credentials come from memory, each within 1 s", f -> {
                    String pod = f == IPV6 ? f.pod() : "127.0.0.32";
                    if (f == IPV6) {
                        replaceRole("sdk", "fresh-" + f.name().toLowerCase());
                    } else {
                        createPod("cold", "fresh-" + f.name().toLowerCase(), pod);
                    }
                    String role = "fresh-" + f.name().toLowerCase();
                    eventually("the new pod's role is prefetched", () -> !aws.sts().calls(ServerStack.BASE + role).isEmpty()
                            && stack.cache.stats().stsCalls() == aws.sts().assumeRoleCalls());
                    int calls = aws.sts().assumeRoleCalls();
                    Family at = new Family(f.name(), f.bind(), pod, f.host());
                    long start = System.nanoTime();
                    Answer token = put(at, "21600");
                    Answer listing = get(at, LEGACY, token.body());
                    Answer doc = get(at, LEGACY + role, token.body());
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    assertEquals(List.of(200, 200, 200), List.of(token.status(), listing.status(), doc.status()), doc.body());
                    assertEquals(role, listing.body());
                    assertEquals(calls, aws.sts().assumeRoleCalls(), "no STS call while the pod waited");
                    assertTrue(millis < 1000, "three answers took " + millis + " ms: past botocore's 1 s timeout");
                }));
        cases.add(new Case("botocore utils.py and Go v2/v1 ec2rolecreds (list on every refresh); Java v2 and JS (re-list on a 404 only)",
                "a role change: the listings name the new role at once; the old one is 403 (legacy, kube2iam) or 404 (extended), the new one 200", f -> {
                    String pod = f == IPV6 ? f.pod() : "127.0.0.33";
                    if (f != IPV6) {
                        createPod("change", "before", pod);
                    }
                    Family at = new Family(f.name(), f.bind(), pod, f.host());
                    String before = get(at, LEGACY, null).body();
                    String namespace = f == IPV6 ? "sdk" : "change";
                    replaceRole(namespace, "after");
                    eventually("the listing names the new role", () -> "after".equals(getQuietly(at, LEGACY)));
                    assertEquals(403, get(at, LEGACY + before, null).status(), "the old role, asked by an SDK that cached its name");
                    assertEquals(404, get(at, EXTENDED + before, null).status(), "a 404 makes the Java SDK list again");
                    assertEquals("after", get(at, EXTENDED, null).body());
                    JsonNode doc = document(at, LEGACY + "after");
                    assertTrue(doc.get("Token").asText().contains("after"), "credentials of the new role");
                }));
        return cases;
    }

    // --- requests, byte for byte ---

    private Answer put(Family f, String ttl) throws Exception {
        return exchange(f, "PUT /latest/api/token HTTP/1.1\r\nHost: " + f.host() + "\r\n"
                + (ttl == null ? "" : "X-aws-ec2-metadata-token-ttl-seconds: " + ttl + "\r\n")
                + "Content-Length: 0\r\nConnection: close\r\n\r\n");
    }

    private Answer get(Family f, String path, String token) throws Exception {
        return exchange(f, "GET " + path + " HTTP/1.1\r\nHost: " + f.host() + "\r\n"
                + (token == null ? "" : "X-aws-ec2-metadata-token: " + token + "\r\n") + "Connection: close\r\n\r\n");
    }

    private String getQuietly(Family f, String path) {
        try {
            return get(f, path, null).body();
        } catch (Exception e) {
            return null;
        }
    }

    private JsonNode document(Family f, String path) throws Exception {
        Answer a = get(f, path, put(f, "300").body());
        assertEquals(200, a.status(), path + ": " + a.body());
        return JSON.readTree(a.body());
    }

    private Answer exchange(Family f, String request) throws Exception {
        ServerStack.Reply reply = stack.raw(f.pod(), request);
        String text = reply.text();
        int end = text.indexOf("\r\n\r\n");
        Map<String, String> headers = new HashMap<>();
        for (String line : text.substring(0, end).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).strip().toLowerCase(), line.substring(colon + 1).strip());
            }
        }
        return new Answer(reply.status(), headers, text.substring(end + 4));
    }

    // --- pods ---

    private void createPod(String namespace, String role, String ip) throws InterruptedException {
        aws.api().client().pods().inNamespace(namespace).resource(Pods.withRole(namespace, "pod-" + role, "node-a", role, ip)).create();
        eventually("the index knows " + ip, () -> stack.index.pods().stream().anyMatch(p -> p.ips().contains(ip)));
    }

    /** Changes the role annotation of the namespace's one pod. */
    private void replaceRole(String namespace, String role) {
        var pods = aws.api().client().pods().inNamespace(namespace);
        String name = pods.list().getItems().getFirst().getMetadata().getName();
        pods.withName(name).edit(p -> {
            p.getMetadata().getAnnotations().put("iam.amazonaws.com/role", role);
            return p;
        });
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
