package io.iamlet.control;

import io.iamlet.control.pods.PodCgroups;

import java.util.Optional;

/**
 * Who asks the metadata API, as far as the server knows: the source address; the pod uid an IMDSv2 token was
 * bound to, when the request carried one; and the pod the kernel named by the connection's cgroup (eBPF backend),
 * when it named one.
 */
public record Caller(String ip, Optional<String> tokenPodUid, Optional<PodCgroups.Owner> kernel) {
    /** A caller known by its address only. */
    public static Caller at(String ip) {
        return new Caller(ip, Optional.empty(), Optional.empty());
    }
}
