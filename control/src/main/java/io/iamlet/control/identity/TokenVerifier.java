package io.iamlet.control.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;

import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Date;

/**
 * Checks a projected service-account token: offline, by its signature against the cluster's issuer keys, its
 * issuer, audience, expiry and not-before (with a small clock skew) and its {@code kubernetes.io} claims; or by
 * the API server's TokenReview. Which one is {@link Mode}: {@code AUTO} verifies offline and asks TokenReview
 * only when the keys cannot be had; a token that offline verification refuses is refused, never re-asked.
 */
public final class TokenVerifier {
    /** The audience EKS Pod Identity manifests request; accepted too, so they work unchanged. */
    public static final String EKS_AUDIENCE = "pods.eks.amazonaws.com";
    public static final String DEFAULT_AUDIENCE = "iamlet";
    /** Longer than any token a kubelet writes (about 1 KiB); bounds the work a stranger can ask for. */
    static final int MAX_TOKEN_LENGTH = 16 * 1024;
    /** The algorithms Kubernetes signs service-account tokens with; none, HS* and anything else is refused. */
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    private static final Set<String> REQUIRED = Set.of("iss", "sub", "aud", "exp", "iat");

    /** --token-review. */
    public enum Mode { AUTO, ALWAYS, NEVER }

    /**
     * @param audiences accepted {@code aud} values: --token-audience, plus {@link #EKS_AUDIENCE}
     * @param names     how refusals name a setting (the agent's flags)
     */
    public record Settings(Set<String> audiences, Mode mode, Duration clockSkew, Duration apiTimeout, SettingNames names) {
        public Settings {
            audiences = Set.copyOf(audiences);
            if (audiences.isEmpty()) {
                throw new IllegalArgumentException("at least one token audience is needed");
            }
        }

        /** Refusals name settings by their fields. */
        public Settings(Set<String> audiences, Mode mode, Duration clockSkew, Duration apiTimeout) {
            this(audiences, mode, clockSkew, apiTimeout, SettingNames.FIELDS);
        }

        /** The flag's audiences plus the EKS one. */
        public static Set<String> audiences(Set<String> flag) {
            Set<String> all = new LinkedHashSet<>(flag);
            all.add(EKS_AUDIENCE);
            return all;
        }
    }

    /** TokenReview answers kept at once; a kubelet rotates a pod's token about hourly, so this covers thousands of pods. */
    static final int MAX_REVIEWS = 4096;

    private record Reviewed(TokenCheck.Verified check, Instant until) {
    }

    private final Settings settings;
    private final IssuerKeys keys;
    private final TokenReviewer reviewer;
    private final Clock clock;
    private final Map<String, Reviewed> reviewed = new ConcurrentHashMap<>();

    public TokenVerifier(KubernetesClient kube, Settings settings, Clock clock) {
        this(settings, new IssuerKeys(kube, settings.apiTimeout(), clock), new TokenReviewer(kube, settings.audiences()), clock);
    }

    TokenVerifier(Settings settings, IssuerKeys keys, TokenReviewer reviewer, Clock clock) {
        this.settings = settings;
        this.keys = keys;
        this.reviewer = reviewer;
        this.clock = clock;
    }

    public TokenCheck check(String token) {
        if (token == null || token.isBlank()) {
            return new TokenCheck.Rejected("no Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE to the pod's"
                    + " projected service-account token");
        }
        if (token.length() > MAX_TOKEN_LENGTH) {
            return new TokenCheck.Rejected("the Authorization header is longer than " + MAX_TOKEN_LENGTH + " characters");
        }
        String t = token.strip();
        String notCanonical = notCanonical(t);
        if (notCanonical != null) {
            return new TokenCheck.Rejected(notCanonical);
        }
        return switch (settings.mode()) {
            case ALWAYS -> review(t);
            case NEVER -> offline(t);
            case AUTO -> {
                TokenCheck offline = offline(t);
                yield offline instanceof TokenCheck.Unavailable u ? orUnavailable(review(t), u) : offline;
            }
        };
    }

    /**
     * TokenReview, its positive answers remembered until the token's own {@code exp} (never past it): SDKs send the
     * same token on every refresh, and one API call per request per pod would load the API server for nothing. A
     * refusal is not remembered (the next try may be a fixed token). The pod the token names is still checked on
     * every request against the index (CredentialBroker.credentialsForToken), so a deleted pod's token stops working at once.
     * Bounded: past {@link #MAX_REVIEWS} the expired answers go, and if that is not enough, all of them.
     */
    private TokenCheck review(String token) {
        Instant now = clock.instant();
        Reviewed hit = reviewed.get(token);
        if (hit != null && hit.until().isAfter(now)) {
            return hit.check();
        }
        TokenCheck check = reviewer.review(token);
        Instant expiry = check instanceof TokenCheck.Verified ? unverifiedExpiry(token) : null;
        if (check instanceof TokenCheck.Verified verified && expiry != null && expiry.isAfter(now)) {
            if (reviewed.size() >= MAX_REVIEWS) {
                reviewed.values().removeIf(r -> !r.until().isAfter(now));
                if (reviewed.size() >= MAX_REVIEWS) {
                    reviewed.clear();
                }
            }
            reviewed.put(token, new Reviewed(verified, expiry));
        }
        return check;
    }

