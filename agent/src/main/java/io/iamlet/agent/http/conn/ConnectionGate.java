package io.iamlet.agent.http.conn;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.webserver.ProtocolConfigs;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionProvider;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * The only connection selector of a listener, in front of Helidon's HTTP/1.1: it sees every connection as
 * it is accepted (with one selector, Helidon hands the connection over before reading a byte), so it can
 * <ul>
 *   <li>cap the connections one source address holds (a pod's, after DNAT: the kernel's word), answering
 *       429 as IMDS does when it throttles, then closing;</li>
 *   <li>bound the time to a connection's first request line ({@link RequestDeadlines}; the headers of every
 *       request are bounded by the same deadlines through Helidon's receive listener);</li>
 *   <li>answer HTTP/1.0 requests ({@link Http10}), which Helidon 4 closes without a word.</li>
 * </ul>
 */
public final class ConnectionGate implements ServerConnectionSelector {
    /**
     * Sent before the request is read, so it must do for both APIs on the port: JSON with a throttling code, which
     * the container-credentials SDKs retry (Go v2 aws/retry/standard.go DefaultThrottleErrorCodes; botocore and JS
     * retry any failure), while IMDS clients look only at the status.
     */
    private static final byte[] TOO_MANY = answer("429 Too Many Requests", "application/json",
            "{\"code\":\"TooManyRequestsException\",\"message\":\"this address holds too many connections"
                    + " (--max-connections-per-source): retry shortly\"}");

    private final ServerConnectionSelector http1;
    private final RequestDeadlines deadlines;
    private final int perSource;
    private final int maxHead;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();
    private final LongAdder refused = new LongAdder();

    public ConnectionGate(String listener, Http1Config http1Config, RequestDeadlines deadlines, int perSource) {
        this.http1 = new Http1ConnectionProvider().create(listener, http1Config, ProtocolConfigs.create(List.of(http1Config)));
        this.deadlines = deadlines;
        this.perSource = perSource;
        this.maxHead = http1Config.maxPrologueLength() + http1Config.maxHeadersSize();
    }

    /** A whole answer that closes the connection, for the gate's own refusals (no request was parsed). */
    static byte[] plainAnswer(String status, String reason) {
        return answer(status, "text/plain", status + ": " + reason);
    }

    private static byte[] answer(String status, String contentType, String body) {
        return ("HTTP/1.1 " + status + "\r\nServer: EC2ws\r\nContent-Type: " + contentType + "\r\nConnection: close\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }

    /** Connections refused because their source address held too many. */
    public long refused() {
        return refused.sum();
    }

    @Override
    public int bytesToIdentifyConnection() {
        return 0;
    }

    @Override
    public Support supports(BufferData data) {
        return Support.SUPPORTED;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return http1.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        InetAddress source = ctx.remotePeer().address() instanceof InetSocketAddress a ? a.getAddress() : null;
        if (source != null) {
            // merge() counts atomically per address, against the removal at zero in release().
            Integer n = open.merge(source, 1, Integer::sum);
            if (n > perSource) {
                release(source);
                refused.increment();
                return new Refused(ctx);
            }
        }
        return new Gated(ctx, source);
    }

    private void release(InetAddress source) {
        // Remove the counter at zero so that the map holds only addresses with open connections.
        open.computeIfPresent(source, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Over the cap: 429 and close, without reading the request. */
    private static final class Refused implements ServerConnection {
        private final ConnectionContext ctx;

        Refused(ConnectionContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void handle(Limit limit) {
            ctx.dataWriter().writeNow(BufferData.create(TOO_MANY));
        }

        @Override
        public void handle(Semaphore semaphore) {
            handle((Limit) null);
        }

        @Override
        public Duration idleTime() {
            return Duration.ZERO;
        }

        @Override
        public void close(boolean interrupt) {
        }
    }

    /** A counted connection: waits (bounded) for its first request line, then is Helidon's HTTP/1.1 connection. */
    private final class Gated implements ServerConnection {
        private final ConnectionContext ctx;
        private final InetAddress source;
        private final long accepted = System.nanoTime();
        private volatile Thread thread;
        private volatile ServerConnection delegate;

        Gated(ConnectionContext ctx, InetAddress source) {
            this.ctx = ctx;
            this.source = source;
        }

        @Override
        public void handle(Semaphore semaphore) throws InterruptedException {
            run(null, semaphore);
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            run(limit, null);
        }

        private void run(Limit limit, Semaphore semaphore) throws InterruptedException {
            thread = Thread.currentThread();
            try {
                ConnectionContext served;
                try {
                    served = firstRequestLine();
                } catch (DataReader.InsufficientDataAvailableException closedByClient) {
                    return; // the client went away before a request: nothing to answer
                }
                ServerConnection connection = http1.connection(served);
                delegate = connection;
                if (limit != null) {
                    connection.handle(limit);
                } else {
                    connection.handle(semaphore);
                }
            } finally {
                deadlines.cancel();
                if (source != null) {
                    release(source);
                }
            }
        }

        /**
         * Waits for the first request line within the deadline. HTTP/1.1 requests go on untouched (only looked
         * at); an HTTP/1.0 request is handed on as the HTTP/1.1 request it means, which closes.
         */
        private ConnectionContext firstRequestLine() {
            DataReader reader = ctx.dataReader();
            deadlines.start();
            int lf;
            while (true) {
                int available = reader.available();
                if (available == 0) {
                    reader.ensureAvailable();
                    continue;
                }
                lf = reader.getBuffer(available).indexOf((byte) '\n');
                if (lf >= 0 || available > maxHead) {
                    break;
                }
                reader.pullData();
            }
            if (lf < 0 || !Http10.isRequestLine(reader.getBuffer(lf + 1))) {
                deadlines.finish();
                return new GatedContext(ctx, GatedContext.passThrough(reader));
            }
            // HTTP/1.0: the head is looked at here, still under the deadline.
            GatedContext asHttp11 = new GatedContext(ctx, Http10.asHttp11(reader, lf, maxHead));
            deadlines.finish();
            return asHttp11;
        }

        @Override
        public Duration idleTime() {
            ServerConnection d = delegate;
            return d != null ? d.idleTime() : Duration.ofNanos(System.nanoTime() - accepted);
        }

        @Override
        public void close(boolean interrupt) {
            ServerConnection d = delegate;
            if (d != null) {
                d.close(interrupt);
            } else if (thread != null) {
                // Still waiting for the first request line: nothing to finish, the socket can go.
                thread.interrupt();
            }
        }
    }
}
