package io.iamlet.agent.http;

import io.helidon.http.HeaderName;
import io.iamlet.control.pods.PodInfo;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * What one request came to: status, body and headers for the caller; the pod, role and message for its log
 * line; the route for the metrics.
 */
record Outcome(int status, String contentType, byte[] body, Optional<PodInfo> pod, String role, String message,
               Map<HeaderName, String> headers, String route) {
    static Outcome text(int status, String body, String route) {
        return new Outcome(status, "text/plain", body.getBytes(StandardCharsets.UTF_8), Optional.empty(), null, null, Map.of(), route);
    }

    static Outcome json(int status, String body, String route) {
        return new Outcome(status, "application/json", body.getBytes(StandardCharsets.UTF_8), Optional.empty(), null, null, Map.of(), route);
    }

    /** The same answer, and what the log says about it. */
    Outcome about(Optional<PodInfo> p, String r, String m) {
        return new Outcome(status, contentType, body, p, r, m, headers, route);
    }
}
