package io.iamlet.agent.server;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

/**
 * IMDSv2 session tokens issued by the agent itself: so pods get IMDSv2 no matter the node's hop limit.
 * A token is {@code expiry . HMAC(key, callerIp | expiry)}, bound to the pod that asked; the key is random
 * per agent process, so tokens die with it (SDKs simply fetch a new one, as after any expiry).
 */
public final class MetadataTokens {
    public static final int MAX_TTL_SECONDS = 21600;
    private final byte[] key = new byte[32];
    private final Clock clock;

    public MetadataTokens(Clock clock) {
        this.clock = clock;
        new SecureRandom().nextBytes(key);
    }

    /** The outcome of a token request: a token with its TTL, or a refusal with the status IMDS gives. */
    public sealed interface Issue {
        record Issued(String token, int ttlSeconds) implements Issue {
        }

        record Refused(int httpStatus, String reason) implements Issue {
        }
    }

    public Issue issue(String callerIp, String ttlHeader, boolean forwarded) {
        if (forwarded) {
            return new Issue.Refused(403, "a token request carrying X-Forwarded-For is refused, as IMDS does");
        }
        if (ttlHeader == null || !ttlHeader.strip().matches("\\d{1,6}")) {
            return new Issue.Refused(400, "X-aws-ec2-metadata-token-ttl-seconds must be a number of seconds, 1 to " + MAX_TTL_SECONDS);
        }
        int ttl = Integer.parseInt(ttlHeader.strip());
        if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
            return new Issue.Refused(400, "X-aws-ec2-metadata-token-ttl-seconds must be 1 to " + MAX_TTL_SECONDS + ", not " + ttl);
        }
        long expiry = clock.instant().plus(Duration.ofSeconds(ttl)).getEpochSecond();
        return new Issue.Issued(expiry + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac(callerIp, expiry)), ttl);
    }

    /** Empty when the token is valid for this caller now; otherwise why not. */
    public Optional<String> check(String token, String callerIp) {
        int dot = token.indexOf('.');
        if (dot <= 0 || token.length() > 200) {
            return Optional.of("malformed token");
        }
        long expiry;
        byte[] given;
        try {
            expiry = Long.parseLong(token.substring(0, dot));
            given = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            return Optional.of("malformed token");
        }
        if (!MessageDigest.isEqual(given, mac(callerIp, expiry))) {
            return Optional.of("token was not issued to " + callerIp + " by this agent");
        }
        if (Instant.ofEpochSecond(expiry).isBefore(clock.instant())) {
            return Optional.of("token expired");
        }
        return Optional.empty();
    }

    private byte[] mac(String callerIp, long expiry) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(callerIp.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) '|');
            mac.update(ByteBuffer.allocate(8).putLong(expiry).array());
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
