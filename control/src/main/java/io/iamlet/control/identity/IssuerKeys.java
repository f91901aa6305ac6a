package io.iamlet.control.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Resource;
import com.nimbusds.jose.util.ResourceRetriever;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.net.URISyntaxException;

/**
 * The cluster's service-account issuer and its public keys, as the API server publishes them: OIDC discovery
 * at {@code /.well-known/openid-configuration}, then the key set. Both are read through the Kubernetes
 * client's own HTTP client, so the agent's API credentials and TLS settings apply. The key set is cached by
 * Nimbus's JWK source: refreshed ahead of expiry, and refreshed at once (rate-limited) when a token names a
 * key it does not hold, as happens after the API server rotates its signing key.
 */
public final class IssuerKeys {
    static final String DISCOVERY_PATH = ".well-known/openid-configuration";
    /** Every API server serves its keys here, whatever jwks_uri its discovery document names. */
    static final String API_SERVER_JWKS_PATH = "openid/v1/jwks";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DISCOVERY_TTL = Duration.ofHours(1);
    private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(10);
    private static final long JWKS_CACHE_TTL_MS = Duration.ofMinutes(5).toMillis();
    private static final long JWKS_REFRESH_TIMEOUT_MS = Duration.ofSeconds(15).toMillis();
    private static final long JWKS_MIN_REFRESH_INTERVAL_MS = Duration.ofSeconds(30).toMillis();
    /** While the API server is away, the last key set keeps verifying tokens this long (keys rotate rarely). */
    private static final long JWKS_OUTAGE_TOLERANCE_MS = Duration.ofHours(1).toMillis();

    /**
     * @param issuer     the {@code iss} every token of this cluster carries
     * @param jwksUri    where discovery says the keys are
     * @param keysFrom   where the agent reads them: on the API server always (see {@link #keysUrl})
     */
    public record Discovery(String issuer, URI jwksUri, URI keysFrom) {
    }

    /** The issuer with its key source, as one verification uses them. */
    record Loaded(Discovery discovery, JWKSource<SecurityContext> keys, Instant loadedAt) {
    }

    /** Discovery or the key set cannot be read: offline verification is impossible for now. */
    public static final class KeysUnavailable extends Exception {
        KeysUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final HttpClient http;
    private final URI apiServer;
    private final Duration timeout;
    private final Clock clock;
    private final ReentrantLock reload = new ReentrantLock();
    private volatile Loaded loaded;
    private volatile KeysUnavailable lastFailure;
    private volatile Instant lastFailureAt = Instant.MIN;

    public IssuerKeys(KubernetesClient kube, Duration timeout, Clock clock) {
        this.http = kube.getHttpClient();
        this.apiServer = URI.create(withSlash(kube.getMasterUrl().toString()));
        this.timeout = timeout;
        this.clock = clock;
    }

    private static String withSlash(String url) {
        return url.endsWith("/") ? url : url + "/";
    }

    /**
     * The issuer and its key source; discovery is read on first use, again hourly, and retried at most every 10 s.
     * While one thread re-reads discovery, the others go on with what was read before.
     */
    Loaded load() throws KeysUnavailable {
        Instant now = clock.instant();
        Loaded current = loaded;
        if (current != null && current.loadedAt().plus(DISCOVERY_TTL).isAfter(now)) {
            return current;
        }
        if (current != null && !reload.tryLock()) {
            return current;
        }
        if (current == null) {
            reload.lock();
        }
        try {
            current = loaded;
            if (current != null && current.loadedAt().plus(DISCOVERY_TTL).isAfter(now)) {
                return current;
            }
            if (lastFailure != null && lastFailureAt.plus(RETRY_AFTER_FAILURE).isAfter(now)) {
                if (current != null) {
                    return current;
                }
                throw lastFailure;
            }
            return reload(current, now);
        } finally {
            reload.unlock();
        }
    }

