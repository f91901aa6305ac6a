package io.iamlet.agent.http;

import io.iamlet.agent.log.Json;
import io.iamlet.agent.http.conn.ConnectionGate;
import io.iamlet.agent.http.conn.RequestDeadlines;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.metrics.ServerMetrics;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.iamlet.control.aws.NodeMetadata;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import io.helidon.http.DirectHandler;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http1.Http1Config;
import io.iamlet.control.pods.IpAddresses;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * The app port (the metadata API for pods) and, on its own port, management: /healthz, /readyz, /metrics,
 * and /debug/store with --debug. kube2iam served metrics on the app port; the same port number for both
 * (--metrics-port equal to --app-port) keeps that layout.
 */
public final class MetadataServer implements AutoCloseable {
    private static final String MANAGEMENT = "management";

    /**
     * @param readiness   why the agent is not ready yet, or null when it is (informers synced, rules verified)
     * @param debugStore  the pod→role map for /debug/store, or null without --debug
     */
    public record Settings(InetAddress bind, int appPort, int metricsPort, String hostIp, Supplier<String> readiness,
                           Supplier<String> debugStore) {
    }

    private final WebServer server;
    private final boolean shared;
    private final RequestDeadlines deadlines;
    private final List<ConnectionGate> gates = new CopyOnWriteArrayList<>();
    private volatile Predicate<String> podAddress = ip -> false;

    public MetadataServer(Settings settings, MetadataRoutes routes, ServerMetrics metrics, NodeMetadata node) {
        this(settings, routes, metrics, node, ServerLimits.defaults());
    }

    public MetadataServer(Settings settings, MetadataRoutes routes, ServerMetrics metrics, NodeMetadata node, ServerLimits limits) {
        // Port 0 asks for an ephemeral port each, so two zeros are two ports.
        this.shared = settings.appPort() != 0 && settings.metricsPort() == settings.appPort();
        this.deadlines = new RequestDeadlines(limits.headerTimeout());
        var builder = WebServer.builder().address(settings.bind()).port(settings.appPort());
        bounded(builder, "@default", limits);
        if (shared) {
            builder.routing(r -> {
                management(r, settings, metrics, node);
                routes.register(r);
            });
        } else {
            // kube2iam's DaemonSets and chart probe GET :app-port/healthz: answer it there too.
            builder.routing(r -> {
                healthz(r, settings, metrics, node);
                routes.register(r);
            });
            builder.putSocket(MANAGEMENT, socket -> bounded(socket, MANAGEMENT, limits).address(settings.bind()).port(settings.metricsPort())
                    .routing(r -> management(refusingPods(r), settings, metrics, node)));
        }
        this.server = builder.build();
    }

    /**
     * The management port binds where the kubelet's probes reach it (the node's address), which pods can reach
     * too: requests from this node's pods' addresses are refused (/debug/store names every pod's role). With
     * one port for both (kube2iam's layout) management is on the app port, as kube2iam had it.
     */
    private HttpRouting.Builder refusingPods(HttpRouting.Builder r) {
        return r.any((req, res) -> {
            String source = req.remotePeer().address() instanceof InetSocketAddress a
                    ? IpAddresses.normalize(a.getAddress().getHostAddress()) : "";
            if (podAddress.test(source)) {
                res.status(Status.FORBIDDEN_403).header(HeaderNames.CONTENT_TYPE, "text/plain")
                        .send("the management port does not answer pods (" + source + ")");
            } else {
                res.next();
            }
        });
    }

    /** Which source addresses are this node's pods (the pod index's): they get 403 on the management port. */
    public MetadataServer refuseManagementFrom(Predicate<String> pods) {
        this.podAddress = pods;
        return this;
    }

