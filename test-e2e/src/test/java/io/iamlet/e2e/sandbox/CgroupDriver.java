package io.iamlet.e2e.sandbox;

import java.nio.file.Path;
import java.util.Locale;

/** How the kubelet names a pod's cgroups under the pods' cgroup, per its cgroup driver. */
public enum CgroupDriver {
    /** {@code kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope} */
    SYSTEMD,
    /** {@code burstable/pod<uid>/<id>} */
    CGROUPFS;

    /** A container's cgroup, relative to the pods' cgroup; {@code qos} "guaranteed" has no QoS level, as the kubelet does. */
    public Path container(String podUid, String qos, String containerId) {
        String level = qos.toLowerCase(Locale.ROOT);
        return switch (this) {
            case SYSTEMD -> {
                String pod = (level.equals("guaranteed") ? "kubepods-pod" : "kubepods-" + level + "-pod") + podUid.replace('-', '_') + ".slice";
                Path slice = level.equals("guaranteed") ? Path.of(pod) : Path.of("kubepods-" + level + ".slice", pod);
                yield slice.resolve("cri-containerd-" + containerId + ".scope");
            }
            case CGROUPFS -> (level.equals("guaranteed") ? Path.of("pod" + podUid) : Path.of(level, "pod" + podUid)).resolve(containerId);
        };
    }
}
