package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The pod informer's store: the pods as {@link SlimPod}s, parsed with only what {@link PodInfo#of} and the
 * informer read. A resync and a re-list's deletions hand these objects back to the handlers, so nothing the
 * index reads may be left out of SlimPod (PodIndexStoreTest).
 * <p>
 * Hand-written rather than fabric8's ReducedStateItemStore, which converts every pod to a map through
 * Jackson on each event and back on each read: hundreds of milliseconds for a node's pods in a fresh JVM, on
 * the start path before readiness (measured in docs/performance.md).
 */
final class SlimPodStore implements ItemStore<SlimPod> {
    private final Map<String, SlimPod> pods = new ConcurrentHashMap<>();

    /** The resourceVersion stored for a key, or null: PodInformers compares it with what its handlers applied. */
    String resourceVersion(String key) {
        SlimPod pod = pods.get(key);
        return pod == null ? null : pod.getMetadata().getResourceVersion();
    }

    @Override
    public String getKey(SlimPod pod) {
        return Cache.metaNamespaceKeyFunc(pod);
    }

    @Override
    public SlimPod put(String key, SlimPod pod) {
        return pods.put(key, pod);
    }

    @Override
    public SlimPod remove(String key) {
        return pods.remove(key);
    }

    @Override
    public Stream<String> keySet() {
        return pods.keySet().stream();
    }

    @Override
    public Stream<SlimPod> values() {
        return pods.values().stream();
    }

    @Override
    public int size() {
        return pods.size();
    }

    @Override
    public SlimPod get(String key) {
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
