package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * The pods of this node by IP, kept current by informers. An IP belongs to the live pod that has it: a
 * finished or terminating pod never lends its role to a newcomer with the same IP, and two live claimants
 * are settled by asking the API server, never by guessing.
 */
public final class PodIndex implements AutoCloseable {
    /**
     * @param lookupBudget      how long a lookup of an unknown IP waits for the informer to learn it
     *                          (kube2iam's --backoff-max-elapsed-time)
     * @param resolveDuplicates ask the API server when two live pods claim one IP
     */
    public record Settings(String nodeName, Duration resyncPeriod, Duration lookupBudget, boolean resolveDuplicates) {
        public Settings {
            if (nodeName == null || nodeName.isBlank()) {
                throw new IllegalArgumentException("--node is required (in a DaemonSet: env NODE_NAME from spec.nodeName)");
            }
        }
    }

    private final KubernetesClient client;
    private final Settings settings;
    private final java.util.concurrent.atomic.LongAdder duplicatesAsked = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder duplicatesSettled = new java.util.concurrent.atomic.LongAdder();
    private final Map<String, PodInfo> pods = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> keysByIp = new ConcurrentHashMap<>();
    private final List<PodListener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private SharedIndexInformer<Pod> podInformer;
    private SharedIndexInformer<Namespace> namespaceInformer;

    public PodIndex(KubernetesClient client, Settings settings) {
        this.client = client;
        this.settings = settings;
    }

    public void addListener(PodListener listener) {
        listeners.add(listener);
    }

