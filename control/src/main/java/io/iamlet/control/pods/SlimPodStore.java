package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The pod informer's store, holding of each pod only what {@link PodInfo#of} and the informer read:
 * namespace, name, uid, resourceVersion, deletionTimestamp, annotations, spec.nodeName, spec.hostNetwork, spec.serviceAccountName,
 * status.phase, podIP and podIPs. A resync and a re-list's deletions hand these objects back to the
 * handlers, so nothing the index reads may be left out (PodIndexStoreTest). A whole Pod (containers,
 * volumes, managedFields) is tens of KiB on a real node.
 * <p>
 * Hand-written rather than fabric8's ReducedStateItemStore, which converts every pod to a map through
 * Jackson on each event and back on each read: hundreds of milliseconds for a node's pods in a fresh JVM, on
 * the start path before readiness (measured in docs/performance.md); a copy of twelve fields takes microseconds.
 */
final class SlimPodStore implements ItemStore<Pod> {
    private final Map<String, Pod> pods = new ConcurrentHashMap<>();

    static Pod slim(Pod pod) {
        ObjectMeta m = pod.getMetadata();
        ObjectMeta meta = new ObjectMeta();
        meta.setNamespace(m.getNamespace());
        meta.setName(m.getName());
        meta.setUid(m.getUid());
        meta.setResourceVersion(m.getResourceVersion());
        meta.setDeletionTimestamp(m.getDeletionTimestamp());
        meta.setAnnotations(m.getAnnotations());
        Pod slim = new Pod();
        slim.setMetadata(meta);
        if (pod.getSpec() != null) {
            PodSpec spec = new PodSpec();
            spec.setNodeName(pod.getSpec().getNodeName());
            spec.setHostNetwork(pod.getSpec().getHostNetwork());
            spec.setServiceAccountName(pod.getSpec().getServiceAccountName());
            slim.setSpec(spec);
        }
        if (pod.getStatus() != null) {
            PodStatus status = new PodStatus();
            status.setPhase(pod.getStatus().getPhase());
            status.setPodIP(pod.getStatus().getPodIP());
            status.setPodIPs(pod.getStatus().getPodIPs());
            slim.setStatus(status);
        }
        return slim;
    }

    /** The resourceVersion stored for a key, or null: PodInformers compares it with what its handlers applied. */
    String resourceVersion(String key) {
        Pod pod = pods.get(key);
        return pod == null ? null : pod.getMetadata().getResourceVersion();
    }

    @Override
    public String getKey(Pod pod) {
        return Cache.metaNamespaceKeyFunc(pod);
    }

    @Override
    public Pod put(String key, Pod pod) {
        return pods.put(key, slim(pod));
    }

    @Override
    public Pod remove(String key) {
        return pods.remove(key);
    }

    @Override
    public Stream<String> keySet() {
        return pods.keySet().stream();
    }

    @Override
    public Stream<Pod> values() {
        return pods.values().stream();
    }

    @Override
    public int size() {
        return pods.size();
    }

    @Override
    public Pod get(String key) {
        return pods.get(key);
    }

    /**
     * Not the whole object: the informer then hands each listed pod to the handlers as it arrives, as it
     * came from the API server, instead of the stored copy after the whole list.
     */
    @Override
    public boolean isFullState() {
        return false;
    }
}
