package io.iamlet.agent.http;

import io.iamlet.redirect.ebpf.ConnectionOwners;
import io.iamlet.control.pods.PodCgroups;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Who is calling, as the kernel says (eBPF backend): the owners map the sock_ops program fills gives the
 * cgroup that made the connection, and the kubelet's cgroup names give its pod. The map is opened when the
 * install has pinned it; until then, and for connections the kernel did not record (processes outside the
 * pods' cgroup), there is no answer and the address decides, as with the netfilter backends.
 */
public final class KernelIdentity implements AutoCloseable {
    private final Path pinDir;
    private final PodCgroups cgroups;
    private volatile ConnectionOwners owners;

    public KernelIdentity(Path pinDir, Path podCgroup) {
        this.pinDir = pinDir;
        this.cgroups = new PodCgroups(podCgroup);
    }

    /** The pod (or no pod) whose cgroup opened the connection from {@code peer}, if the kernel recorded it. */
    public Optional<PodCgroups.Owner> of(InetSocketAddress peer) {
        ConnectionOwners map = owners();
        if (map == null) {
            return Optional.empty();
        }
        OptionalLong cgroup = map.cgroupOf(peer.getAddress(), peer.getPort());
        return cgroup.isPresent() ? Optional.of(cgroups.owner(cgroup.getAsLong())) : Optional.empty();
    }

    private ConnectionOwners owners() {
        ConnectionOwners map = owners;
        if (map == null) {
            synchronized (this) {
                if (owners == null) {
                    owners = ConnectionOwners.open(pinDir).orElse(null);
                }
                map = owners;
            }
        }
        return map;
    }

    @Override
    public synchronized void close() {
        if (owners != null) {
            owners.close();
            owners = null;
        }
    }
}
