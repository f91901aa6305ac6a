package io.iamlet.control.pods;

import java.util.List;
import java.util.Map;

/** What iamlet needs to know of a pod, copied out of the informer's object. */
public record PodInfo(String namespace, String name, String uid, List<String> ips, String phase, boolean deleting,
                      boolean hostNetwork, Map<String, String> annotations) {
    public PodInfo {
        ips = List.copyOf(ips);
        annotations = Map.copyOf(annotations);
    }

    /**
     * A pod that can still own its IP: not finished, not being deleted. A finished pod's IP may already
     * belong to a new pod, so it must never hand out its role.
     */
    public boolean live() {
        return !deleting && !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    public String key() {
        return namespace + "/" + name;
    }

    @Override
    public String toString() {
        return key() + (uid == null ? "" : " (uid " + uid + ")");
    }
}
