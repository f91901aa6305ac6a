package io.iamlet.control.credentials;

import java.time.Duration;
import java.time.Instant;

/** Temporary credentials of an assumed role. toString never shows the secrets. */
public record Credentials(String accessKeyId, String secretAccessKey, String sessionToken, Instant expiration,
                          Instant lastUpdated) {
    public Duration remaining(Instant now) {
        return Duration.between(now, expiration);
    }

    @Override
    public String toString() {
        return "Credentials[" + accessKeyId + ", expires " + expiration + "]";
    }
}
