package io.iamlet.control.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local STS for tests: answers AssumeRole and GetCallerIdentity with the XML real STS sends, names the
 * caller by the access key of the SigV4 Authorization header, and can deny a role, hold calls at a gate,
 * or go down on command. Binds to the given address only (loopback unless a test namespace says otherwise).
 */
public final class FakeSts implements AutoCloseable {
    private static final Pattern ACCESS_KEY = Pattern.compile("Credential=([A-Z0-9]+)/");

    /**
     * One AssumeRole call as received.
     *
     * @param callerAccessKey the access key of the SigV4 Authorization header: whose credentials signed the call
     * @param tags            the Tags sent, in order
     * @param transitiveKeys  the TransitiveTagKeys sent
     * @param policy          the inline session Policy sent, or null
     * @param inheritedTags   the transitive tags of the calling session (role chaining), which the new session has too
     */
    public record Call(String callerAccessKey, String roleArn, String sessionName, String externalId, int durationSeconds,
                       Map<String, String> tags, List<String> transitiveKeys, String policy, Map<String, String> inheritedTags) {
        /** The tags the new session has: inherited and sent. */
        public Map<String, String> sessionTags() {
            Map<String, String> all = new LinkedHashMap<>(inheritedTags);
            all.putAll(tags);
            return all;
        }
    }