    /**
     * Pods are clients too: every listener gets the same bounds on connections, time and size. Its one
     * connection selector is the gate (per-source cap, time to the first request line, HTTP/1.0), in front of
     * Helidon's HTTP/1.1, whose receive listener bounds the time to each request's headers.
     */
    private <B extends ListenerConfig.BuilderBase<B, ?>> B bounded(B listener, String name, ServerLimits limits) {
        Http1Config http1 = Http1Config.builder()
                .maxPrologueLength(ServerLimits.MAX_REQUEST_LINE)
                .maxHeadersSize(limits.maxHeaderBytes())
                .addReceiveListener(deadlines)
                .build();
        ConnectionGate gate = new ConnectionGate(name, http1, deadlines, limits.maxConnectionsPerSource());
        gates.add(gate);
        return listener.maxTcpConnections(limits.maxConnections())
                .idleConnectionTimeout(limits.idleTimeout())
                .idleConnectionPeriod(limits.idleCheckPeriod())
                .maxPayloadSize(limits.maxBodyBytes())
                .directHandlers(DirectHandlers.builder()
                        .addHandler(DirectHandler.EventType.INTERNAL_ERROR, MetadataServer::malformed)
                        .addHandler(DirectHandler.EventType.BAD_REQUEST, MetadataServer::malformed)
                        .addHandler(DirectHandler.EventType.OTHER, MetadataServer::malformed)
                        .addHandler(DirectHandler.EventType.HTTP_VERSION_NOT_SUPPORTED, MetadataServer::malformed)
                        .build())
                // No protocol from configuration or the class path: a second selector would make Helidon read
                // before choosing, and the gate would not see silent connections.
                .protocolsDiscoverServices(false)
                .protocols(List.of())
                .addConnectionSelector(gate);
    }

    /**
     * Requests Helidon refuses before they reach the routes. The routes answer every failure of their own, so
     * a 500 from here is a request that could not be parsed (a bad method, conflicting framing): 400, with
     * the reason, rather than an empty 500.
     */
    private static DirectHandler.TransportResponse malformed(DirectHandler.TransportRequest request,
            DirectHandler.EventType event, Status status, ServerResponseHeaders headers, String message) {
        Status answer = status.code() == 500 ? Status.BAD_REQUEST_400 : status;
        String reason = message == null || message.isBlank()
                ? (status.code() == 500 ? "the request could not be parsed" : status.reasonPhrase()) : message;
        return DirectHandler.TransportResponse.builder().status(answer).headers(headers)
                .header(HeaderNames.SERVER, "EC2ws").header(HeaderNames.CONTENT_TYPE, "text/plain")
                .entity(answer.reasonPhrase() + ": " + reason.replaceAll("[\\r\\n]", " ")).keepAlive(false).build();
    }

    private void management(HttpRouting.Builder r, Settings settings, ServerMetrics metrics, NodeMetadata node) {
        healthz(r, settings, metrics, node);
        managementRoutes(r, settings, metrics);
    }

    private static void healthz(HttpRouting.Builder r, Settings settings, ServerMetrics metrics, NodeMetadata node) {
        r.get("/healthz", (req, res) -> {
            try {
                String instanceId = node.get("meta-data/instance-id").strip();
                metrics.healthcheck(true);
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                Map<String, Object> health = new LinkedHashMap<>();
                health.put("hostIP", settings.hostIp());
                health.put("instanceId", instanceId);
                res.send(Json.object(health));
            } catch (Exception e) {
                metrics.healthcheck(false);
                res.status(Status.INTERNAL_SERVER_ERROR_500).send("the node's metadata service is unreachable: " + Exchange.describe(e));
            }
        });
    }

    private void managementRoutes(HttpRouting.Builder r, Settings settings, ServerMetrics metrics) {
        r.get("/readyz", (req, res) -> {
            String notReady = settings.readiness().get();
            if (notReady == null) {
                res.send("ready");
            } else {
                res.status(Status.SERVICE_UNAVAILABLE_503).send("not ready: " + notReady);
            }
        });
        r.get("/metrics", (req, res) -> {
            res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4");
            res.send(metrics.prometheus(new ServerMetrics.Closings(deadlines.expired(),
                    gates.stream().mapToLong(ConnectionGate::refused).sum())));
        });
        if (settings.debugStore() != null) {
            r.get("/debug/store", (req, res) -> {
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(settings.debugStore().get());
            });
        }
    }

    public MetadataServer start() {
        server.start();
        return this;
    }

    public int appPort() {
        return server.port();
    }

    public int managementPort() {
        return shared ? server.port() : server.port(MANAGEMENT);
    }

    /** Stops accepting; requests in flight finish. */
    @Override
    public void close() {
        server.stop();
        deadlines.close();
    }
}
