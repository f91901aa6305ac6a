package io.iamlet.control.policy;

import io.iamlet.control.pods.PodInfo;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The role annotations of a pod's ServiceAccount, as a fallback for pods without a role of their own: the pod's
 * annotation wins. That is what an EKS Pod Identity association is: a role (and its target, session policy and
 * tag setting) for a service account. The pod is then judged by {@link RolePolicy} exactly as if it carried the
 * annotations itself (namespace restrictions included). Used by the container-credentials endpoint only: there
 * the token proves the service account; the IMDS path knows a pod only by its address.
 */
public final class ServiceAccountRole {
    private ServiceAccountRole() {
    }

    /** Whether the pod names a role itself, so its ServiceAccount need not be read. */
    public static boolean podHasRole(PodInfo pod, String roleKey) {
        String own = pod.annotations().get(roleKey);
        return own != null && !own.isBlank();
    }

    /** The pod as the policy should see it: with the ServiceAccount's role when it names none itself. */
    public static PodInfo apply(PodInfo pod, Map<String, String> serviceAccountAnnotations, String roleKey) {
        return apply(pod, serviceAccountAnnotations, roleKey, List.of(roleKey));
    }

    /**
     * As {@link #apply(PodInfo, Map, String)}, and the ServiceAccount's other annotations among {@code keys}
     * (external id, target role, session policy, session tags) fill those the pod does not set itself.
     */
    public static PodInfo apply(PodInfo pod, Map<String, String> serviceAccountAnnotations, String roleKey, List<String> keys) {
        String inherited = serviceAccountAnnotations.get(roleKey);
        if (podHasRole(pod, roleKey) || inherited == null || inherited.isBlank()) {
            return pod;
        }
        Map<String, String> annotations = new HashMap<>(pod.annotations());
        for (String key : keys) {
            String value = serviceAccountAnnotations.get(key);
            if (value != null && !value.isBlank()) {
                annotations.putIfAbsent(key, value);
            }
        }
        annotations.put(roleKey, inherited);
        return pod.withAnnotations(annotations);
    }
}
