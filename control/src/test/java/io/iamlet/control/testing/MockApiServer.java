package io.iamlet.control.testing;

import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * fabric8's mock API server in CRUD mode, with one gap filled: its CRUD store filters only on metadata
 * fields, so a {@code fieldSelector=spec.nodeName=...} would match nothing. The wrapper counts those
 * requests (so tests can prove the agent asks for its node's pods only) and drops the selector, letting
 * the agent's own node check keep other nodes' pods out, as it would if an API server ignored it.
 */
public final class MockApiServer implements AutoCloseable {
    private static final Pattern NODE_SELECTOR = Pattern.compile("fieldSelector=spec\\.nodeName%3D[^&]*&?|fieldSelector=spec\\.nodeName=[^&]*&?");

    private final KubernetesMockServer server;
    private final NamespacedKubernetesClient client;
    private final AtomicInteger nodeSelected = new AtomicInteger();
    private final AtomicReference<String> lastAuthorization = new AtomicReference<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /**
     * One request as the server received it, before the field selector is dropped; {@code nanos}: System.nanoTime() on
     * arrival at the dispatcher; {@code dispatchNanos}: the server's own time to build the answer (a delayed body not included).
     */
    public record Request(String authorization, String method, String path, long nanos, long dispatchNanos) {
        public boolean watch() {
            return path.contains("watch=true");
        }

        /** A read of pods that is not a watch: a GET of one pod or a list (the informer's or a lookup's). */
        public boolean podRead() {
            return "GET".equals(method) && !watch() && path.split("\\?")[0].matches(".*/pods(/[^/]+)?");
        }
    }
    private final Set<WebSocket> openWatches = ConcurrentHashMap.newKeySet();
    private final FakeTokenIssuer tokens = new FakeTokenIssuer();

    private volatile boolean refuseWatches;
    private volatile PodGetHold podGetHold;
    private volatile boolean unavailable;
    private volatile Duration readDelay = Duration.ZERO;
    private volatile Duration watchDelay = Duration.ZERO;
    private final ScheduledExecutorService lateEvents = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("mock-api-late-events").factory());

    private MockApiServer(InetAddress address, int port) {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                long arrived = System.nanoTime();
                try {
                    return answer(request);
                } finally {
                    requests.add(new Request(request.getHeaders().get("Authorization"), request.method().name(), request.getPath(), arrived,
                            System.nanoTime() - arrived));
                }
            }

            private MockResponse answer(RecordedRequest request) {
                String path = request.getPath();
                lastAuthorization.set(request.getHeaders().get("Authorization"));
                boolean watch = path.contains("watch=true");
                PodGetHold hold = podGetHold;
                if (hold != null && "GET".equals(request.getMethod()) && !watch && path.split("\\?")[0].matches(".*/pods/[^/]+")) {
                    hold.hold();
                }
                if (watch && refuseWatches) {
                    return new MockResponse().setResponseCode(503).setBody("watches refused by the test");
                }
                if (unavailable) {
                    return new MockResponse().setResponseCode(503).setBody("unavailable (test)");
                }
                MockResponse issuer = tokens.dispatch(request);
                if (issuer != null) {
                    return issuer;
                }
                if (NODE_SELECTOR.matcher(path).find()) {
                    nodeSelected.incrementAndGet();
                    String stripped = NODE_SELECTOR.matcher(path).replaceAll("").replaceAll("[?&]$", "");
                    request = new RecordedRequest(request.getHttpVersion(), request.method(), stripped, request.getHeaders(), request.getBody());
                }
                MockResponse response = crud.dispatch(request);
                if (watch && response.getWebSocketListener() != null) {
                    // Events leave late (when asked) through the real socket, which TrackedWatch can drop.
                    var events = watchDelay.isZero() ? response.getWebSocketListener() : new LateEvents(response.getWebSocketListener(), watchDelay);
                    response.withWebSocketUpgrade(new TrackedWatch(events));
                }
                Duration delay = readDelay;
                // The mock server answers on one thread: a delayed body holds this answer, not the others.
                return !watch && "GET".equals(request.getMethod()) && !delay.isZero() ? response.setBodyDelay(delay) : response;
            }
        };
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init(address, port);
        client = server.createClient();
    }

    public static MockApiServer start() {
        return new MockApiServer(InetAddress.getLoopbackAddress(), 0);
    }

    public static MockApiServer start(InetAddress address, int port) {
        return new MockApiServer(address, port);
    }

    public NamespacedKubernetesClient client() {
        return client;
    }

    /** The server's URL, for a kubeconfig or --api-server. */
    public String url() {
        return client.getMasterUrl().toString();
    }

    /** The cluster's service-account token issuer: signed tokens, discovery, JWKS and TokenReview. */
    public FakeTokenIssuer tokens() {
        return tokens;
    }

    /** How many list/watch requests asked for one node's pods with a spec.nodeName field selector. */
    public int nodeSelectorRequests() {
        return nodeSelected.get();
    }

    /** Every request so far, in order: what a client asked of the API (the e2e tests derive RBAC rules from it). */
    public List<Request> requests() {
        // Recorded as each answer is built: concurrent ones may finish out of their order of arrival.
        return requests.stream().sorted(java.util.Comparator.comparingLong(Request::nanos)).toList();
    }

    /** Refuses (503) every watch request from now on, as an API server or proxy that cannot hold watches open would. */
    public void refuseWatches(boolean refuse) {
        refuseWatches = refuse;
    }

    /**
     * Closes every open watch, as an API server that restarts does; with {@link #refuseWatches} the clients
     * cannot start new ones.
     */
    public void dropWatches() {
        openWatches.forEach(w -> w.close(1001, "dropped by the test"));
    }

    /** The CRUD dispatcher's watch listener, with its socket remembered so that {@link #dropWatches} can close it. */
    private final class TrackedWatch extends WebSocketListener {
        private final WebSocketListener inner;

        TrackedWatch(WebSocketListener inner) {
            this.inner = inner;
        }

        @Override
        public void onBeforeAccept(WebSocket ws, Response response) {
            inner.onBeforeAccept(ws, response);
        }

        @Override
        public void onOpen(WebSocket ws, Response response) {
            openWatches.add(ws);
            inner.onOpen(ws, response);
        }

        @Override
        public void onMessage(WebSocket ws, String text) {
            inner.onMessage(ws, text);
        }

        @Override
        public void onMessage(WebSocket ws, ByteString bytes) {
            inner.onMessage(ws, bytes);
        }

        @Override
        public void onMessage(WebSocket ws, byte[] bytes) {
            inner.onMessage(ws, bytes);
        }

        @Override
        public void onClosing(WebSocket ws, int code, String reason) {
            openWatches.remove(ws);
            inner.onClosing(ws, code, reason);
        }

        @Override
        public void onClosed(WebSocket ws, int code, String reason) {
            openWatches.remove(ws);
            inner.onClosed(ws, code, reason);
        }

        @Override
        public void onFailure(WebSocket ws, Throwable t, Response response) {
            openWatches.remove(ws);
            inner.onFailure(ws, t, response);
        }
    }

    /**
     * Holds every GET of one pod (not lists, not watches) until the hold is closed: a read as slow as a test
     * needs, without a clock. The server answers on one thread, so other requests queue behind a held one.
     */
    public PodGetHold holdPodGets() {
        PodGetHold hold = new PodGetHold();
        podGetHold = hold;
        return hold;
    }

    /** See {@link #holdPodGets}. */
    public final class PodGetHold implements AutoCloseable {
        private final CountDownLatch release = new CountDownLatch(1);
        private final AtomicInteger held = new AtomicInteger();

        private void hold() {
            held.incrementAndGet();
            try {
                if (!release.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a test held a GET for a minute and never released it");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** GETs that reached the server and are held (or were, before the release). */
        public int held() {
            return held.get();
        }

        @Override
        public void close() {
            podGetHold = null;
            release.countDown();
        }
    }

    /** Delays every GET that is not a watch (reads and lists) by this much: a slow or stuck API server. */
    public void delayReads(Duration delay) {
        readDelay = delay;
    }

    /**
     * Delivers every watch event this much later than it happened, while lists and GETs stay current: an API
     * server whose watch cache lags, or a slow network path for the watch's stream.
     */
    public void delayWatchEvents(Duration delay) {
        watchDelay = delay;
    }

    /** The CRUD store's watch listener, handed a socket that sends each event (and the close) after a delay, in order. */
    private final class LateEvents extends WebSocketListener {
        private final WebSocketListener events;
        private final Duration delay;
        private WebSocket late;

        LateEvents(WebSocketListener events, Duration delay) {
            this.events = events;
            this.delay = delay;
        }

        private synchronized WebSocket late(WebSocket socket) {
            if (late == null) {
                late = new WebSocket() {
                    @Override
                    public RecordedRequest request() {
                        return socket.request();
                    }

                    @Override
                    public boolean send(String text) {
                        lateEvents.schedule(() -> socket.send(text), delay.toMillis(), TimeUnit.MILLISECONDS);
                        return true;
                    }

                    @Override
                    public boolean send(byte[] bytes) {
                        lateEvents.schedule(() -> socket.send(bytes), delay.toMillis(), TimeUnit.MILLISECONDS);
                        return true;
                    }

                    @Override
                    public boolean close(int code, String reason) {
                        lateEvents.schedule(() -> socket.close(code, reason), delay.toMillis(), TimeUnit.MILLISECONDS);
                        return true;
                    }
                };
            }
            return late;
        }

        @Override
        public void onBeforeAccept(WebSocket socket, Response response) {
            events.onBeforeAccept(late(socket), response);
        }

        @Override
        public void onOpen(WebSocket socket, Response response) {
            events.onOpen(late(socket), response);
        }

        @Override
        public void onMessage(WebSocket socket, String text) {
            events.onMessage(late(socket), text);
        }

        @Override
        public void onMessage(WebSocket socket, byte[] bytes) {
            events.onMessage(late(socket), bytes);
        }

        @Override
        public void onClosing(WebSocket socket, int code, String reason) {
            events.onClosing(late(socket), code, reason);
        }

        @Override
        public void onClosed(WebSocket socket, int code, String reason) {
            events.onClosed(late(socket), code, reason);
        }

        @Override
        public void onFailure(WebSocket socket, Throwable failure, Response response) {
            events.onFailure(late(socket), failure, response);
        }
    }

    /** Answers every request with 503, as an API server that is down behind its load balancer does. */
    public void unavailable(boolean down) {
        unavailable = down;
    }

    /** The Authorization header of the latest request, to see which credentials a client sent. */
    public String lastAuthorization() {
        return lastAuthorization.get();
    }

    @Override
    public void close() {
        lateEvents.shutdownNow();
        client.close();
        server.destroy();
    }
}
