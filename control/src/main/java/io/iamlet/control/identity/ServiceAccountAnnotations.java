package io.iamlet.control.identity;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The annotations of ServiceAccounts, read one at a time (GET, RBAC {@code get serviceaccounts}) and kept for a
 * short while. Read only for pods without a role annotation that present a token, so a node reads a handful;
 * an informer would hold every ServiceAccount of the cluster on every node.
 */
public final class ServiceAccountAnnotations {
    private record Entry(Map<String, String> annotations, Instant readAt) {
    }

    private final KubernetesClient kube;
    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    public ServiceAccountAnnotations(KubernetesClient kube, Duration ttl, Clock clock) {
        this.kube = kube;
        this.ttl = ttl;
        this.clock = clock;
    }

    /** The annotations (empty when the ServiceAccount has none or does not exist). Throws when it cannot be read. */
    public Map<String, String> of(String namespace, String name) {
        String key = namespace + "/" + name;
        Instant now = clock.instant();
        Entry cached = entries.get(key);
        if (cached != null && cached.readAt().plus(ttl).isAfter(now)) {
            return cached.annotations();
        }
        try {
            ServiceAccount sa = kube.serviceAccounts().inNamespace(namespace).withName(name).get();
            Map<String, String> annotations = sa == null || sa.getMetadata().getAnnotations() == null
                    ? Map.of() : Map.copyOf(sa.getMetadata().getAnnotations());
            entries.put(key, new Entry(annotations, now));
            return annotations;
        } catch (KubernetesClientException e) {
            if (cached != null) {
                // What was read a little earlier beats refusing a pod while the API server is away.
                return cached.annotations();
            }
            throw new IllegalStateException("cannot read ServiceAccount " + key + " (RBAC: get serviceaccounts): " + e.getMessage(), e);
        }
    }
}
