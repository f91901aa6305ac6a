package io.iamlet.control.policy;

import io.iamlet.control.pods.PodInfo;

import java.util.HashMap;
import java.util.Map;

/**
 * The role annotation of a pod's ServiceAccount, as a fallback for pods without one of their own: the pod's
 * annotation wins. The pod is then judged by {@link RolePolicy} exactly as if it carried the annotation itself
 * (namespace restrictions included). Used by the container-credentials endpoint only: there the token proves
 * the service account; the IMDS path knows a pod only by its address.
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
        String inherited = serviceAccountAnnotations.get(roleKey);
        if (podHasRole(pod, roleKey) || inherited == null || inherited.isBlank()) {
            return pod;
        }
        Map<String, String> annotations = new HashMap<>(pod.annotations());
        annotations.put(roleKey, inherited);
        return new PodInfo(pod.namespace(), pod.name(), pod.uid(), pod.ips(), pod.phase(), pod.deleting(), pod.hostNetwork(),
                annotations);
    }
}
