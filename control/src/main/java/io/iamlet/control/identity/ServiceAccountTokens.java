package io.iamlet.control.identity;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.settings.SettingNames;

import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * What the broker needs to answer by service-account token: the token's check and the annotations of its
 * ServiceAccount (a role for pods without one of their own).
 */
public record ServiceAccountTokens(TokenVerifier verifier, ServiceAccountAnnotations serviceAccounts) {
    /** Kubelets and API servers keep time with NTP; this much disagreement is tolerated on exp/nbf. */
    public static final Duration CLOCK_SKEW = Duration.ofSeconds(30);
    /** How long a read of the issuer keys may take. */
    public static final Duration API_TIMEOUT = Duration.ofSeconds(5);
    /** How long a ServiceAccount's annotations are reused before they are read again. */
    public static final Duration SERVICE_ACCOUNT_TTL = Duration.ofSeconds(30);

    /** Tokens with one of {@code audiences}, checked as {@code mode} says, against the cluster behind {@code kube}. */
    public static ServiceAccountTokens of(KubernetesClient kube, Set<String> audiences, TokenVerifier.Mode mode, Clock clock) {
        return of(kube, audiences, mode, clock, SettingNames.FIELDS);
    }

    /** As {@link #of(KubernetesClient, Set, TokenVerifier.Mode, Clock)}; refusals name settings as {@code names} does. */
    public static ServiceAccountTokens of(KubernetesClient kube, Set<String> audiences, TokenVerifier.Mode mode, Clock clock,
                                          SettingNames names) {
        return new ServiceAccountTokens(new TokenVerifier(kube, new TokenVerifier.Settings(audiences, mode, CLOCK_SKEW, API_TIMEOUT, names),
                clock),
                new ServiceAccountAnnotations(kube, SERVICE_ACCOUNT_TTL, clock));
    }
}
