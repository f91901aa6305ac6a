package io.iamlet.agent.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.iamlet.agent.log.Json;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.metrics.ServerMetrics;
import io.iamlet.control.Caller;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.credentials.Credentials;
import io.iamlet.control.pods.PodInfo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The container-credentials endpoint (EKS Pod Identity's contract): {@code GET /v1/credentials} with the pod's
 * projected service-account token in the {@code Authorization} header, answered with
 * {@code {"AccessKeyId","SecretAccessKey","Token","AccountId","Expiration"}} as the AWS SDKs' container
 * provider parses it, or {@code {"code","message"}} with a 4xx/5xx. Registered ahead of the metadata API's
 * catch-all on the app port; every request is logged once, never with its token.
 */
public final class ContainerCredentialsRoute {
    private static final String ROUTE = "container-credentials";

    private final String path;
    private final CredentialBroker broker;
    private final Exchange exchange;
    private volatile KernelIdentity kernel;

    public ContainerCredentialsRoute(String path, CredentialBroker broker, RequestLog log, ServerMetrics metrics) {
        this.path = path;
        this.broker = broker;
        this.exchange = new Exchange(log, metrics, Map.of());
    }

    /** With the eBPF backend: the token must be the pod's the kernel names by the connection's cgroup, when it names one. */
    public ContainerCredentialsRoute withKernelIdentity(KernelIdentity identity) {
        this.kernel = identity;
        return this;
    }

    public void register(HttpRouting.Builder routing) {
        routing.any(path, exchange.handler(this::answer, (status, shown, logged) -> error(status, shown, Optional.empty())
                .about(Optional.empty(), null, logged)));
    }

    private Outcome answer(ServerRequest req, String path, String caller) throws InterruptedException {
        if (req.prologue().method() != Method.GET) {
            return error(405, "only GET is served here", Optional.empty());
        }
        String token = req.headers().first(HeaderNames.AUTHORIZATION).map(ContainerCredentialsRoute::withoutScheme).orElse(null);
        return switch (broker.credentialsForToken(token, new Caller(caller, Optional.empty(), MetadataRoutes.kernelCaller(kernel, req)))) {
            case CredentialBroker.Granted g -> Outcome.json(200, document(g.credentials(), g.decision().credentialsRole().account()), ROUTE)
                    .about(Optional.of(g.pod()), g.decision().arn().text(), null);
            // The log gets the whole reason; the pod gets it too, except for a possible spoof, where it would tell a
            // stranger which pod owns the token or the address.
            case CredentialBroker.Refused r when r.kind() == CredentialBroker.Refusal.POSSIBLE_SPOOF ->
                    error(r.httpStatus(), "the token does not belong to the pod this request comes from", r.foundPod())
                            .about(r.foundPod(), null, "possible spoof: " + r.reason());
            case CredentialBroker.Refused r -> error(r.httpStatus(), r.reason(), r.foundPod());
            // Service-account tokens name a role, never the node's: a namespace's opt-in is for the metadata API.
            case CredentialBroker.NodeRole n -> error(403, "the node's credentials are not served on the container-credentials endpoint",
                    Optional.of(n.pod()));
        };
    }

    /** SDKs send the token as it is; a "Bearer " some tools add is tolerated. */
    private static String withoutScheme(String header) {
        String h = header.strip();
        return h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).strip() : h;
    }

    /** The body the SDKs' container provider parses: Expiration as ISO-8601 UTC, AccountId for SDKs that want it. */
    static String document(Credentials c, String accountId) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("AccessKeyId", c.accessKeyId());
        doc.put("SecretAccessKey", c.secretAccessKey());
        doc.put("Token", c.sessionToken());
        doc.put("AccountId", accountId);
        doc.put("Expiration", CredentialDocument.timestamp(c.expiration()));
        return Json.object(doc);
    }

    /** A refusal: {"code","message"} as the SDKs read it, and the same reason in the log. */
    private static Outcome error(int status, String reason, Optional<PodInfo> pod) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code(status));
        error.put("message", reason);
        return Outcome.json(status, Json.object(error), ROUTE).about(pod, null, reason);
    }

    private static String code(int status) {
        return switch (status) {
            case 400 -> "InvalidToken";
            case 403 -> "AccessDenied";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 409 -> "Conflict";
            case 500 -> "InternalError";
            default -> status >= 500 ? "ServiceUnavailable" : "InvalidRequest";
        };
    }
}
