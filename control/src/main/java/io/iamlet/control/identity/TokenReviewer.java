package io.iamlet.control.identity;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Asks the API server whether a token is good ({@code POST /apis/authentication.k8s.io/v1/tokenreviews}): for
 * clusters whose keys cannot be read, or when every token should be checked where it was issued. Needs RBAC
 * {@code create} on {@code tokenreviews} (the ClusterRole system:auth-delegator has it).
 */
final class TokenReviewer {
    static final String POD_NAME = "authentication.kubernetes.io/pod-name";
    static final String POD_UID = "authentication.kubernetes.io/pod-uid";

    private final KubernetesClient kube;
    private final Set<String> audiences;

    TokenReviewer(KubernetesClient kube, Set<String> audiences) {
        this.kube = kube;
        this.audiences = audiences;
    }

    TokenCheck review(String token) {
        TokenReview request = new TokenReviewBuilder().withNewSpec().withToken(token).withAudiences(List.copyOf(audiences))
                .endSpec().build();
        TokenReview answer;
        try {
            answer = kube.tokenReviews().create(request);
        } catch (KubernetesClientException e) {
            return new TokenCheck.Unavailable("TokenReview failed (HTTP " + e.getCode() + "): " + e.getMessage()
                    + (e.getCode() == 403 ? " (the agent needs RBAC create on tokenreviews)" : ""));
        }
        TokenReviewStatus status = answer == null ? null : answer.getStatus();
        if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
            String error = status == null || status.getError() == null || status.getError().isBlank() ? "not authenticated" : status.getError();
            return new TokenCheck.Rejected("the API server's TokenReview refused the token: " + error);
        }
        List<String> granted = status.getAudiences() == null ? List.of() : status.getAudiences();
        if (granted.stream().noneMatch(audiences::contains)) {
            return new TokenCheck.Rejected("the token is not for audience " + audiences + " (TokenReview granted " + granted + ")");
        }
        UserInfo user = status.getUser();
        Optional<String[]> account = KubernetesClaims.splitServiceAccount(user == null ? null : user.getUsername());
        if (account.isEmpty()) {
            return new TokenCheck.Rejected("the token is not a service account's (user " + (user == null ? null : user.getUsername()) + ")");
        }
        Map<String, List<String>> extra = user.getExtra() == null ? Map.of() : user.getExtra();
        Optional<String> podName = single(extra.get(POD_NAME));
        Optional<String> podUid = single(extra.get(POD_UID));
        if (podName.isEmpty() || podUid.isEmpty()) {
            return new TokenCheck.Rejected("the token is not bound to a pod (TokenReview names no pod): use a projected"
                    + " serviceAccountToken volume");
        }
        return new TokenCheck.Verified(new PodIdentity(account.get()[0], account.get()[1], podName.get(), podUid.get(),
                PodIdentity.CheckedBy.TOKEN_REVIEW));
    }

    private static Optional<String> single(List<String> values) {
        return values != null && values.size() == 1 && !values.getFirst().isBlank() ? Optional.of(values.getFirst()) : Optional.empty();
    }
}
