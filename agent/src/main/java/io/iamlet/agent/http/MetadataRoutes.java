package io.iamlet.agent.http;

import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.metrics.ServerMetrics;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodLookup;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.iamlet.control.pods.PodIndex;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The metadata API pods see on the app port. Role listing and credentials are answered from the broker;
 * IMDSv2 tokens are issued here; everything else goes through the proxy's deny list. Every response
 * carries {@code Server: EC2ws} like real IMDS, and every request is logged once.
 */
public final class MetadataRoutes {
    static final HeaderName TOKEN = HeaderNames.create("X-aws-ec2-metadata-token");
    static final HeaderName TOKEN_TTL = HeaderNames.create("X-aws-ec2-metadata-token-ttl-seconds");
    static final HeaderName FORWARDED_FOR = HeaderNames.create("X-Forwarded-For");
    static final HeaderName EXTENDED_HEADER = HeaderNames.create("X-amzn-extended");
    // security-credentials-extended is the extended credentials API (the document adds AccountId). SDKs that use it
    // fall back to the legacy path only on a 404, so it is answered here for the pod's own role, never forwarded.
    private static final Pattern LISTING = Pattern.compile("/([^/]+)/meta-data/iam/security-credentials(-extended)?/?");
    // The role may contain '/': full ARNs, cross-account ARNs and path roles, as kube2iam's {role:.*} route.
    private static final Pattern CREDENTIALS = Pattern.compile("/([^/]+)/meta-data/iam/security-credentials(-extended)?/(.+?)/?");
    private static final Pattern VERSIONED = Pattern.compile("/([^/]+)/(.*)");

    /** Whether pods must use IMDSv2 (--imds-v2). */
    public enum ImdsV2 { OPTIONAL, REQUIRED }

    private final CredentialBroker broker;
    private final MetadataTokens tokens;
    private final MetadataProxy proxy;
    private final ImdsV2 imdsV2;
    private final RequestLog log;
    private final ServerMetrics metrics;
    private final CredentialDocument.Rendered documents = new CredentialDocument.Rendered(10_000, false);
    private final CredentialDocument.Rendered extendedDocuments = new CredentialDocument.Rendered(10_000, true);
    private final List<Consumer<HttpRouting.Builder>> ahead = new CopyOnWriteArrayList<>();
    private volatile KernelIdentity kernel;

    public MetadataRoutes(CredentialBroker broker, MetadataTokens tokens, MetadataProxy proxy, ImdsV2 imdsV2, RequestLog log,
                          ServerMetrics metrics) {
        this.broker = broker;
        this.tokens = tokens;
        this.proxy = proxy;
        this.imdsV2 = imdsV2;
        this.log = log;
        this.metrics = metrics;
    }

    /** Routes answered ahead of the metadata API's catch-all, such as {@link ContainerCredentialsRoute}. */
    public MetadataRoutes withRoutesAhead(Consumer<HttpRouting.Builder> routes) {
        ahead.add(routes);
        return this;
    }

    /** With the eBPF backend: the caller is the pod the kernel names by the connection's cgroup, when it names one. */
    public MetadataRoutes withKernelIdentity(KernelIdentity identity) {
        this.kernel = identity;
        return this;
    }

    /** The kernel's word on who opened this request's connection; empty without the eBPF backend or without an entry. */
    static Optional<io.iamlet.control.pods.PodCgroups.Owner> kernelCaller(KernelIdentity identity, ServerRequest req) {
        if (identity != null && req.remotePeer().address() instanceof InetSocketAddress peer) {
            return identity.of(peer);
        }
        return Optional.empty();
    }

    public void register(HttpRouting.Builder routing) {
        ahead.forEach(r -> r.accept(routing));
        routing.any(this::handle);
    }

    /** What one request came to: status, body, and what the log line says about the pod. */
    private record Outcome(int status, String contentType, byte[] body, Optional<PodInfo> pod, String role, String message,
                           Map<HeaderName, String> headers, String route) {
        static Outcome text(int status, String body, String route) {
            return new Outcome(status, "text/plain", body.getBytes(StandardCharsets.UTF_8), Optional.empty(), null, null, Map.of(), route);
        }

        Outcome about(Optional<PodInfo> p, String r, String m) {
            return new Outcome(status, contentType, body, p, r, m, headers, route);
        }
    }

