package io.iamlet.agent.server;

import io.iamlet.control.aws.NodeMetadata;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Passes the metadata paths iamlet does not answer itself on to the node's real IMDS, with the agent's own
 * IMDSv2 session, except a deny list that is closed by default: user-data (often holds secrets), the
 * instance's identity credentials, and the node's own role credentials never reach a pod.
 */
public final class MetadataProxy {
    /** Paths below /{version}/ that are refused unless --allow-metadata-path names them. */
    public static final List<String> DENIED = List.of("user-data", "meta-data/identity-credentials/", "meta-data/iam/security-credentials");

    private final URI metadata;
    private final NodeMetadata session;
    private final Set<String> allowed;
    private final HttpClient http;
    private final Duration timeout;

    public MetadataProxy(URI metadata, NodeMetadata session, Set<String> allowed, Duration timeout) {
        this.metadata = metadata;
        this.session = session;
        this.allowed = Set.copyOf(allowed);
        this.timeout = timeout;
        // Redirects (IMDS's 301 for a directory without its slash) go back to the pod as they are.
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** What the proxy answered. */
    public record Reply(int status, String contentType, byte[] body, Optional<String> location) {
    }

    /** Why the path is refused, or empty when it may pass. {@code rest} is the path after /{version}/. */
    public Optional<String> refusal(String rest) {
        for (String denied : DENIED) {
            String bare = denied.endsWith("/") ? denied.substring(0, denied.length() - 1) : denied;
            if ((rest.equals(bare) || rest.startsWith(bare + "/") || rest.startsWith(denied)) && !allowed.contains(bare)
                    && !allowed.contains(denied)) {
                return Optional.of("iamlet does not pass " + bare + " to pods (--allow-metadata-path=" + bare + " would open it)");
            }
        }
        return Optional.empty();
    }

    public Reply forward(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(metadata.resolve(pathAndQuery)).timeout(timeout)
                .header("X-aws-ec2-metadata-token", session.token()).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse("text/plain"), r.body(),
                r.headers().firstValue("Location"));
    }
}
