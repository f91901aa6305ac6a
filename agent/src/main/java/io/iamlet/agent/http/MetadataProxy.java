package io.iamlet.agent.http;

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
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Passes the metadata paths iamlet does not answer itself on to the node's real IMDS, with the agent's own
 * IMDSv2 session, except a deny list that is closed by default: user-data (often holds secrets), the
 * instance's identity credentials, and the node's own role credentials never reach a pod.
 */
public final class MetadataProxy {
    /**
     * Paths below /{version}/ that are refused unless --allow-metadata-path names them. iam/info names the
     * node's instance profile: a pod has no instance profile of its own, so it is refused rather than lent.
     */
    public static final List<String> DENIED = List.of("user-data", "meta-data/identity-credentials/", "meta-data/iam/security-credentials",
            "meta-data/iam/info");
    /** The characters IMDS paths (and IAM role names) use; anything else could be decoded or folded by someone on the way. */
    private static final Pattern QUERY = Pattern.compile("[A-Za-z0-9._~=&-]*");
    private static final int MAX_PATH = 1024;

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

    /** {@code latest} or a date's shape, YYYY-MM-DD (IMDS's version segment), at s[from, to). */
    private static boolean version(String s, int from, int to) {
        if (to - from == 6) {
            return s.startsWith("latest", from);
        }
        if (to - from != 10) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            char c = s.charAt(from + i);
            if (i == 4 || i == 7 ? c != '-' : c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * A segment of [A-Za-z0-9._~:+=,@-] that neither starts nor ends with a dot (so no dot segment). A loop
     * rather than a regular expression: it runs for every segment of every request.
     */
    static boolean canonicalSegment(String segment) {
        return canonicalSegment(segment, 0, segment.length());
    }

    private static boolean canonicalSegment(String s, int from, int to) {
        if (from == to || s.charAt(from) == '.' || s.charAt(to - 1) == '.') {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '~' || c == ':' || c == '+' || c == '=' || c == ',' || c == '@' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why a raw request path is not in canonical form, or empty when it is: /{version}/ with a known version,
     * then segments that are not empty (but for a trailing slash), not dot segments, do not end in a dot, and
     * hold no encoded or unusual characters. Only canonical paths are answered or forwarded, so no spelling
     * that some server on the way might normalise can reach a denied path.
     */
    public static Optional<String> notCanonical(String rawPath, String rawQuery) {
        if (rawPath.length() > MAX_PATH) {
            return Optional.of("path longer than " + MAX_PATH + " characters");
        }
        if (!rawQuery.isEmpty() && (rawQuery.length() > MAX_PATH || !QUERY.matcher(rawQuery).matches())) {
            return Optional.of("query with characters IMDS does not use");
        }
        if (!rawPath.startsWith("/")) {
            return Optional.of("path does not start with /");
        }
        // Segment by segment with indexes: this runs on every request, and a split made a string per segment.
        int end = rawPath.indexOf('/', 1);
        if (!version(rawPath, 1, end < 0 ? rawPath.length() : end)) {
            return Optional.of("no known version (latest or YYYY-MM-DD) at the start of the path");
        }
        for (int i = 2; end >= 0; i++) {
            int start = end + 1;
            end = rawPath.indexOf('/', start);
            boolean last = end < 0;
            int stop = last ? rawPath.length() : end;
            boolean trailingSlash = last && start == stop;
            if (!trailingSlash && !canonicalSegment(rawPath, start, stop)) {
                return Optional.of("path segment " + i + " is empty, a dot segment, ends in a dot, or has characters IMDS does not use");
            }
        }
        return Optional.empty();
    }

    /**
     * Why the path is refused, or empty when it may pass. {@code rest} is a canonical path after /{version}/;
     * it is compared without regard to case, in case a server on the way folds it.
     */
    public Optional<String> refusal(String rest) {
        String folded = rest.toLowerCase(Locale.ROOT);
        for (String denied : DENIED) {
            String bare = denied.endsWith("/") ? denied.substring(0, denied.length() - 1) : denied;
            if ((folded.equals(bare) || folded.startsWith(bare + "/") || folded.startsWith(denied)) && !allowed.contains(bare)
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