    private final HttpServer server;
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger assumeRoleCalls = new AtomicInteger();
    private final AtomicInteger issued = new AtomicInteger();
    private final Set<String> deniedRoles = ConcurrentHashMap.newKeySet();
    /** Roles whose trust policy allows sts:AssumeRole but not sts:TagSession. */
    private final Set<String> noTagSession = ConcurrentHashMap.newKeySet();
    private final Map<String, Duration> roleLifetimes = new ConcurrentHashMap<>();
    private final AtomicInteger packedLimit = new AtomicInteger(2048);
    /** Access key of each issued session to its transitive tags, which sessions assumed with it inherit. */
    private final Map<String, Map<String, String>> transitiveBySession = new ConcurrentHashMap<>();
    /** Access keys this STS issued: a call signed with one is role chaining, limited to one hour. */
    private final Set<String> issuedKeys = ConcurrentHashMap.newKeySet();
    private final AtomicReference<Duration> lifetime = new AtomicReference<>();
    private final AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(0));
    private final AtomicInteger down = new AtomicInteger();
    /** Access key to the identity GetCallerIdentity names: every key this STS issued, plus any a test registers. */
    private final Map<String, Identity> identities = new ConcurrentHashMap<>();

    private record Identity(String arn, String userId, String account) {
    }

    private FakeSts(HttpServer server) {
        this.server = server;
    }

    public static FakeSts start() throws IOException {
        return start(InetAddress.getLoopbackAddress(), 0);
    }

    public static FakeSts start(InetAddress address, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 64);
        FakeSts sts = new FakeSts(server);
        server.createContext("/", sts::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return sts;
    }

    public URI endpoint() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
    }

    /** Credentials expire this long after issue; by default the duration the caller asked for. */
    public void lifetime(Duration duration) {
        lifetime.set(duration);
    }

    public void deny(String roleArn) {
        deniedRoles.add(roleArn);
    }

    /** The role's trust policy lacks sts:TagSession: a call that sends or inherits session tags is refused, as real STS does. */
    public void refuseTagSession(String roleArn) {
        noTagSession.add(roleArn);
    }

    /**
     * Real STS packs policy and tags into a compressed form with a limit of its own that a caller cannot compute; here
     * a policy's length plus 20 per tag above {@code chars} stands for it (PackedPolicyTooLarge).
     */
    public void packedLimit(int chars) {
        packedLimit.set(chars);
    }

    /** Credentials of this role expire this long after issue, whatever was asked. */
    public void lifetime(String roleArn, Duration duration) {
        roleLifetimes.put(roleArn, duration);
    }

    /** The AssumeRole calls for one role, in order. */
    public List<Call> calls(String roleArn) {
        return calls.stream().filter(c -> c.roleArn().equals(roleArn)).toList();
    }

    /** While down, every call gets 503 ServiceUnavailable. */
    public void down(boolean isDown) {
        down.set(isDown ? 1 : 0);
    }

    /** Holds every call until {@link #open()}; returns nothing so tests read as "close the gate". */
    public void closeGate() {
        gate.set(new CountDownLatch(1));
    }

    public void open() {
        gate.get().countDown();
    }

    /** Lets GetCallerIdentity name the owner of credentials issued elsewhere (the node's, from IMDS). */
    public void knownCaller(String accessKey, String account, String roleName, String sessionName) {
        identities.put(accessKey, new Identity("arn:aws:sts::%s:assumed-role/%s/%s".formatted(account, roleName, sessionName),
                "AROAKNOWN:" + sessionName, account));
    }

    public int assumeRoleCalls() {
        return assumeRoleCalls.get();
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, String> form = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            if (exchange.getRequestURI().getRawQuery() != null) {
                form.putAll(form(exchange.getRequestURI().getRawQuery()));
            }
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            Matcher m = auth == null ? null : ACCESS_KEY.matcher(auth);
            if (m == null || !m.find()) {
                reply(exchange, 403, error("Sender", "MissingAuthenticationToken", "Request is missing Authentication Token"));
                return;
            }
            String caller = m.group(1);
            String action = form.getOrDefault("Action", "");
            if (action.equals("AssumeRole")) {
                assumeRoleCalls.incrementAndGet();
            }
            gate.get().await(30, TimeUnit.SECONDS);
            if (down.get() == 1) {
                reply(exchange, 503, error("Receiver", "ServiceUnavailable", "Service is unavailable"));
                return;
            }
            switch (action) {
                case "AssumeRole" -> assumeRole(exchange, caller, form);
                case "GetCallerIdentity" -> {
                    Identity who = identities.getOrDefault(caller, new Identity(
                            "arn:aws:sts::123456789012:assumed-role/caller/" + caller, "AROACALLER:" + caller, "123456789012"));
                    reply(exchange, 200, """
                            <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                              <GetCallerIdentityResult>
                                <Arn>%s</Arn>
                                <UserId>%s</UserId>
                                <Account>%s</Account>
                              </GetCallerIdentityResult>
                              <ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
                            </GetCallerIdentityResponse>
                            """.formatted(who.arn(), who.userId(), who.account(), UUID.randomUUID()));
                }
                default -> reply(exchange, 400, error("Sender", "InvalidAction", "Could not find operation " + action));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void assumeRole(HttpExchange exchange, String caller, Map<String, String> form) throws IOException {
        String role = form.getOrDefault("RoleArn", "");
        String session = form.getOrDefault("RoleSessionName", "");
        int duration = Integer.parseInt(form.getOrDefault("DurationSeconds", "3600"));
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = 1; form.containsKey("Tags.member." + i + ".Key"); i++) {
            tags.put(form.get("Tags.member." + i + ".Key"), form.getOrDefault("Tags.member." + i + ".Value", ""));
        }
        List<String> transitive = new ArrayList<>();
        for (int i = 1; form.containsKey("TransitiveTagKeys.member." + i); i++) {
            transitive.add(form.get("TransitiveTagKeys.member." + i));
        }
        Map<String, String> inherited = transitiveBySession.getOrDefault(caller, Map.of());
        calls.add(new Call(caller, role, session, form.get("ExternalId"), duration,
                Collections.unmodifiableMap(tags), List.copyOf(transitive),
                form.get("Policy"), inherited));
        if (deniedRoles.contains(role)) {
            reply(exchange, 403, error("Sender", "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/node/" + caller
                    + " is not authorized to perform: sts:AssumeRole on resource: " + role));
            return;
        }
        // What real STS checks, as its documentation states it (STS API reference, AssumeRole).
        if (issuedKeys.contains(caller) && duration > 3600) {
            reply(exchange, 400, error("Sender", "ValidationError",
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."));
            return;
        }
        for (String key : tags.keySet()) {
            if (inherited.keySet().stream().anyMatch(key::equalsIgnoreCase)) {
                reply(exchange, 400, error("Sender", "InvalidParameterValue",
                        "The session tag " + key + " is already set as a transitive tag by the calling session"));
                return;
            }
        }
        if (!transitive.stream().allMatch(tags::containsKey)) {
            reply(exchange, 400, error("Sender", "InvalidParameterValue", "Transitive tag keys must be among the session tags"));
            return;
        }
        if (tags.size() > 50) {
            reply(exchange, 400, error("Sender", "InvalidParameterValue", "Too many session tags (at most 50)"));
            return;
        }
        if (form.get("Policy") != null && form.get("Policy").length() + 20 * tags.size() > packedLimit.get()) {
            reply(exchange, 400, error("Sender", "PackedPolicyTooLarge", "Packed policy consumes 112% of allotted space, please use smaller policy."));
            return;
        }
        if ((!tags.isEmpty() || !inherited.isEmpty()) && noTagSession.contains(role)) {
            reply(exchange, 403, error("Sender", "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/node/" + caller
                    + " is not authorized to perform: sts:TagSession on resource: " + role));
            return;
        }
        Map<String, String> nowTransitive = new LinkedHashMap<>(inherited);
        transitive.forEach(k -> nowTransitive.put(k, tags.get(k)));
        if (roleLifetimes.containsKey(role)) {
            duration = (int) roleLifetimes.get(role).toSeconds();
        }
        Duration life = lifetime.get() != null && !roleLifetimes.containsKey(role) ? lifetime.get() : Duration.ofSeconds(duration);
        Instant expiration = Instant.now().plus(life).truncatedTo(ChronoUnit.SECONDS);
        int n = issued.incrementAndGet();
        issuedKeys.add("ASIAFAKE%08d".formatted(n));
        transitiveBySession.put("ASIAFAKE%08d".formatted(n), Map.copyOf(nowTransitive));
        String roleName = role.substring(role.lastIndexOf('/') + 1);
        String account = role.split(":").length > 4 ? role.split(":")[4] : "123456789012";
        identities.put("ASIAFAKE%08d".formatted(n), new Identity("arn:aws:sts::%s:assumed-role/%s/%s".formatted(account, roleName, session),
                "AROAFAKE:" + session, account));
        reply(exchange, 200, """
                <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <AssumeRoleResult>
                    <Credentials>
                      <AccessKeyId>ASIAFAKE%08d</AccessKeyId>
                      <SecretAccessKey>secret-%s-%d</SecretAccessKey>
                      <SessionToken>token-%s-%s-%d</SessionToken>
                      <Expiration>%s</Expiration>
                    </Credentials>
                    <AssumedRoleUser>
                      <AssumedRoleId>AROAFAKE:%s</AssumedRoleId>
                      <Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn>
                    </AssumedRoleUser>
                  </AssumeRoleResult>
                  <ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
                </AssumeRoleResponse>
                """.formatted(n, roleName, n, roleName, session, n, DateTimeFormatter.ISO_INSTANT.format(expiration),
                session, account, roleName, session, UUID.randomUUID()));
    }

    private static String error(String type, String code, String message) {
        return """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>
                  <RequestId>%s</RequestId>
                </ErrorResponse>
                """.formatted(type, code, message, UUID.randomUUID());
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/xml");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static Map<String, String> form(String body) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Override
    public void close() {
        open();
        server.stop(0);
    }
}
