package io.iamlet.agent.http;

import io.iamlet.agent.log.Json;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.log.RequestLog.Level;
import io.iamlet.agent.metrics.ServerMetrics;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.identity.ServiceAccountAnnotations;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.credentials.Credentials;
import io.iamlet.control.identity.ContainerCredentialBroker;
import io.iamlet.control.identity.TokenVerifier;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodIndex;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.Set;

/**
 * The container-credentials endpoint (EKS Pod Identity's contract): {@code GET /v1/credentials} with the pod's
 * projected service-account token in the {@code Authorization} header, answered with
 * {@code {"AccessKeyId","SecretAccessKey","Token","AccountId","Expiration"}} as the AWS SDKs' container
 * provider parses it, or {@code {"code","message"}} with a 4xx/5xx. Registered ahead of the metadata API's
 * catch-all on the app port; every request is logged once, never with its token.
 */
public final class ContainerCredentialsRoute {
    public static final String DEFAULT_PATH = "/v1/credentials";
    /** Kubelets and API servers keep time with NTP; this much disagreement is tolerated on exp/nbf. */
    private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);
    private static final Duration API_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SERVICE_ACCOUNT_TTL = Duration.ofSeconds(30);

    /**
     * @param enabled     --container-credentials=on: served (and, with --iptables, 169.254.170.23 redirected here)
     * @param path        where the endpoint listens (--container-credentials-path)
     * @param audiences   accepted token audiences (--token-audience plus the EKS one)
     * @param tokenReview --token-review
     */
    public record Settings(boolean enabled, String path, Set<String> audiences, TokenVerifier.Mode tokenReview) {
        public Settings {
            if (!path.matches("/[A-Za-z0-9._/-]*") || path.contains("..") || path.contains("//")) {
                throw new IllegalArgumentException("the container-credentials path must be an absolute path like " + DEFAULT_PATH
                        + ", not '" + path + "'");
            }
            audiences = Set.copyOf(audiences);
        }
    }

    private final String path;
    private final ContainerCredentialBroker broker;
    private final RequestLog log;
    private final ServerMetrics metrics;

    public ContainerCredentialsRoute(String path, ContainerCredentialBroker broker, RequestLog log, ServerMetrics metrics) {
        this.path = path;
        this.broker = broker;
        this.log = log;
        this.metrics = metrics;
    }

    /** The endpoint with its verifier and broker, on the agent's shared index, policy and credential cache. */
    public static ContainerCredentialsRoute create(Settings settings, KubernetesClient kube, PodIndex index, RolePolicy policy,
                                                  CredentialCache cache, PodEventRecorder events, String nodeName, Clock clock,
                                                  RequestLog log, ServerMetrics metrics) {
        TokenVerifier verifier = new TokenVerifier(kube, new TokenVerifier.Settings(settings.audiences(), settings.tokenReview(),
                CLOCK_SKEW, API_TIMEOUT), clock);
        ContainerCredentialBroker broker = new ContainerCredentialBroker(verifier, index, policy,
                new ServiceAccountAnnotations(kube, SERVICE_ACCOUNT_TTL, clock), cache, events, nodeName);
        log.event(Level.INFO, "container credentials served", Map.of("path", settings.path(),
                "token.audiences", String.join(",", new TreeSet<>(settings.audiences())), "token.review",
                settings.tokenReview().name().toLowerCase()));
        return new ContainerCredentialsRoute(settings.path(), broker, log, metrics);
    }

    public void register(HttpRouting.Builder routing) {
        routing.any(path, this::handle);
    }

    private record Outcome(int status, String body, Optional<PodInfo> pod, String role, String message) {
    }

    private void handle(ServerRequest req, ServerResponse res) {
        long start = System.nanoTime();
        String caller = caller(req);
        Outcome outcome;
        try {
            outcome = answer(req, caller);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = error(503, "interrupted", Optional.empty());
        } catch (RuntimeException e) {
            outcome = error(500, "internal error: " + e, Optional.empty());
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        if (outcome.status() == 503) {
            res.header(HeaderNames.RETRY_AFTER, "1");
        }
        res.status(Status.create(outcome.status()));
        res.send(outcome.body());
        double millis = (System.nanoTime() - start) / 1e6;
        metrics.request("container-credentials", req.prologue().method().text(), outcome.status(), millis);
        log.log(new RequestLog.Entry(req.prologue().method().text(), req.path().rawPath(), caller, outcome.status(), millis,
                outcome.pod().map(PodInfo::namespace).orElse(null), outcome.role(), outcome.message()));
    }

    private static String caller(ServerRequest req) {
        if (req.remotePeer().address() instanceof InetSocketAddress a) {
            return PodIndex.normalize(a.getAddress().getHostAddress());
        }
        return String.valueOf(req.remotePeer().address());
    }

    private Outcome answer(ServerRequest req, String caller) throws InterruptedException {
        if (req.prologue().method() != Method.GET) {
            return error(405, "only GET is served here", Optional.empty());
        }
        String token = req.headers().first(HeaderNames.AUTHORIZATION).map(ContainerCredentialsRoute::withoutScheme).orElse(null);
        return switch (broker.credentialsFor(token, caller)) {
            case CredentialBroker.Granted g -> new Outcome(200, document(g.credentials(), g.decision().credentialsRole().account()), Optional.of(g.pod()),
                    g.decision().arn().text(), null);
            case CredentialBroker.Refused r -> error(r.httpStatus(), r.reason(), r.foundPod());
            case CredentialBroker.Role role -> throw new AssertionError("a credentials question got only a role");
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

    /**
     * A refusal. The log gets the whole reason; the pod gets it too, except for a possible spoof, where it would
     * tell a stranger which pod owns the token or the address.
     */
    private static Outcome error(int status, String reason, Optional<PodInfo> pod) {
        String shown = reason.startsWith(ContainerCredentialBroker.SPOOF)
                ? "the token does not belong to the pod this request comes from" : reason;
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code(status));
        error.put("message", shown);
        String body = Json.object(error);
        return new Outcome(status, body, pod, null, reason);
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
