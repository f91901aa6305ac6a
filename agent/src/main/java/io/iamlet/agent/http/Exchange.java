package io.iamlet.agent.http;

import io.helidon.http.Header;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.metrics.ServerMetrics;
import io.iamlet.control.pods.IpAddresses;
import io.iamlet.control.pods.PodInfo;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * One request's life, the same on every route of the app port: answered by the route, sent (with a
 * Retry-After on 503, without a body on HEAD), counted and logged once.
 */
final class Exchange {
    /** A route's answer to one request from {@code caller} (the source address) for {@code path} (in origin form). */
    interface Answerer {
        Outcome answer(ServerRequest req, String path, String caller) throws Exception;
    }

    /** How a route words a failure of ours: the status, what the caller is shown, and what the log says. */
    interface Failure {
        Outcome of(int status, String shown, String logged);
    }

    // The content types the routes answer with, as headers made once: a header built from a name and a string
    // is parsed and copied into the response on every request.
    private static final Header TEXT = HeaderValues.createCached(HeaderNames.CONTENT_TYPE, "text/plain");
    private static final Header JSON = HeaderValues.createCached(HeaderNames.CONTENT_TYPE, "application/json");

    private final RequestLog log;
    private final ServerMetrics metrics;
    private final List<Header> always;

    /** @param always headers on every answer (IMDS's {@code Server: EC2ws}) */
    Exchange(RequestLog log, ServerMetrics metrics, Map<HeaderName, String> always) {
        this.log = log;
        this.metrics = metrics;
        this.always = always.entrySet().stream().map(e -> HeaderValues.createCached(e.getKey(), e.getValue())).toList();
    }

    Handler handler(Answerer answerer, Failure failure) {
        return (req, res) -> serve(req, res, answerer, failure);
    }

    private void serve(ServerRequest req, ServerResponse res, Answerer answerer, Failure failure) {
        long start = System.nanoTime();
        String path = originForm(req.path().rawPath());
        String caller = caller(req);
        Outcome outcome;
        try {
            outcome = answerer.answer(req, path, caller);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = failure.of(503, "interrupted", "interrupted");
        } catch (Exception | Error e) {
            // Not a route's own refusal (those are outcomes): a fault of ours, labelled as one.
            outcome = failure.of(500, "internal error: " + describe(e), e.toString());
        }
        for (Header h : always) {
            res.header(h);
        }
        res.header(contentType(outcome.contentType()));
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
        log.log(new RequestLog.Entry(req.prologue().method().text(), path, caller, outcome.status(), millis,
                outcome.pod().map(PodInfo::namespace).orElse(null), outcome.role(), outcome.message()));
    }

    private static Header contentType(String type) {
        return switch (type) {
            case "text/plain" -> TEXT;
            case "application/json" -> JSON;
            default -> HeaderValues.create(HeaderNames.CONTENT_TYPE, type);
        };
    }

    /** The source address of the request, normalised as the pod index writes addresses. */
    static String caller(ServerRequest req) {
        if (req.remotePeer().address() instanceof InetSocketAddress a) {
            return IpAddresses.normalize(a.getAddress().getHostAddress());
        }
        return String.valueOf(req.remotePeer().address());
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
}