    /** The {@code exp} of a token the API server has just vouched for; null when it has none (then nothing is kept). */
    private static Instant unverifiedExpiry(String token) {
        try {
            Date exp = SignedJWT.parse(token).getJWTClaimsSet().getExpirationTime();
            return exp == null ? null : exp.toInstant();
        } catch (ParseException e) {
            return null;
        }
    }

    /** How many TokenReview answers are remembered now. */
    int reviewsKept() {
        return reviewed.size();
    }

    /**
     * Why {@code token} is not a compact JWS in its one canonical spelling (three base64url segments without padding,
     * each exactly what encoding its decoded bytes gives), or null. Nimbus's decoder, and go-jose's in the API server's
     * TokenReview, ignore the last character's unused bits, so without this one signature has several accepted
     * spellings. Hand-written: no JOSE library offers a strict compact-form check; java.util.Base64 does the work.
     */
    static String notCanonical(String token) {
        String[] segments = token.split("\\.", -1);
        if (segments.length != 3) {
            return "not a signed JWT: a compact JWS has three dot-separated parts, this has " + segments.length;
        }
        Base64.Decoder decoder = Base64.getUrlDecoder();
        Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
        String[] names = {"header", "claims", "signature"};
        for (int i = 0; i < 3; i++) {
            String segment = segments[i];
            boolean ok = !segment.isEmpty() && segment.indexOf('=') < 0;
            if (ok) {
                try {
                    ok = encoder.encodeToString(decoder.decode(segment)).equals(segment);
                } catch (IllegalArgumentException e) {
                    ok = false;
                }
            }
            if (!ok) {
                return "not a signed JWT: its " + names[i] + " is not canonical unpadded base64url";
            }
        }
        return null;
    }

    private static TokenCheck orUnavailable(TokenCheck reviewed, TokenCheck.Unavailable offline) {
        return reviewed instanceof TokenCheck.Unavailable u
                ? new TokenCheck.Unavailable(offline.reason() + "; and " + u.reason())
                : reviewed;
    }

    /** Nimbus says "aud claim rejected"; operators need to see which audience came and which are accepted. */
    private String explain(String message, SignedJWT jwt) {
        if (message != null && message.contains("aud claim")) {
            String sent;
            try {
                sent = String.valueOf(jwt.getJWTClaimsSet().getAudience());
            } catch (ParseException e) {
                sent = "unreadable";
            }
            return "the token's audience " + sent + " is not one of " + settings.audiences()
                    + " (the projected token's audience must match " + settings.names().of(Setting.TOKEN_AUDIENCES) + ")";
        }
        return message;
    }

    private TokenCheck offline(String token) {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            return new TokenCheck.Rejected("not a signed JWT: " + e.getMessage());
        }
        IssuerKeys.Loaded loaded;
        try {
            loaded = keys.load();
        } catch (IssuerKeys.KeysUnavailable e) {
            return new TokenCheck.Unavailable("the cluster's service-account keys cannot be read: " + e.getMessage());
        }
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, loaded.keys()));
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(settings.audiences(),
                new JWTClaimsSet.Builder().issuer(loaded.discovery().issuer()).build(), REQUIRED, Set.of());
        claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
        processor.setJWTClaimsSetVerifier(claims);
        JWTClaimsSet verified;
        try {
            verified = processor.process(jwt, null);
        } catch (RateLimitReachedException e) {
            return new TokenCheck.Rejected("signed with a key the cluster does not publish (key " + jwt.getHeader().getKeyID()
                    + "; the key set was re-read moments ago)");
        } catch (KeySourceException e) {
            return new TokenCheck.Unavailable("the cluster's service-account keys cannot be read: " + e.getMessage());
        } catch (BadJOSEException | JOSEException e) {
            return new TokenCheck.Rejected(explain(e.getMessage(), jwt) + " (key " + jwt.getHeader().getKeyID() + ", alg "
                    + jwt.getHeader().getAlgorithm() + ")");
        }
        return switch (KubernetesClaims.parse(verified)) {
            case KubernetesClaims.Result.Good good -> new TokenCheck.Verified(good.identity());
            case KubernetesClaims.Result.Bad bad -> new TokenCheck.Rejected(bad.reason());
        };
    }
}
