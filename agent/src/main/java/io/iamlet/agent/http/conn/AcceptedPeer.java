package io.iamlet.agent.http.conn;

import io.helidon.common.socket.PeerInfo;
import io.iamlet.control.pods.PodCgroups;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.Principal;
import java.security.cert.Certificate;
import java.util.Optional;
import java.util.function.Function;

/**
 * The remote end of one accepted connection, as each of its requests sees it: Helidon's peer, plus what the
 * kernel said of the connection, asked once for the connection rather than once per request. The owners
 * entry cannot change while the connection is open (the sock_ops program writes it before the client's SYN
 * and deletes it at TCP_CLOSE), and a cgroup's pod cannot change either (cgroup ids are not reused), so
 * every request on a keep-alive connection has the first request's answer without a bpf(2) call.
 */
public final class AcceptedPeer implements PeerInfo {
    private final PeerInfo peer;
    /** Null until the first request asked; then the kernel's answer for the whole connection. */
    private volatile Optional<PodCgroups.Owner> kernelOwner;

    AcceptedPeer(PeerInfo peer) {
        this.peer = peer;
    }

    /** Who opened the connection as the kernel says it: asked of {@code lookup} once, then remembered. */
    public Optional<PodCgroups.Owner> kernelOwner(Function<InetSocketAddress, Optional<PodCgroups.Owner>> lookup) {
        Optional<PodCgroups.Owner> known = kernelOwner;
        if (known == null) {
            // A connection's requests are read one after another on its own thread: no two ask at once.
            known = peer.address() instanceof InetSocketAddress address ? lookup.apply(address) : Optional.empty();
            kernelOwner = known;
        }
        return known;
    }

    @Override
    public SocketAddress address() {
        return peer.address();
    }

    @Override
    public String host() {
        return peer.host();
    }

    @Override
    public int port() {
        return peer.port();
    }

    @Override
    public Optional<Principal> tlsPrincipal() {
        return peer.tlsPrincipal();
    }

    @Override
    public Optional<Certificate[]> tlsCertificates() {
        return peer.tlsCertificates();
    }
}