    private void handle(ServerRequest req, ServerResponse res) {
        long start = System.nanoTime();
        String path = originForm(req.path().rawPath());
        String caller = caller(req);
        Outcome outcome;
        try {
            outcome = answer(req, path, caller);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = Outcome.text(503, "interrupted", "error");
        } catch (Exception | Error e) {
            // Not the proxy's (its failures are answered in answer()): a fault of ours, labelled as one.
            outcome = Outcome.text(500, "internal error: " + describe(e), "error").about(Optional.empty(), null, e.toString());
        }
        res.header(HeaderNames.SERVER, "EC2ws");
        res.header(HeaderNames.CONTENT_TYPE, outcome.contentType());
        outcome.headers().forEach(res::header);
        if (outcome.status() == 503 && !outcome.headers().containsKey(HeaderNames.RETRY_AFTER)) {
            // Unavailable for now (the API read budget, an API or STS outage): when to ask again (RFC 9110 10.2.3).
            res.header(HeaderNames.RETRY_AFTER, "1");
        }
        res.status(Status.create(outcome.status()));
        if (req.prologue().method() == Method.HEAD) {
            // The head of the GET answer without its body (RFC 9110, 9.3.2): a body here would be read by a
            // keep-alive client as the start of its next answer.
            res.header(HeaderNames.CONTENT_LENGTH, String.valueOf(outcome.body().length));
            res.send();
        } else {
            res.send(outcome.body());
        }
        double millis = (System.nanoTime() - start) / 1e6;
        metrics.request(outcome.route(), req.prologue().method().text(), outcome.status(), millis);
        if (outcome.status() == 404 && outcome.pod().isEmpty() && ("role".equals(outcome.route()) || "credentials".equals(outcome.route()))) {
            metrics.podNotInPodCache();
        }
        log.log(new RequestLog.Entry(req.prologue().method().text(), path, caller, outcome.status(), millis,
                outcome.pod().map(PodInfo::namespace).orElse(null), outcome.role(), outcome.message()));
    }

    /**
     * A request line in absolute form ({@code GET http://169.254.169.254/latest/... HTTP/1.1}), as clients behind an
     * http_proxy send it (kube2iam's README workaround), names the same resource as its path: RFC 9112, 3.2.2.
     */
    static String originForm(String rawPath) {
        if (rawPath.regionMatches(true, 0, "http://", 0, 7)) {
            int slash = rawPath.indexOf('/', 7);
            return slash < 0 ? "/" : rawPath.substring(slash);
        }
        return rawPath;
    }

    /** An exception in words: some (timeouts, refused connections) carry no message at all. */
    static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    private static String caller(ServerRequest req) {
        if (req.remotePeer().address() instanceof InetSocketAddress a) {
            return PodIndex.normalize(a.getAddress().getHostAddress());
        }
        return String.valueOf(req.remotePeer().address());
    }

