package io.iamlet.control;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

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
