package io.iamlet.control;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Builds the Kubernetes client from kube2iam's API flags: --kubeconfig, --api-server/--api-token/--insecure, or in-cluster. */
public final class KubeClients {
    /** The API flags; all empty means in-cluster configuration (service account token, KUBERNETES_SERVICE_HOST). */
    public record ApiSettings(Optional<Path> kubeconfig, Optional<String> apiServer, Optional<String> apiToken, boolean insecure) {
        /** The one check that the sources do not conflict; the CLI adds the flag names. */
        public ApiSettings {
            if (kubeconfig.isPresent() && apiServer.isPresent()) {
                throw new IllegalArgumentException("a kubeconfig and an API server URL are alternatives: give one");
            }
        }

        public static ApiSettings inCluster() {
            return new ApiSettings(Optional.empty(), Optional.empty(), Optional.empty(), false);
        }
    }

    private KubeClients() {
    }

    public static KubernetesClient create(ApiSettings settings) {
        return new KubernetesClientBuilder().withConfig(config(settings)).build();
    }

    static Config config(ApiSettings settings) {
        Config config;
        if (settings.kubeconfig().isPresent()) {
            Path path = settings.kubeconfig().get();
            try {
                config = Config.fromKubeconfig(null, Files.readString(path), path.toString());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the kubeconfig " + path + ": " + e.getMessage(), e);
            }
        } else if (settings.apiServer().isPresent()) {
            ConfigBuilder builder = new ConfigBuilder(Config.empty()).withMasterUrl(settings.apiServer().get());
            settings.apiToken().ifPresent(builder::withOauthToken);
            config = builder.build();
        } else {
            config = Config.autoConfigure(null);
        }
        if (settings.insecure()) {
            config.setTrustCerts(true);
            config.setDisableHostnameVerification(true);
        }
        settings.apiToken().filter(t -> settings.apiServer().isEmpty()).ifPresent(config::setOauthToken);
        if (config.getMasterUrl() != null && config.getMasterUrl().startsWith("http:")) {
            // Over plain HTTP the JDK client asks to upgrade its first request to HTTP/2 (h2c); a server that
            // accepts (Vert.x does by default) can garble the switch, and the informer read an HTTP/1.1 reply
            // as an HTTP/2 frame ("Frame type(48) ... exceeds MAX_FRAME_SIZE") and stopped. HTTPS negotiates
            // its version with ALPN instead and keeps HTTP/2.
            config.setHttp2Disable(true);
        }
        return config;
    }
}
