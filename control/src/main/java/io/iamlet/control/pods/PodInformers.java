package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The informers that keep a {@link PodTable} current: the pods of one node, and the namespaces (for their role
 * restrictions). They also say whether the table can be trusted now, and if not, why.
 */
final class PodInformers implements AutoCloseable {
    private final KubernetesClient client;
    private final String nodeName;
    private final Duration resyncPeriod;
    private final PodTable table;
    /** resourceVersion of each pod as the event handlers applied it: the list is in the table when these match the store. */
    private final Map<String, String> applied = new ConcurrentHashMap<>();
    private final WatchClock podWatch = new WatchClock();
    private final WatchClock namespaceWatch = new WatchClock();
    /** The pod informer's own store of {@link SlimPod}s. */
    private final SlimPodStore podStore = new SlimPodStore();
    private volatile boolean listedOnce;
    private SharedIndexInformer<SlimPod> podInformer;
    private SharedIndexInformer<Namespace> namespaceInformer;

    /**
     * When an informer last showed a sign of life: an event, or a new resourceVersion (bookmarks advance it
     * without events). Read on demand, so it is as fresh as the last lookup or scrape.
     */
    private static final class WatchClock {
        private volatile long lastNanos = System.nanoTime();
        private volatile String lastVersion;

        void event() {
            lastNanos = System.nanoTime();
        }

        double secondsSinceEvent(SharedIndexInformer<?> informer) {
            String version = informer == null ? null : informer.lastSyncResourceVersion();
            if (version != null && !version.equals(lastVersion)) {
                lastVersion = version;
                lastNanos = System.nanoTime();
            }
            return (System.nanoTime() - lastNanos) / 1e9;
        }
    }

    PodInformers(KubernetesClient client, String nodeName, Duration resyncPeriod, PodTable table) {
        this.client = client;
        this.nodeName = nodeName;
        this.resyncPeriod = resyncPeriod;
        this.table = table;
    }

    /** Starts the informers: pods of this node only, and namespaces. */
    void start() {
        long resync = resyncPeriod.toMillis();
        // runnableInformer + start: unlike inform(), start() does not block on the first list, so
        // awaitSynced's timeout (and its message) is what bounds start-up.
        podInformer = client.resources(SlimPod.class).inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(resync);
        podInformer.itemStore(podStore);
        podInformer.addEventHandler(podHandler());
        namespaceInformer = client.namespaces().runnableInformer(resync);
        namespaceInformer.addEventHandler(namespaceHandler());
        podInformer.start();
        namespaceInformer.start();
    }

    /** Every pod event is applied to the table; a deleted pod also leaves the applied versions. */
    private ResourceEventHandler<SlimPod> podHandler() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(SlimPod pod) {
                apply(pod);
            }

            @Override
            public void onUpdate(SlimPod before, SlimPod after) {
                apply(after);
            }

            @Override
            public void onDelete(SlimPod pod, boolean finalStateUnknown) {
                podWatch.event();
                applied.remove(key(pod));
                table.remove(PodInfo.of(pod));
            }
        };
    }

    /** A namespace's restrictions may decide a waiting lookup: every event wakes it. */
    private ResourceEventHandler<Namespace> namespaceHandler() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(Namespace ns) {
                namespaceChanged();
            }

            @Override
            public void onUpdate(Namespace before, Namespace after) {
                namespaceChanged();
            }

            @Override
            public void onDelete(Namespace ns, boolean finalStateUnknown) {
                namespaceChanged();
            }
        };
    }

    private static String key(SlimPod pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    /** The field selector already limits the watch to this node; checking again costs nothing. */
    private void apply(SlimPod pod) {
        podWatch.event();
        if (pod.onNode(nodeName)) {
            table.upsert(PodInfo.of(pod));
        } else {
            table.remove(PodInfo.of(pod));
        }
        applied.put(key(pod), String.valueOf(pod.getMetadata().getResourceVersion()));
        if (!listedOnce) {
            // The table's change above came before this pod counted as applied: a lookup that looked in between
            // saw the list not yet in and waits for a change, which may be this one (the last pod of the list).
            table.signal();
        }
    }

    private void namespaceChanged() {
        namespaceWatch.event();
        table.signal();
    }

    /**
     * Why the table may not hold what the API server holds now, or null when it does (as far as a running
     * watch can tell). hasSynced() only says the informer's store has the list, not that our handlers have
     * applied it, nor that the watch that follows the list is running: both are checked here.
     */
    String notCurrent() {
        if (podInformer == null) {
            return "the informers have not started";
        }
        if (!listed()) {
            return notListed();
        }
        if (!podInformer.isWatching()) {
            return "the watch of pods is not established (for " + Math.round(podWatch.secondsSinceEvent(podInformer)) + "s)";
        }
        if (!namespaceInformer.isWatching()) {
            return "the watch of namespaces is not established (for " + Math.round(namespaceWatch.secondsSinceEvent(namespaceInformer)) + "s)";
        }
        return null;
    }

    /** Whether the first lists of pods and namespaces are in the table (once true, later lag is the watch's to report). */
    boolean listed() {
        if (!listedOnce && podInformer != null && notListed() == null) {
            listedOnce = true;
        }
        return listedOnce;
    }

    private String notListed() {
        if (!podInformer.hasSynced()) {
            return "the first list of pods of node " + nodeName + " has not arrived";
        }
        if (!namespaceInformer.hasSynced()) {
            return "the first list of namespaces has not arrived";
        }
        long missing = podStore.keySet()
                .filter(key -> !String.valueOf(podStore.resourceVersion(key)).equals(applied.get(key)))
                .count();
        return missing == 0 ? null : missing + " listed pods are not in the index yet";
    }

    Freshness freshness() {
        return new Freshness(podInformer != null && podInformer.isWatching(), namespaceInformer != null && namespaceInformer.isWatching(),
                podWatch.secondsSinceEvent(podInformer), namespaceWatch.secondsSinceEvent(namespaceInformer));
    }

    /** Waits until the table is current (lists applied, watches running); throws naming what is missing. */
    void awaitSynced(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String notCurrent;
        while ((notCurrent = notCurrent()) != null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Kubernetes API did not deliver the pods of node " + nodeName
                        + " and the namespaces within " + timeout.toSeconds() + "s (" + notCurrent + "): check API access and RBAC"
                        + " (list/watch pods and namespaces)");
            }
            table.awaitChange(table.version(), Duration.ofMillis(50).toNanos());
        }
    }

    Optional<NamespaceInfo> namespace(String name) {
        if (namespaceInformer == null) {
            return Optional.empty();
        }
        Namespace ns = namespaceInformer.getStore().getByKey(name);
        if (ns == null) {
            return Optional.empty();
        }
        Map<String, String> annotations = ns.getMetadata().getAnnotations();
        return Optional.of(new NamespaceInfo(name, annotations == null ? Map.of() : annotations));
    }

    @Override
    public void close() {
        if (podInformer != null) {
            podInformer.close();
        }
        if (namespaceInformer != null) {
            namespaceInformer.close();
        }
    }
}