    /** Reads discovery again (under the reload lock); the key source is kept while it points where it did. */
    private Loaded reload(Loaded current, Instant now) throws KeysUnavailable {
        try {
            Discovery discovery = discover();
            JWKSource<SecurityContext> keys = current != null && current.discovery().keysFrom().equals(discovery.keysFrom())
                    ? current.keys()
                    : JWKSourceBuilder.<SecurityContext>create(discovery.keysFrom().toURL(), this::retrieve)
                            .cache(JWKS_CACHE_TTL_MS, JWKS_REFRESH_TIMEOUT_MS)
                            .rateLimited(JWKS_MIN_REFRESH_INTERVAL_MS)
                            .outageTolerant(JWKS_OUTAGE_TOLERANCE_MS)
                            .build();
            loaded = new Loaded(discovery, keys, now);
            lastFailure = null;
            return loaded;
        } catch (KeysUnavailable e) {
            lastFailure = e;
            lastFailureAt = now;
            // A discovery document read before stays good while the API server is briefly away.
            if (current != null) {
                return current;
            }
            throw e;
        } catch (IOException e) {
            throw new KeysUnavailable("bad key set address: " + e.getMessage(), e);
        }
    }

    /** Reads discovery now (for `iamlet doctor` and start-up logs). */
    public Discovery discover() throws KeysUnavailable {
        URI url = apiServer.resolve(DISCOVERY_PATH);
        String body = get(url);
        try {
            JsonNode doc = JSON.readTree(body);
            String issuer = doc.path("issuer").asText("");
            String jwks = doc.path("jwks_uri").asText("");
            if (issuer.isEmpty() || jwks.isEmpty()) {
                throw new KeysUnavailable("the discovery document at " + url + " names no issuer or jwks_uri", null);
            }
            URI jwksUri = URI.create(jwks);
            return new Discovery(issuer, jwksUri, keysUrl(jwksUri));
        } catch (IOException | IllegalArgumentException e) {
            throw new KeysUnavailable("the discovery document at " + url + " is not valid: " + e.getMessage(), e);
        }
    }

    /**
     * The keys are read from the API server itself: at jwks_uri's path when jwks_uri names the API server, else at
     * /openid/v1/jwks. A jwks_uri elsewhere (a public bucket, a cloud's OIDC endpoint) may be out of the node's
     * reach, and the API server, which the agent already trusts, serves the same keys.
     */
    URI keysUrl(URI jwksUri) {
        boolean sameServer = jwksUri.getHost() != null && jwksUri.getHost().equalsIgnoreCase(apiServer.getHost())
                && effectivePort(jwksUri) == effectivePort(apiServer) && Objects.equals(jwksUri.getScheme(), apiServer.getScheme());
        String path = sameServer && jwksUri.getRawPath() != null && !jwksUri.getRawPath().isEmpty()
                ? jwksUri.getRawPath().substring(1) : API_SERVER_JWKS_PATH;
        return apiServer.resolve(path);
    }

    private static int effectivePort(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80;
    }

    /** The key set, read now (not from the cache), for `iamlet doctor`. */
    public JWKSet fetchKeys(Discovery discovery) throws KeysUnavailable {
        try {
            return JWKSet.parse(get(discovery.keysFrom()));
        } catch (ParseException e) {
            throw new KeysUnavailable("the key set at " + discovery.keysFrom() + " is not a JWK set: " + e.getMessage(), e);
        }
    }

    private Resource retrieve(URL url) throws IOException {
        try {
            return new Resource(get(url.toURI()), "application/json");
        } catch (KeysUnavailable | URISyntaxException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private String get(URI url) throws KeysUnavailable {
        HttpRequest request = http.newHttpRequestBuilder().uri(url).header("Accept", "application/json").build();
        try {
            HttpResponse<String> response = http.sendAsync(request, String.class).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (response.code() != 200) {
                throw new KeysUnavailable("GET " + url + " answered HTTP " + response.code()
                        + (response.code() == 401 || response.code() == 403
                        ? " (the agent's service account needs the ClusterRole system:service-account-issuer-discovery)" : ""), null);
            }
            return response.body();
        } catch (ExecutionException e) {
            throw new KeysUnavailable("GET " + url + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new KeysUnavailable("GET " + url + " did not answer within " + timeout.toSeconds() + "s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeysUnavailable("interrupted while reading " + url, e);
        }
    }
}
