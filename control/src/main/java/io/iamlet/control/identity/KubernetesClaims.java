package io.iamlet.control.identity;

import com.nimbusds.jwt.JWTClaimsSet;

import java.text.ParseException;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code kubernetes.io} claim of a projected service-account token: namespace, service account, and the
 * pod the token is bound to. A token without a pod (a legacy secret token, or one made by TokenRequest for
 * the service account alone) proves no pod and is refused.
 */
final class KubernetesClaims {
    private static final String CLAIM = "kubernetes.io";
    private static final String SUBJECT_PREFIX = "system:serviceaccount:";

    private KubernetesClaims() {
    }

    /** The identity the claims name, or why they name none. */
    static Result parse(JWTClaimsSet claims) {
        Map<String, Object> k8s;
        try {
            k8s = claims.getJSONObjectClaim(CLAIM);
        } catch (ParseException e) {
            return new Result.Bad("the " + CLAIM + " claim is not an object");
        }
        if (k8s == null) {
            return new Result.Bad("no " + CLAIM + " claim: not a projected service-account token");
        }
        Optional<String> namespace = text(k8s.get("namespace"));
        Optional<String> account = text(field(k8s, "serviceaccount", "name"));
        Optional<String> podName = text(field(k8s, "pod", "name"));
        Optional<String> podUid = text(field(k8s, "pod", "uid"));
        if (namespace.isEmpty() || account.isEmpty()) {
            return new Result.Bad("the " + CLAIM + " claim names no namespace or service account");
        }
        if (podName.isEmpty() || podUid.isEmpty()) {
            return new Result.Bad("the token is not bound to a pod (no " + CLAIM + " pod name and uid): use a projected"
                    + " serviceAccountToken volume");
        }
        String expectedSubject = SUBJECT_PREFIX + namespace.get() + ":" + account.get();
        if (!expectedSubject.equals(claims.getSubject())) {
            return new Result.Bad("subject '" + claims.getSubject() + "' does not match the " + CLAIM + " claim ("
                    + expectedSubject + ")");
        }
        return new Result.Good(new PodIdentity(namespace.get(), account.get(), podName.get(), podUid.get(),
                PodIdentity.CheckedBy.SIGNATURE));
    }

    /** {@code system:serviceaccount:NS:NAME} split, for TokenReview's user name. */
    static Optional<String[]> splitServiceAccount(String username) {
        if (username == null || !username.startsWith(SUBJECT_PREFIX)) {
            return Optional.empty();
        }
        String[] parts = username.substring(SUBJECT_PREFIX.length()).split(":", -1);
        return parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() ? Optional.of(parts) : Optional.empty();
    }

    private static Object field(Map<String, Object> k8s, String object, String name) {
        return k8s.get(object) instanceof Map<?, ?> m ? m.get(name) : null;
    }

    private static Optional<String> text(Object o) {
        return o instanceof String s && !s.isBlank() ? Optional.of(s) : Optional.empty();
    }

    sealed interface Result {
        record Good(PodIdentity identity) implements Result {
        }

        record Bad(String reason) implements Result {
        }
    }
}
