package io.iamlet.control.testing;

import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
    private final java.util.concurrent.atomic.AtomicReference<String> lastAuthorization = new java.util.concurrent.atomic.AtomicReference<>();

    private volatile boolean refuseWatches;
    private volatile boolean unavailable;
    private volatile Duration readDelay = Duration.ZERO;

    private MockApiServer(InetAddress address, int port) {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String path = request.getPath();
                lastAuthorization.set(request.getHeaders().get("Authorization"));
                boolean watch = path.contains("watch=true");
                if (watch && refuseWatches) {
                    return new MockResponse().setResponseCode(503).setBody("watches refused by the test");
                }
                if (unavailable) {
                    return new MockResponse().setResponseCode(503).setBody("unavailable (test)");
                }
                if (NODE_SELECTOR.matcher(path).find()) {
                    nodeSelected.incrementAndGet();
                    String stripped = NODE_SELECTOR.matcher(path).replaceAll("").replaceAll("[?&]$", "");
                    request = new RecordedRequest(request.getHttpVersion(), request.method(), stripped, request.getHeaders(), request.getBody());
                }
                MockResponse response = crud.dispatch(request);
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

    /** How many list/watch requests asked for one node's pods with a spec.nodeName field selector. */
    public int nodeSelectorRequests() {
        return nodeSelected.get();
    }

    /** Refuses (503) every watch request from now on, as an API server or proxy that cannot hold watches open would. */
    public void refuseWatches(boolean refuse) {
        refuseWatches = refuse;
    }

    /** Delays every GET that is not a watch (reads and lists) by this much: a slow or stuck API server. */
    public void delayReads(Duration delay) {
        readDelay = delay;
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
        client.close();
        server.destroy();
    }
}
