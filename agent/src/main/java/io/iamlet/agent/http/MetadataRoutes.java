package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.AcceptedPeer;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.metrics.ServerMetrics;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.iamlet.control.Caller;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.pods.PodCgroups;
import io.iamlet.control.pods.PodInfo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    private final CredentialBroker broker;
    private final MetadataTokens tokens;
    private final MetadataProxy proxy;
    private final ImdsV2 imdsV2;
    private final ServerMetrics metrics;
    private final Exchange exchange;
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
        this.metrics = metrics;
        this.exchange = new Exchange(log, metrics, Map.of(HeaderNames.SERVER, "EC2ws"));
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
    static Optional<PodCgroups.Owner> kernelCaller(KernelIdentity identity, ServerRequest req) {
        if (identity == null) {
            return Optional.empty();
        }
        // Once per connection (the gate's peer keeps the answer), not a bpf(2) call per request.
        if (req.remotePeer() instanceof AcceptedPeer accepted) {
            return accepted.kernelOwner(identity::of);
        }
        return req.remotePeer().address() instanceof InetSocketAddress peer ? identity.of(peer) : Optional.empty();
    }

    public void register(HttpRouting.Builder routing) {
        ahead.forEach(r -> r.accept(routing));
        routing.any(exchange.handler(this::answer, (status, shown, logged) -> Outcome.text(status, shown, "error")
                .about(Optional.empty(), null, logged)));
    }

    private Outcome answer(ServerRequest req, String path, String caller) throws Exception {
        Optional<PodCgroups.Owner> byKernel = kernelCaller(kernel, req);
        Optional<String> notCanonical = MetadataProxy.notCanonical(path, req.query().rawValue());
        if (notCanonical.isPresent()) {
            return Outcome.text(400, "Bad Request: " + notCanonical.get(), "invalid").about(Optional.empty(), null,
                    "refused path: " + notCanonical.get());
        }
        Method method = req.prologue().method();
        if (method == Method.PUT && path.equals("/latest/api/token")) {
            return issueToken(req, caller, byKernel);
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
        return metadata(req, path, new Caller(caller, boundUid, byKernel));
    }

    /** PUT /latest/api/token: an IMDSv2 token bound to the caller's pod. */
    private Outcome issueToken(ServerRequest req, String caller, Optional<PodCgroups.Owner> byKernel) throws InterruptedException {
        String ttl = req.headers().first(TOKEN_TTL).orElse(null);
        boolean forwarded = req.headers().contains(FORWARDED_FOR);
        Optional<MetadataTokens.Issue.Refused> bad = tokens.refusal(ttl, forwarded);
        if (bad.isPresent()) {
            return Outcome.text(bad.get().httpStatus(), bad.get().reason(), "token").about(Optional.empty(), null, bad.get().reason());
        }
        // The token is bound to the pod the API server says owns the address now, not to the index's view.
        PodInfo pod;
        switch (broker.tokenOwner(new Caller(caller, Optional.empty(), byKernel))) {
            case CredentialBroker.Owner owner -> pod = owner.pod();
            case CredentialBroker.Refused refused -> {
                return Outcome.text(refused.httpStatus(), refused.reason(), "token").about(Optional.empty(), null, refused.reason());
            }
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

    /** A GET or HEAD of the metadata tree: the role listing and credentials from the broker, the rest from the proxy. */
    private Outcome metadata(ServerRequest req, String path, Caller asking) throws InterruptedException {
        Matcher listing = LISTING.matcher(path);
        if (listing.matches()) {
            return role(req, path, broker.roleFor(asking));
        }
        Matcher credentials = CREDENTIALS.matcher(path);
        if (credentials.matches()) {
            boolean extendedPath = credentials.group(2) != null;
            // The Java SDK v2 asks the legacy path with this header for the extended document, AccountId included
            // (InstanceProfileCredentialsProvider getCredentialHeaders, 2.59.1).
            boolean extendedDocument = extendedPath || req.headers().first(EXTENDED_HEADER).map(v -> v.strip().equals("1")).orElse(false);
            return credentials(req, path, broker.credentialsFor(asking, credentials.group(3)), extendedPath, extendedDocument);
        }
        return proxied(req, path);
    }

    /** Anything else: forwarded to the node's IMDS unless the deny list refuses it. */
    private Outcome proxied(ServerRequest req, String path) throws InterruptedException {
        Matcher versioned = VERSIONED.matcher(path);
        String rest = versioned.matches() ? versioned.group(2) : "";
        Optional<String> refusal = proxy.refusal(rest);
        if (refusal.isPresent()) {
            return Outcome.text(403, "Forbidden", "denied").about(Optional.empty(), null, refusal.get());
        }
        return forwarded(req, path, "proxy");
    }

    /**
     * The role listing or credentials of a hostNetwork pod whose namespace lets it keep the node's credentials:
     * the node's IMDS answers, past the deny list, as it would without iamlet; the log names the pod.
     */
    private Outcome fromNode(ServerRequest req, String path, CredentialBroker.NodeRole node, String route) throws InterruptedException {
        Outcome answer = forwarded(req, path, route);
        return answer.about(Optional.of(node.pod()), null, "the node's own " + route + " (namespace " + node.pod().namespace()
                + " allows hostNetwork pods the node's credentials)" + (answer.message() == null ? "" : ": " + answer.message()));
    }

    private Outcome forwarded(ServerRequest req, String path, String route) throws InterruptedException {
        String query = req.query().rawValue();
        MetadataProxy.Reply reply;
        try {
            reply = proxy.forward(path + (query.isEmpty() ? "" : "?" + query));
        } catch (IOException | RuntimeException e) {
            return Outcome.text(502, "the node's metadata service failed: " + Exchange.describe(e), route).about(Optional.empty(), null, e.toString());
        }
        return new Outcome(reply.status(), reply.contentType(), reply.body(), Optional.empty(), null, null,
                reply.location().map(l -> Map.of(HeaderNames.LOCATION, l)).orElse(Map.of()), route);
    }

    private Outcome role(ServerRequest req, String path, CredentialBroker.RoleAnswer answer) throws InterruptedException {
        return switch (answer) {
            case CredentialBroker.Role r -> Outcome.text(200, r.decision().annotation(), "role")
                    .about(Optional.of(r.pod()), r.decision().arn().text(), null);
            case CredentialBroker.Refused refused -> refusal(refused, refused.httpStatus(), "role");
            case CredentialBroker.NodeRole node -> fromNode(req, path, node, "role");
        };
    }

    private Outcome credentials(ServerRequest req, String path, CredentialBroker.CredentialsAnswer answer, boolean extendedPath,
                                boolean extendedDocument) throws InterruptedException {
        return switch (answer) {
            case CredentialBroker.Granted g -> new Outcome(200, "text/plain",
                    (extendedDocument ? extendedDocuments : documents).bytes(g.credentials(), g.decision().credentialsRole().account()), Optional.of(g.pod()),
                    g.decision().arn().text(), null, Map.of(), "credentials");
            // On the extended path a role that is not the pod's is 404, as IMDS answers an unknown role: the Java SDK v2
            // and JS SDK keep the listed name and list again only after a 404 (aws-sdk-java-v2
            // InstanceProfileCredentialsProviderExtendedApiTest resolveCredentials_withUnstableProfile_ReturnsCredentials),
            // so after a role change a 403 would leave them without credentials. kube2iam never answered this path;
            // the legacy path keeps its 403 (kube2iam e2e TestWrongRoleRejected).
            case CredentialBroker.Refused refused when extendedPath && refused.kind() == CredentialBroker.Refusal.NOT_THE_POD_ROLE ->
                    refusal(refused, 404, "credentials");
            case CredentialBroker.Refused refused -> refusal(refused, refused.httpStatus(), "credentials");
            case CredentialBroker.NodeRole node -> fromNode(req, path, node, "credentials");
        };
    }

    private Outcome refusal(CredentialBroker.Refused refused, int status, String route) {
        if (status == 404 && refused.foundPod().isEmpty()) {
            metrics.podNotInPodCache();
        }
        return Outcome.text(status, refused.reason(), route).about(refused.foundPod(), null, refused.reason());
    }
}
