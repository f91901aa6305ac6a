package io.iamlet.control.aws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.control.policy.RoleArn;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the node's own instance metadata with an IMDSv2 session: the account and partition behind the
 * instance profile (--auto-discover-base-arn), the node's role (--auto-discover-default-role) and region.
 * Used by the agent itself, which the redirect never catches (it runs in the node's network namespace).
 */
public final class NodeMetadata {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PROFILE_ARN = Pattern.compile("arn:(aws[a-z-]*):iam::(\\d{12}):instance-profile/.*");
    private static final Duration TOKEN_TTL = Duration.ofHours(6);

    private final URI base;
    private final Duration timeout;
    private final HttpClient http;
    private String token;
    private Instant tokenExpires = Instant.EPOCH;

    /** @param base the metadata service, normally http://169.254.169.254 (kube2iam's --metadata-addr) */
    public NodeMetadata(URI base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** An IMDSv2 session token, renewed well before it expires. */
    public synchronized String token() throws IOException, InterruptedException {
        if (token == null || Instant.now().isAfter(tokenExpires.minus(Duration.ofMinutes(10)))) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/latest/api/token"))
                    .timeout(timeout)
                    .header("X-aws-ec2-metadata-token-ttl-seconds", String.valueOf(TOKEN_TTL.toSeconds()))
                    .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("the node's metadata service at " + base + " refused an IMDSv2 token: HTTP " + r.statusCode());
            }
            token = r.body().strip();
            tokenExpires = Instant.now().plus(TOKEN_TTL);
        }
        return token;
    }

    /** GET of a metadata path (e.g. "meta-data/iam/info"), with the session token. */
    public String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/latest/" + path))
                .timeout(timeout).header("X-aws-ec2-metadata-token", token()).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("the node's metadata service answered HTTP " + r.statusCode() + " for " + path);
        }
        return r.body();
    }

    /** arn:PARTITION:iam::ACCOUNT:role/ of the node's instance profile. */
    public RoleArn.Base discoverBaseArn() throws IOException, InterruptedException {
        return baseArnOf(get("meta-data/iam/info"));
    }

    /** The base ARN from an iam/info document ({"Code":"Success","InstanceProfileArn":"arn:…:instance-profile/…",…}). */
    static RoleArn.Base baseArnOf(String info) throws IOException {
        JsonNode document;
        try {
            document = JSON.readTree(info);
        } catch (JsonProcessingException e) {
            throw new IOException("meta-data/iam/info is not JSON: " + e.getOriginalMessage());
        }
        JsonNode arn = document == null ? null : document.get("InstanceProfileArn");
        if (arn == null || !arn.isTextual()) {
            throw new IOException("meta-data/iam/info has no InstanceProfileArn: does the node have an instance profile?");
        }
        Matcher m = PROFILE_ARN.matcher(arn.asText());
        if (!m.matches()) {
            throw new IOException("meta-data/iam/info's InstanceProfileArn is not an instance profile's ARN: " + arn.asText());
        }
        return new RoleArn.Base(m.group(1), m.group(2), "");
    }

    /** The name of the node's own role, the one listed under meta-data/iam/security-credentials/. */
    public String discoverNodeRole() throws IOException, InterruptedException {
        String listing = get("meta-data/iam/security-credentials/").strip();
        if (listing.isEmpty()) {
            throw new IOException("meta-data/iam/security-credentials/ lists no role: the node has no instance profile role");
        }
        return listing.lines().findFirst().orElseThrow();
    }

    public String region() throws IOException, InterruptedException {
        return get("meta-data/placement/region").strip();
    }
}