    private Outcome answer(ServerRequest req, String path, String caller) throws Exception {
        Optional<io.iamlet.control.pods.PodCgroups.Owner> byKernel = kernelCaller(kernel, req);
        Optional<String> notCanonical = MetadataProxy.notCanonical(path, req.query().rawValue());
        if (notCanonical.isPresent()) {
            return Outcome.text(400, "Bad Request: " + notCanonical.get(), "invalid").about(Optional.empty(), null,
                    "refused path: " + notCanonical.get());
        }
        Method method = req.prologue().method();
        if (method == Method.PUT && path.equals("/latest/api/token")) {
            String ttl = req.headers().first(TOKEN_TTL).orElse(null);
            boolean forwarded = req.headers().contains(FORWARDED_FOR);
            Optional<MetadataTokens.Issue.Refused> bad = tokens.refusal(ttl, forwarded);
            if (bad.isPresent()) {
                return Outcome.text(bad.get().httpStatus(), bad.get().reason(), "token").about(Optional.empty(), null, bad.get().reason());
            }
            // The token is bound to the pod the API server says owns the address now, not to the index's view.
            PodLookup owner = broker.owner(caller, byKernel);
            if (!(owner instanceof PodLookup.Found(PodInfo pod))) {
                CredentialBroker.Refused refused = CredentialBroker.refused(owner);
                return Outcome.text(refused.httpStatus(), refused.reason(), "token").about(Optional.empty(), null, refused.reason());
            }
            return switch (tokens.issue(caller, pod.uid(), ttl, forwarded)) {
                // The TTL echoed as IMDS does: the Go SDKs (v2 feature/ec2/imds api_op_GetToken.go, v1 aws/ec2metadata
                // service.go) parse it from the answer and refuse a token without it.
                case MetadataTokens.Issue.Issued issued -> new Outcome(200, "text/plain", issued.token().getBytes(StandardCharsets.UTF_8),
                        Optional.empty(), null, null, Map.of(TOKEN_TTL, String.valueOf(issued.ttlSeconds())), "token");
                case MetadataTokens.Issue.Refused refused -> Outcome.text(refused.httpStatus(), refused.reason(), "token")
                        .about(Optional.of(pod), null, refused.reason());
            };
        }
        if (method != Method.GET && method != Method.HEAD) {
            return Outcome.text(405, "Method Not Allowed", "invalid");
        }
        Optional<String> token = req.headers().first(TOKEN);
        Optional<String> boundUid = Optional.empty();
        if (token.isPresent()) {
            switch (tokens.check(token.get(), caller)) {
                case MetadataTokens.Check.Invalid invalid -> {
                    return Outcome.text(401, "Unauthorized", "token").about(Optional.empty(), null, invalid.reason());
                }
                case MetadataTokens.Check.Valid valid -> boundUid = Optional.of(valid.podUid());
            }
        } else if (imdsV2 == ImdsV2.REQUIRED) {
            return Outcome.text(401, "Unauthorized", "token").about(Optional.empty(), null, "IMDSv2 is required: request a token first");
        }
        Matcher listing = LISTING.matcher(path);
        if (listing.matches()) {
            return role(broker.roleFor(caller, boundUid, byKernel));
        }
        Matcher credentials = CREDENTIALS.matcher(path);
        if (credentials.matches()) {
            boolean extendedPath = credentials.group(2) != null;
            // The Java SDK v2 (2.59.1) asks the legacy path with this header for the extended document (AccountId)
            // (InstanceProfileCredentialsProvider getCredentialHeaders, 2.59.1).
            boolean extendedDocument = extendedPath || req.headers().first(EXTENDED_HEADER).map(v -> v.strip().equals("1")).orElse(false);
            return credentials(broker.credentialsFor(caller, credentials.group(3), boundUid, byKernel), extendedPath, extendedDocument);
        }
        Matcher versioned = VERSIONED.matcher(path);
        String rest = versioned.matches() ? versioned.group(2) : "";
        Optional<String> refusal = proxy.refusal(rest);
        if (refusal.isPresent()) {
            return Outcome.text(403, "Forbidden", "denied").about(Optional.empty(), null, refusal.get());
        }
        String query = req.query().rawValue();
        MetadataProxy.Reply reply;
        try {
            reply = proxy.forward(path + (query.isEmpty() ? "" : "?" + query));
        } catch (IOException | RuntimeException e) {
            return Outcome.text(502, "the node's metadata service failed: " + describe(e), "proxy").about(Optional.empty(), null, e.toString());
        }
        return new Outcome(reply.status(), reply.contentType(), reply.body(), Optional.empty(), null, null,
                reply.location().map(l -> Map.of(HeaderNames.LOCATION, l)).orElse(Map.of()), "proxy");
    }

    private static Outcome role(CredentialBroker.Answer answer) {
        return switch (answer) {
            case CredentialBroker.Role r -> Outcome.text(200, r.decision().annotation(), "role")
                    .about(Optional.of(r.pod()), r.decision().arn().text(), null);
            case CredentialBroker.Refused refused -> Outcome.text(refused.httpStatus(), refused.reason(), "role")
                    .about(refused.foundPod(), null, refused.reason());
            case CredentialBroker.Granted g -> throw new AssertionError("a role question got credentials");
        };
    }

    private Outcome credentials(CredentialBroker.Answer answer, boolean extended, boolean extendedDocument) {
        return switch (answer) {
            case CredentialBroker.Granted g -> new Outcome(200, "text/plain",
                    (extendedDocument ? extendedDocuments : documents).bytes(g.credentials(), g.decision().credentialsRole().account()), Optional.of(g.pod()),
                    g.decision().arn().text(), null, Map.of(), "credentials");
            // On the extended path a role that is not the pod's is 404, as IMDS answers an unknown role: the Java SDK v2
            // and JS SDK keep the listed name and list again only after a 404 (aws-sdk-java-v2
            // InstanceProfileCredentialsProviderExtendedApiTest resolveCredentials_withUnstableProfile_ReturnsCredentials),
            // so after a role change a 403 would leave them without credentials. kube2iam never answered this path;
            // the legacy path keeps its 403 (kube2iam e2e TestWrongRoleRejected).
            case CredentialBroker.Refused refused when extended && refused.httpStatus() == 403
                    && refused.reason().startsWith(CredentialBroker.INVALID_ROLE) ->
                    Outcome.text(404, refused.reason(), "credentials").about(refused.foundPod(), null, refused.reason());
            case CredentialBroker.Refused refused -> Outcome.text(refused.httpStatus(), refused.reason(), "credentials")
                    .about(refused.foundPod(), null, refused.reason());
            case CredentialBroker.Role r -> throw new AssertionError("a credentials question got only a role");
        };
    }
}