    /** Starts the informers: pods of this node only, and namespaces (for their role restrictions). */
    public void start() {
        long resync = settings.resyncPeriod().toMillis();
        // runnableInformer + start: unlike inform(), start() does not block on the first list, so
        // awaitSynced's timeout (and its message) is what bounds start-up.
        podInformer = client.pods().inAnyNamespace().withField("spec.nodeName", settings.nodeName())
                .runnableInformer(resync);
        podInformer.addEventHandler(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        apply(pod);
                    }

                    @Override
                    public void onUpdate(Pod before, Pod after) {
                        apply(after);
                    }

                    @Override
                    public void onDelete(Pod pod, boolean finalStateUnknown) {
                        remove(from(pod));
                    }
                });
        namespaceInformer = client.namespaces().runnableInformer(resync);
        namespaceInformer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Namespace ns) {
                signal();
            }

            @Override
            public void onUpdate(Namespace before, Namespace after) {
                signal();
            }

            @Override
            public void onDelete(Namespace ns, boolean finalStateUnknown) {
                signal();
            }
        });
        podInformer.start();
        namespaceInformer.start();
    }

    /** The field selector already limits the watch to this node; checking again costs nothing. */
    private void apply(Pod pod) {
        if (pod.getSpec() != null && settings.nodeName().equals(pod.getSpec().getNodeName())) {
            upsert(from(pod));
        } else {
            remove(from(pod));
        }
    }

    public boolean synced() {
        return podInformer != null && podInformer.hasSynced() && namespaceInformer.hasSynced();
    }

    /** Waits for the first full list of pods and namespaces; throws naming what is missing. */
    public void awaitSynced(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!synced()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Kubernetes API did not deliver the pods of node " + settings.nodeName()
                        + " and the namespaces within " + timeout.toSeconds() + "s: check API access and RBAC"
                        + " (list/watch pods and namespaces)");
            }
            lock.lock();
            try {
                changed.await(50, TimeUnit.MILLISECONDS);
            } finally {
                lock.unlock();
            }
        }
    }

    public static PodInfo from(Pod pod) {
        List<String> ips = new ArrayList<>();
        if (pod.getStatus() != null) {
            if (pod.getStatus().getPodIPs() != null) {
                pod.getStatus().getPodIPs().stream().map(PodIP::getIp).filter(Objects::nonNull).forEach(ips::add);
            }
            if (ips.isEmpty() && pod.getStatus().getPodIP() != null) {
                ips.add(pod.getStatus().getPodIP());
            }
        }
        var meta = pod.getMetadata();
        return new PodInfo(meta.getNamespace(), meta.getName(), meta.getUid(), ips,
                pod.getStatus() == null ? null : pod.getStatus().getPhase(),
                meta.getDeletionTimestamp() != null,
                pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork()),
                meta.getAnnotations() == null ? Map.of() : meta.getAnnotations());
    }

    /** Applies a pod as the informer (or a test) saw it. hostNetwork pods share the node's IP: never indexed. */
    public void upsert(PodInfo pod) {
        PodInfo before = pod.hostNetwork() ? pods.remove(pod.key()) : pods.put(pod.key(), pod);
        if (before != null) {
            before.ips().forEach(ip -> unlink(ip, before.key()));
        }
        if (!pod.hostNetwork()) {
            pod.ips().forEach(ip -> keysByIp.computeIfAbsent(normalize(ip), k -> ConcurrentHashMap.newKeySet()).add(pod.key()));
        }
        listeners.forEach(l -> l.podChanged(before, pod.hostNetwork() ? null : pod));
        signal();
    }

    public void remove(PodInfo pod) {
        PodInfo before = pods.remove(pod.key());
        if (before != null) {
            before.ips().forEach(ip -> unlink(ip, before.key()));
            listeners.forEach(l -> l.podChanged(before, null));
        }
        signal();
    }

    private void unlink(String ip, String key) {
        keysByIp.computeIfPresent(normalize(ip), (k, keys) -> {
            keys.remove(key);
            return keys.isEmpty() ? null : keys;
        });
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** IPv6 addresses arrive in more than one spelling; index them in one. */
    public static String normalize(String ip) {
        if (ip.indexOf(':') < 0) {
            return ip;
        }
        try {
            return java.net.InetAddress.ofLiteral(ip).getHostAddress();
        } catch (IllegalArgumentException e) {
            return ip;
        }
    }

    /** The pod for an IP as the index knows it now. */
    public PodLookup find(String ip) {
        String key = normalize(ip);
        Collection<PodInfo> claimants = keysByIp.getOrDefault(key, Set.of()).stream()
                .map(pods::get).filter(Objects::nonNull).toList();
        List<PodInfo> live = claimants.stream().filter(PodInfo::live).toList();
        if (live.size() == 1) {
            return new PodLookup.Found(live.getFirst());
        }
        if (live.size() > 1) {
            return settings.resolveDuplicates()
                    ? resolveThroughApi(key, live)
                    : new PodLookup.Ambiguous(describeClaim(key, live) + "; enable --resolve-duplicate-cache-ips to ask the API server");
        }
        if (!claimants.isEmpty()) {
            return new PodLookup.NotFound("no live pod has IP " + ip + " (" + claimants.stream()
                    .map(p -> p.key() + (p.deleting() ? " is terminating" : " has " + p.phase()))
                    .collect(Collectors.joining(", ")) + ")");
        }
        return new PodLookup.NotFound("no pod on node " + settings.nodeName() + " has IP " + ip);
    }

    /**
     * Like {@link #find}, but an unknown IP is waited for, up to the lookup budget, so a pod that asks in
     * its first milliseconds gets its own role rather than an error.
     */
    public PodLookup findWaiting(String ip) throws InterruptedException {
        long deadline = System.nanoTime() + settings.lookupBudget().toNanos();
        lock.lock();
        try {
            while (true) {
                PodLookup result = find(ip);
                long left = deadline - System.nanoTime();
                if (!(result instanceof PodLookup.NotFound) || left <= 0) {
                    return result;
                }
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** kube2iam's kube2iam_iam_k8s_dup_req_count and _success_count: IPs settled through the API server, asked and settled. */
    public long[] duplicateCounts() {
        return new long[] {duplicatesAsked.sum(), duplicatesSettled.sum()};
    }

    private PodLookup resolveThroughApi(String ip, List<PodInfo> claimants) {
        duplicatesAsked.increment();
        List<PodInfo> live;
        try {
            live = client.pods().inAnyNamespace().withField("spec.nodeName", settings.nodeName()).list().getItems().stream()
                    .filter(p -> p.getSpec() != null && settings.nodeName().equals(p.getSpec().getNodeName()))
                    .map(PodIndex::from)
                    .filter(p -> p.live() && !p.hostNetwork() && p.ips().stream().map(PodIndex::normalize).anyMatch(ip::equals))
                    .toList();
        } catch (KubernetesClientException e) {
            return new PodLookup.Ambiguous(describeClaim(ip, claimants) + " and the API server could not be asked: " + e.getMessage());
        }
        if (live.size() == 1) {
            duplicatesSettled.increment();
            upsert(live.getFirst());
            return new PodLookup.Found(live.getFirst());
        }
        return new PodLookup.Ambiguous(describeClaim(ip, claimants) + " and the API server lists " + live.size()
                + " live pods with it; refusing to guess");
    }

    private static String describeClaim(String ip, List<PodInfo> claimants) {
        return claimants.size() + " live pods claim IP " + ip + " ("
                + claimants.stream().map(PodInfo::key).collect(Collectors.joining(", ")) + ")";
    }

    public Optional<NamespaceInfo> namespace(String name) {
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

    /** Every pod the index holds, for /debug/store and for deciding which credentials are still wanted. */
    public List<PodInfo> pods() {
        return List.copyOf(pods.values());
    }

    public Set<String> ips() {
        return new LinkedHashSet<>(keysByIp.keySet());
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
