package io.iamlet.agent.http;

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
import java.util.regex.Pattern;

/**
 * IMDSv2 session tokens issued by the agent itself: so pods get IMDSv2 no matter the node's hop limit.
 * A token is {@code expiry . podUid . HMAC(key, callerIp | podUid | expiry)}: bound to the address that asked
 * and to the pod that the API server said owned that address when it asked. The uid is what closes the IP
 * reuse window: a request carrying the token is answered for that pod only, whatever the index says of the
 * address at that moment. The key is random per agent process, so tokens die with it (SDKs simply fetch a
 * new one, as after any expiry).
 */
public final class MetadataTokens {
    public static final int MAX_TTL_SECONDS = 21600;
    private static final Pattern UID = Pattern.compile("[A-Za-z0-9-]{1,64}");
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

    /** Checks what a token request carries before anyone asks who owns the caller's address; empty when fine. */
    public Optional<Issue.Refused> refusal(String ttlHeader, boolean forwarded) {
        if (forwarded) {
            return Optional.of(new Issue.Refused(403, "a token request carrying X-Forwarded-For is refused, as IMDS does"));
        }
        if (ttlHeader == null || !ttlHeader.strip().matches("\\d{1,6}")) {
            return Optional.of(new Issue.Refused(400, "X-aws-ec2-metadata-token-ttl-seconds must be a number of seconds, 1 to " + MAX_TTL_SECONDS));
        }
        int ttl = Integer.parseInt(ttlHeader.strip());
        if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
            return Optional.of(new Issue.Refused(400, "X-aws-ec2-metadata-token-ttl-seconds must be 1 to " + MAX_TTL_SECONDS + ", not " + ttl));
        }
        return Optional.empty();
    }

    /** A token for {@code callerIp}, bound to the pod {@code podUid} the API server confirmed owns it. */
    public Issue issue(String callerIp, String podUid, String ttlHeader, boolean forwarded) {
        Optional<Issue.Refused> refused = refusal(ttlHeader, forwarded);
        if (refused.isPresent()) {
            return refused.get();
        }
        if (podUid == null || !UID.matcher(podUid).matches()) {
            return new Issue.Refused(503, "the pod at " + callerIp + " has no usable uid");
        }
        int ttl = Integer.parseInt(ttlHeader.strip());
        long expiry = clock.instant().plus(Duration.ofSeconds(ttl)).getEpochSecond();
        return new Issue.Issued(token(callerIp, podUid, expiry), ttl);
    }

    /** A token check: valid for this caller, bound to a pod uid, or why not. */
    public sealed interface Check {
        record Valid(String podUid) implements Check {
        }

        record Invalid(String reason) implements Check {
        }
    }

    /**
     * Accepts only the exact string {@link #issue} wrote: the token is rebuilt from its expiry and uid and compared
     * whole, in constant time. Decoding the MAC instead would accept other spellings of it (a base64url decoder
     * ignores the last character's unused bits, Long.parseLong takes "+" and leading zeros).
     */
    public Check check(String token, String callerIp) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || token.length() > 200 || !UID.matcher(parts[1]).matches()) {
            return new Check.Invalid("malformed token");
        }
        long expiry;
        try {
            expiry = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            return new Check.Invalid("malformed token");
        }
        byte[] expected = token(callerIp, parts[1], expiry).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), expected)) {
            return new Check.Invalid("token was not issued to " + callerIp + " by this agent");
        }
        if (Instant.ofEpochSecond(expiry).isBefore(clock.instant())) {
            return new Check.Invalid("token expired");
        }
        return new Check.Valid(parts[1]);
    }

    private String token(String callerIp, String podUid, long expiry) {
        return expiry + "." + podUid + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac(callerIp, podUid, expiry));
    }

    private byte[] mac(String callerIp, String podUid, long expiry) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(callerIp.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) '|');
            mac.update(podUid.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) '|');
            mac.update(ByteBuffer.allocate(8).putLong(expiry).array());
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
