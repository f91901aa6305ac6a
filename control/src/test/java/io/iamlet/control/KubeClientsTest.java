package io.iamlet.control;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

class KubeClientsTest {
    @Test
    void apiServerFlagsAndKubeconfigBothReachTheServer() throws Exception {
        try (MockApiServer api = MockApiServer.start()) {
            api.client().pods().inNamespace("team").resource(Pods.withRole("team", "a", "n", "r", "10.0.0.5")).create();
            try (KubernetesClient viaFlags = KubeClients.create(new KubeClients.ApiSettings(Optional.empty(),
                    Optional.of(api.url()), Optional.of("token-1"), true))) {
                assertEquals(1, viaFlags.pods().inNamespace("team").list().getItems().size());
                assertEquals("Bearer token-1", api.lastAuthorization());
            }
            Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
            try {
                Files.writeString(kubeconfig, """
                        apiVersion: v1
                        kind: Config
                        clusters: [{name: c, cluster: {server: "%s"}}]
                        users: [{name: u, user: {token: token-2}}]
                        contexts: [{name: x, context: {cluster: c, user: u}}]
                        current-context: x
                        """.formatted(api.url()));
                try (KubernetesClient viaKubeconfig = KubeClients.create(new KubeClients.ApiSettings(Optional.of(kubeconfig),
                        Optional.empty(), Optional.empty(), false))) {
                    assertEquals(1, viaKubeconfig.pods().inNamespace("team").list().getItems().size());
                    assertEquals("Bearer token-2", api.lastAuthorization());
                }
            } finally {
                Files.delete(kubeconfig);
            }
        }
    }

    /**
     * The JDK client's h2c upgrade against the fake API server (Vert.x, h2c on) once garbled a list: the
     * informer read an HTTP/1.1 reply as an HTTP/2 frame and stopped. Over plain HTTP no request may ask to
     * upgrade, whichever way the server was named; HTTPS keeps HTTP/2 (ALPN).
     */
    @Test
    void plainHttpNeverAsksForAnHttp2Upgrade() throws Exception {
        List<String> upgrades = new CopyOnWriteArrayList<>();
        List<String> versions = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            upgrades.add(String.valueOf(exchange.getRequestHeaders().get("Upgrade")) + " " + exchange.getRequestHeaders().get("HTTP2-Settings"));
            versions.add(exchange.getProtocol());
            byte[] body = "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            Files.writeString(kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: c, cluster: {server: "%s"}}]
                    users: [{name: u, user: {token: t}}]
                    contexts: [{name: x, context: {cluster: c, user: u}}]
                    current-context: x
                    """.formatted(url));
            for (KubeClients.ApiSettings settings : List.of(
                    new KubeClients.ApiSettings(Optional.empty(), Optional.of(url), Optional.of("t"), false),
                    new KubeClients.ApiSettings(Optional.of(kubeconfig), Optional.empty(), Optional.empty(), false))) {
                try (KubernetesClient client = KubeClients.create(settings)) {
                    for (int i = 0; i < 3; i++) {
                        assertTrue(client.pods().inNamespace("team").list().getItems().isEmpty());
                    }
                }
            }
        } finally {
            server.stop(0);
            Files.delete(kubeconfig);
        }
        assertEquals(6, upgrades.size(), upgrades.toString());
        assertEquals(List.of("null null"), upgrades.stream().distinct().toList());
        assertEquals(List.of("HTTP/1.1"), versions.stream().distinct().toList());
        assertFalse(KubeClients.config(new KubeClients.ApiSettings(Optional.empty(), Optional.of("https://10.0.0.1:6443"),
                Optional.of("t"), false)).isHttp2Disable(), "HTTPS keeps HTTP/2");
    }

    @Test
    void conflictingOrMissingSourcesAreExplained() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KubeClients.config(new KubeClients.ApiSettings(
                Optional.of(Path.of("/x")), Optional.of("https://x"), Optional.empty(), false)));
        assertTrue(e.getMessage().contains("alternatives"), e.getMessage());
        Exception missing = assertThrows(Exception.class, () -> KubeClients.config(new KubeClients.ApiSettings(
                Optional.of(Path.of("/nonexistent/kubeconfig")), Optional.empty(), Optional.empty(), false)));
        assertTrue(missing.getMessage().contains("/nonexistent/kubeconfig"), missing.getMessage());
    }
}
