package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Map;

/**
 * What iamlet needs to know of a pod, copied out of the informer's object.
 *
 * @param serviceAccount spec.serviceAccountName, {@code default} when empty (what Kubernetes itself assumes)
 */
public record PodInfo(String namespace, String name, String uid, List<String> ips, String phase, boolean deleting,
                      boolean hostNetwork, Map<String, String> annotations, String serviceAccount) {
    public static final String DEFAULT_SERVICE_ACCOUNT = "default";

    public PodInfo {
        ips = List.copyOf(ips);
        annotations = Map.copyOf(annotations);
        serviceAccount = serviceAccount == null || serviceAccount.isBlank() ? DEFAULT_SERVICE_ACCOUNT : serviceAccount;
    }

    /** A pod of the default service account. */
    public PodInfo(String namespace, String name, String uid, List<String> ips, String phase, boolean deleting,
                   boolean hostNetwork, Map<String, String> annotations) {
        this(namespace, name, uid, ips, phase, deleting, hostNetwork, annotations, DEFAULT_SERVICE_ACCOUNT);
    }

    /** The same pod with other annotations. */
    public PodInfo withAnnotations(Map<String, String> replaced) {
        return new PodInfo(namespace, name, uid, ips, phase, deleting, hostNetwork, replaced, serviceAccount);
    }

    /**
     * A pod that can still own its IP: not finished, not being deleted. A finished pod's IP may already
     * belong to a new pod, so it must never hand out its role.
     */
    public boolean live() {
        return !deleting && !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    /** Whether one of the pod's IPs is {@code ip}, in whatever spelling either was written. */
    public boolean hasIp(String ip) {
        String wanted = IpAddresses.normalize(ip);
        return ips.stream().map(IpAddresses::normalize).anyMatch(wanted::equals);
    }

    public String key() {
        return namespace + "/" + name;
    }

    @Override
    public String toString() {
        return key() + (uid == null ? "" : " (uid " + uid + ")");
    }

    /** What the agent keeps of a Pod: its dual-stack IPs (podIPs, else podIP), phase, deletion, network and annotations. */
    public static PodInfo of(Pod pod) {
        List<String> ips = new ArrayList<>();
        if (pod.getStatus() != null) {
            if (pod.getStatus().getPodIPs() != null) {
                pod.getStatus().getPodIPs().stream().map(PodIP::getIp).filter(Objects::nonNull).forEach(ips::add);
            }
            if (ips.isEmpty() && pod.getStatus().getPodIP() != null) {
                ips.add(pod.getStatus().getPodIP());
            }
        }
        var meta = pod.getMetadata();
        return new PodInfo(meta.getNamespace(), meta.getName(), meta.getUid(), ips,
                pod.getStatus() == null ? null : pod.getStatus().getPhase(),
                meta.getDeletionTimestamp() != null,
                pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork()),
                meta.getAnnotations() == null ? Map.of() : meta.getAnnotations(),
                pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName());
    }
}
