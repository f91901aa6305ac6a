package io.iamlet.control.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service-account token issuer of a fake cluster, served by {@link MockApiServer}: real RS256 tokens from
 * a test key pair, shaped as the kubelet's projected tokens are (iss, sub, aud, exp, iat, nbf, and the
 * {@code kubernetes.io} claim with namespace, pod and service account), the matching OIDC discovery document
 * and JWKS, and TokenReview answered by checking the token against those same keys.
 */
public final class FakeTokenIssuer {
    public static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<RSAKey> keys = new CopyOnWriteArrayList<>();
    private final AtomicBoolean servingKeys = new AtomicBoolean(true);
    private final AtomicBoolean servingTokenReview = new AtomicBoolean(true);
    private final AtomicInteger keyReads = new AtomicInteger();
    private final AtomicInteger tokenReviews = new AtomicInteger();

    /** The first key is made on first use: most tests that start a mock API server never need one. */
    private synchronized List<RSAKey> keys() {
        if (keys.isEmpty()) {
            keys.add(newKey());
        }
        return keys;
    }

    /** A fresh RSA key pair, as another cluster (or a forger) would have. */
    public static RSAKey newKey() {
        try {
            return new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.RS256).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The API server starts signing with a new key, publishing it next to the old one. */
    public RSAKey rotate() {
        RSAKey key = newKey();
        keys().addFirst(key);
        return key;
    }

    public RSAKey signingKey() {
        return keys().getFirst();
    }

    /** Whether discovery and JWKS are served (404 when not, as on API servers without issuer discovery). */
    public void serveKeys(boolean on) {
        servingKeys.set(on);
    }

    /** Whether TokenReview is allowed (403 when not, as without RBAC create on tokenreviews). */
    public void serveTokenReview(boolean on) {
        servingTokenReview.set(on);
    }

    public int keyReads() {
        return keyReads.get();
    }

    public int tokenReviews() {
        return tokenReviews.get();
    }

    /** The claims the kubelet's projected token for this pod would carry, valid for {@code lifetime} from now. */
    public static JWTClaimsSet.Builder claims(Pod pod, String audience, Duration lifetime) {
        String namespace = pod.getMetadata().getNamespace();
        String account = pod.getSpec().getServiceAccountName() == null ? "default" : pod.getSpec().getServiceAccountName();
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject("system:serviceaccount:" + namespace + ":" + account)
                .audience(audience)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(lifetime)))
                .jwtID(UUID.randomUUID().toString())
                .claim("kubernetes.io", Map.of(
                        "namespace", namespace,
                        "node", Map.of("name", String.valueOf(pod.getSpec().getNodeName()), "uid", UUID.randomUUID().toString()),
                        "pod", Map.of("name", pod.getMetadata().getName(), "uid", pod.getMetadata().getUid()),
                        "serviceaccount", Map.of("name", account, "uid", UUID.randomUUID().toString())));
    }

    /** The pod's projected token for {@code audience}, valid for an hour, signed with the current key. */
    public String token(Pod pod, String audience) {
        return sign(claims(pod, audience, Duration.ofHours(1)).build());
    }

    public String sign(JWTClaimsSet claims) {
        return sign(claims, signingKey());
    }

    /** Signs with any key: this cluster's or a stranger's. */
    public static String sign(JWTClaimsSet claims, RSAKey key) {
        try {
            JWSSigner signer = new RSASSASigner(key);
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The answer to a request for discovery, JWKS or TokenReview; null for anything else. */
    MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath().split("\\?")[0];
        return switch (path) {
            case "/.well-known/openid-configuration" -> keys(discovery());
            case "/openid/v1/jwks" -> keys(new JWKSet(keys().stream().map(k -> (JWK) k.toPublicJWK()).toList())
                    .toString(true));
            case "/apis/authentication.k8s.io/v1/tokenreviews" -> "POST".equals(request.getMethod()) ? review(request.getUtf8Body()) : null;
            default -> null;
        };
    }

    private static String discovery() {
        return "{\"issuer\":\"" + ISSUER + "\",\"jwks_uri\":\"" + ISSUER.replace("kubernetes.default.svc.cluster.local", "10.0.0.1:6443")
                + "/openid/v1/jwks\",\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],"
                + "\"id_token_signing_alg_values_supported\":[\"RS256\"]}";
    }

    private MockResponse keys(String body) {
        keyReads.incrementAndGet();
        return servingKeys.get() ? json(200, body) : json(404, "{\"kind\":\"Status\",\"code\":404}");
    }

    /** TokenReview as the API server does it: signature, issuer, expiry, audiences; extra carries the pod. */
    private MockResponse review(String body) {
        tokenReviews.incrementAndGet();
        if (!servingTokenReview.get()) {
            return json(403, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                    + "\"message\":\"tokenreviews.authentication.k8s.io is forbidden\"}");
        }
        try {
            ObjectNode review = (ObjectNode) JSON.readTree(body);
            JsonNode spec = review.path("spec");
            List<String> wanted = new ArrayList<>();
            spec.path("audiences").forEach(a -> wanted.add(a.asText()));
            ObjectNode status = review.putObject("status");
            status.put("authenticated", false);
            SignedJWT jwt;
            try {
                jwt = SignedJWT.parse(spec.path("token").asText());
            } catch (ParseException e) {
                status.put("error", "invalid bearer token");
                return json(201, review.toString());
            }
            RSAKey key = keys().stream().filter(k -> k.getKeyID().equals(jwt.getHeader().getKeyID())).findFirst().orElse(null);
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            List<String> granted = claims.getAudience().stream().filter(wanted::contains).toList();
            if (key == null || !JWSAlgorithm.RS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(new RSASSAVerifier(key))) {
                status.put("error", "invalid bearer token, square/go-jose: error in cryptographic primitive");
            } else if (!ISSUER.equals(claims.getIssuer()) || claims.getExpirationTime().before(new Date())) {
                status.put("error", "invalid bearer token, service account token has expired");
            } else if (granted.isEmpty()) {
                status.put("error", "invalid bearer token, token audiences " + claims.getAudience() + " is invalid for the target audiences "
                        + wanted);
            } else {
                @SuppressWarnings("unchecked")
                Map<String, Object> k8s = (Map<String, Object>) claims.getClaim("kubernetes.io");
                @SuppressWarnings("unchecked")
                Map<String, Object> pod = (Map<String, Object>) k8s.get("pod");
                status.put("authenticated", true);
                status.putPOJO("audiences", granted);
                ObjectNode user = status.putObject("user");
                user.put("username", claims.getSubject());
                user.putArray("groups").add("system:serviceaccounts");
                ObjectNode extra = user.putObject("extra");
                extra.putArray("authentication.kubernetes.io/pod-name").add(String.valueOf(pod.get("name")));
                extra.putArray("authentication.kubernetes.io/pod-uid").add(String.valueOf(pod.get("uid")));
            }
            return json(201, review.toString());
        } catch (Exception e) {
            return json(400, "{\"kind\":\"Status\",\"code\":400,\"message\":\"" + e.getMessage().replace('"', '\'') + "\"}");
        }
    }

    private static MockResponse json(int status, String body) {
        return new MockResponse().setResponseCode(status).setHeader("Content-Type", "application/json").setBody(body);
    }
}
