package io.iamlet.agent.http.conn;

import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.Router;

import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * A connection as the gate hands it to Helidon's HTTP/1.1: everything the same but the bytes it reads, which
 * come from {@code source} and end (as if the client had closed) once {@link #closeAfterThisRequest()} was
 * called, and its remote peer, one {@link AcceptedPeer} for all its requests. Helidon 4 answers a request that says "Connection: close" with that header but keeps reading;
 * RFC 9112 (9.6) has the server close after its answer, which this does: the metadata API reads no request
 * body, so once a request's headers are in, the next read is for the next request.
 */
final class GatedContext implements ConnectionContext {
    private final ConnectionContext ctx;
    private final DataReader reader;
    private final AcceptedPeer remotePeer;
    private volatile boolean closing;

    GatedContext(ConnectionContext ctx, Supplier<byte[]> source) {
        this.ctx = ctx;
        this.reader = new DataReader(() -> closing ? null : source.get());
        this.remotePeer = new AcceptedPeer(ctx.remotePeer());
    }

    /** The connection ends after the answer to the request being read. */
    void closeAfterThisRequest() {
        closing = true;
    }

    /** The connection's bytes as they come, for a request Helidon reads unchanged. */
    static Supplier<byte[]> passThrough(DataReader reader) {
        return () -> {
            reader.ensureAvailable();
            return reader.readBytes(reader.available());
        };
    }

    @Override
    public DataReader dataReader() {
        return reader;
    }

    @Override
    public ListenerContext listenerContext() {
        return ctx.listenerContext();
    }

    @Override
    public ExecutorService executor() {
        return ctx.executor();
    }

    @Override
    public DataWriter dataWriter() {
        return ctx.dataWriter();
    }

    @Override
    public Router router() {
        return ctx.router();
    }

    @Override
    public Optional<ProxyProtocolData> proxyProtocolData() {
        return ctx.proxyProtocolData();
    }

    @Override
    public HelidonSocket serverSocket() {
        return ctx.serverSocket();
    }

    @Override
    public PeerInfo remotePeer() {
        return remotePeer;
    }

    @Override
    public PeerInfo localPeer() {
        return ctx.localPeer();
    }

    @Override
    public boolean isSecure() {
        return ctx.isSecure();
    }

    @Override
    public String socketId() {
        return ctx.socketId();
    }

    @Override
    public String childSocketId() {
        return ctx.childSocketId();
    }
}
