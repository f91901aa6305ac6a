package io.iamlet.control.credentials;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.StsException;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/** AssumeRole through the AWS SDK's StsClient, with the agent's own credentials. */
public final class StsCredentialSource implements CredentialSource, AutoCloseable {
    /**
     * @param endpoint        --sts-endpoint; when empty the SDK's own resolution applies, which honours AWS_ENDPOINT_URL_STS
     * @param region          the signing region: the node's region with --use-regional-sts-endpoint, else aws-global
     * @param sessionDuration how long assumed credentials live (STS allows 15 min to the role's maximum)
     * @param callTimeout     bound on one AssumeRole call including the SDK's retries
     * @param credentials     the agent's own credentials (the SDK default chain in production)
     */
    public record Settings(Optional<URI> endpoint, Region region, Duration sessionDuration, Duration callTimeout,
                           AwsCredentialsProvider credentials) {
        public Settings {
            checkSessionDuration(sessionDuration);
        }
    }

    /** The one check of a session duration against STS's limits; the CLI adds which flag gave it. */
    public static Duration checkSessionDuration(Duration sessionDuration) {
        if (sessionDuration.compareTo(Duration.ofMinutes(15)) < 0 || sessionDuration.compareTo(Duration.ofHours(12)) > 0) {
            throw new IllegalArgumentException("sessions must last 15m to 12h (STS's limits), not " + sessionDuration.toMinutes() + "m");
        }
        return sessionDuration;
    }

    private final StsClient client;
    private final Settings settings;
    private final Clock clock;

    public StsCredentialSource(Settings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        StsClientBuilder builder = StsClient.builder()
                .region(settings.region())
                .credentialsProvider(settings.credentials())
                .overrideConfiguration(o -> o
                        .apiCallTimeout(settings.callTimeout())
                        // The cache retries with its own backoff; one SDK retry covers a dropped connection.
                        .retryStrategy(b -> b.maxAttempts(2)));
        settings.endpoint().ifPresent(builder::endpointOverride);
        this.client = builder.build();
    }

    @Override
    public Credentials assume(CredentialKey key) {
        AssumeRoleRequest.Builder request = AssumeRoleRequest.builder()
                .roleArn(key.role().text())
                .roleSessionName(key.sessionName())
                .durationSeconds((int) settings.sessionDuration().toSeconds());
        key.externalId().ifPresent(request::externalId);
        try {
            AssumeRoleResponse response = client.assumeRole(request.build());
            var c = response.credentials();
            return new Credentials(c.accessKeyId(), c.secretAccessKey(), c.sessionToken(), c.expiration(), clock.instant());
        } catch (StsException e) {
            String code = e.awsErrorDetails() == null ? "Unknown" : e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage();
            // STS refusing (4xx) is a configuration problem: 500. STS failing (5xx, throttling) may pass: 503.
            int status = e.statusCode() >= 500 || "Throttling".equals(code) ? 503 : 500;
            throw new CredentialException(status, code, "STS refused AssumeRole of " + key.role() + ": " + code + ": " + message, e);
        } catch (SdkClientException e) {
            if (timedOut(e)) {
                throw new CredentialException(504, "Timeout", "STS did not answer AssumeRole of " + key.role() + " in time: " + e.getMessage(), e);
            }
            throw new CredentialException(503, "Unreachable", "STS could not be reached for AssumeRole of " + key.role()
                    + ": " + e.getMessage(), e);
        }
    }

    /** A timeout anywhere in the call (the SDK's call or attempt timeout, or a socket read): 504, as docs/control.md says. */
    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof software.amazon.awssdk.core.exception.ApiCallTimeoutException
                    || t instanceof software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException
                    || t instanceof java.net.SocketTimeoutException || t instanceof java.net.http.HttpTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Who STS thinks the agent is (GetCallerIdentity): for doctor, to prove the agent's own credentials work. */
    public String callerIdentity() {
        try {
            return client.getCallerIdentity().arn();
        } catch (StsException e) {
            throw new CredentialException(500, e.awsErrorDetails() == null ? "Unknown" : e.awsErrorDetails().errorCode(),
                    "STS refused GetCallerIdentity: " + e.getMessage(), e);
        } catch (SdkClientException e) {
            throw new CredentialException(503, "Unreachable", "STS could not be reached: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
