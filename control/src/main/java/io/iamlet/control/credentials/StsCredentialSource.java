package io.iamlet.control.credentials;

import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.policy.SessionTag;
import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.StsException;
import software.amazon.awssdk.services.sts.model.Tag;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;

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
    private final SettingNames names;

    /** A source whose errors name settings by their fields. */
    public StsCredentialSource(Settings settings, Clock clock) {
        this(settings, clock, SettingNames.FIELDS);
    }

    /** @param names how errors name a setting (the agent's flags) */
    public StsCredentialSource(Settings settings, Clock clock, SettingNames names) {
        this.settings = settings;
        this.clock = clock;
        this.names = names;
        StsClientBuilder builder = StsClient.builder()
                // The JDK's HttpURLConnection, not Apache HttpClient: an AssumeRole per role and hour needs no
                // pool of its own, and Apache's ~380 classes cost memory in every agent (docs/performance.md).
                // Its default proxy settings read HTTPS_PROXY/NO_PROXY and the https.proxy* properties, as Apache's did.
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .region(settings.region())
                .credentialsProvider(settings.credentials())
                .overrideConfiguration(o -> o
                        .apiCallTimeout(settings.callTimeout())
                        // The cache retries with its own backoff; one SDK retry covers a dropped connection.
                        .retryStrategy(b -> b.maxAttempts(2)));
        settings.endpoint().ifPresent(builder::endpointOverride);
        this.client = builder.build();
    }

    /** STS refuses a DurationSeconds over one hour for a session assumed with a session's credentials (role chaining). */
    static final Duration CHAINED_MAX = Duration.ofHours(1);

    /**
     * The pod's credentials: its role's, or with a target the target's, assumed with the role's credentials. A
     * chain's expiry is the earlier of its two links', so the cache refreshes the whole chain ahead of either.
     */
    @Override
    public Credentials assume(CredentialKey key) {
        if (key.target().isEmpty()) {
            return assumeOne(key, key.role(), key.externalId(), key.tags(), key.sessionPolicy(), settings.sessionDuration(), null);
        }
        Credentials first = assumeOne(key, key.role(), Optional.empty(), key.tags(), Optional.empty(), settings.sessionDuration(), null);
        // The target's session inherits the first one's tags, all transitive; STS refuses them when sent again.
        Duration targetDuration = settings.sessionDuration().compareTo(CHAINED_MAX) > 0 ? CHAINED_MAX : settings.sessionDuration();
        Credentials target = assumeOne(key, key.target().get(), key.externalId(), List.of(), key.sessionPolicy(), targetDuration, first);
        Instant expiration = first.expiration().isBefore(target.expiration()) ? first.expiration() : target.expiration();
        return new Credentials(target.accessKeyId(), target.secretAccessKey(), target.sessionToken(), expiration, target.lastUpdated());
    }

    /** One AssumeRole of {@code role}, signed with {@code as} (a chain's first link) or the agent's own credentials. */
    private Credentials assumeOne(CredentialKey key, RoleArn role, Optional<String> externalId, List<SessionTag> tags,
                                  Optional<String> policy, Duration duration, Credentials as) {
        String what = as == null ? "AssumeRole of " + role : "AssumeRole of target " + role + " with the credentials of " + key.role();
        try {
            AssumeRoleResponse response = client.assumeRole(request(key, role, externalId, tags, policy, duration, as));
            var c = response.credentials();
            return new Credentials(c.accessKeyId(), c.secretAccessKey(), c.sessionToken(), c.expiration(), clock.instant());
        } catch (StsException e) {
            throw refused(e, what, key, role, policy.isPresent(), as != null);
        } catch (SdkClientException e) {
            if (timedOut(e)) {
                throw new CredentialException(504, "Timeout", "STS did not answer " + what + " in time: " + e.getMessage(), e);
            }
            throw new CredentialException(503, "Unreachable", "STS could not be reached for " + what + ": " + e.getMessage(), e);
        }
    }

    private static AssumeRoleRequest request(CredentialKey key, RoleArn role, Optional<String> externalId, List<SessionTag> tags,
                                             Optional<String> policy, Duration duration, Credentials as) {
        AssumeRoleRequest.Builder request = AssumeRoleRequest.builder()
                .roleArn(role.text())
                .roleSessionName(key.sessionName())
                .durationSeconds((int) duration.toSeconds());
        externalId.ifPresent(request::externalId);
        policy.ifPresent(request::policy);
        if (!tags.isEmpty()) {
            request.tags(tags.stream().map(t -> Tag.builder().key(t.key()).value(t.value()).build()).toList())
                    .transitiveTagKeys(tags.stream().map(SessionTag::key).toList());
        }
        if (as != null) {
            request.overrideConfiguration(AwsRequestOverrideConfiguration.builder().credentialsProvider(StaticCredentialsProvider.create(
                    AwsSessionCredentials.create(as.accessKeyId(), as.secretAccessKey(), as.sessionToken()))).build());
        }
        return request.build();
    }

    /**
     * STS's refusal with its status for the pod, and where the cause is known, its fix. {@code chained}: the
     * second link of a chain, signed with the pod's first role.
     */
    private CredentialException refused(StsException e, String what, CredentialKey key, RoleArn role, boolean withPolicy, boolean chained) {
        String code = e.awsErrorDetails() == null ? "Unknown" : e.awsErrorDetails().errorCode();
        String message = e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage();
        // STS refusing (4xx) is a configuration problem: 500. STS failing (5xx, throttling) may pass: 503.
        // A session policy STS refuses is the pod's own mistake, as one refused before sending: 400.
        int status = e.statusCode() >= 500 || "Throttling".equals(code) ? 503
                : withPolicy && ("MalformedPolicyDocument".equals(code) || "PackedPolicyTooLarge".equals(code)) ? 400 : 500;
        String fix = "";
        if ("AccessDenied".equals(code) && message != null && message.contains("sts:TagSession")) {
            fix = ". Session tags are on (" + names.of(Setting.SESSION_TAGS) + "): either allow sts:TagSession next to"
                    + " sts:AssumeRole in the trust policy of " + role + ", or opt this pod or its namespace out with the annotation " + RoleSettings.SESSION_TAGS_KEY + ": \"false\"";
        } else if ("AccessDenied".equals(code) && chained) {
            // The second link of a chain: the node's role is not the caller here, the pod's first role is.
            fix = ". Fix: the trust policy of " + role + " must allow sts:AssumeRole by " + key.role()
                    + ", and " + key.role() + " must be allowed sts:AssumeRole on " + role + " by its own permissions";
        } else if (status == 400) {
            fix = ". Fix the pod's " + RoleSettings.SESSION_POLICY_KEY + " annotation (STS counts the policy and the session tags together)";
        }
        return new CredentialException(status, code, "STS refused " + what + ": " + code + ": " + message + fix, e, !fix.isEmpty());
    }

    /** A timeout anywhere in the call (the SDK's call or attempt timeout, or a socket read): 504, as docs/control.md says. */
    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ApiCallTimeoutException
                    || t instanceof ApiCallAttemptTimeoutException
                    || t instanceof SocketTimeoutException || t instanceof HttpTimeoutException) {
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
