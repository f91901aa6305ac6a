package io.iamlet.control.pods;

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

    /** What the agent keeps of a pod: its dual-stack IPs (podIPs, else podIP), phase, deletion, network and annotations. */
    public static PodInfo of(SlimPod pod) {
        List<String> ips = new ArrayList<>();
        SlimPod.Status status = pod.status();
        if (status != null) {
            if (status.podIPs() != null) {
                status.podIPs().stream().filter(Objects::nonNull).map(SlimPod.Address::ip).filter(Objects::nonNull).forEach(ips::add);
            }
            if (ips.isEmpty() && status.podIP() != null) {
                ips.add(status.podIP());
            }
        }
        var meta = pod.getMetadata();
        SlimPod.Spec spec = pod.spec();
        return new PodInfo(meta.getNamespace(), meta.getName(), meta.getUid(), ips,
                status == null ? null : status.phase(),
                meta.getDeletionTimestamp() != null,
                spec != null && Boolean.TRUE.equals(spec.hostNetwork()),
                meta.getAnnotations() == null ? Map.of() : meta.getAnnotations(),
                spec == null ? null : spec.serviceAccountName());
    }
}
