package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.time.Duration;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.net.InetAddress;
import java.util.concurrent.atomic.LongAdder;

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
    public record Settings(String nodeName, Duration resyncPeriod, Duration lookupBudget, boolean resolveDuplicates,
                           int apiReadsPerSecond, Duration keepApiAnswers) {
        /** --api-reads-per-second's default: see docs/scale.md for what it costs a cluster's API server. */
        public static final int DEFAULT_API_READS_PER_SECOND = 5;
        /** How long one API answer stands in for the API server (docs/security.md). */
        public static final Duration KEEP_API_ANSWERS = Duration.ofSeconds(1);

        /**
         * @param apiReadsPerSecond API reads a lookup may start in any one second, node-wide ({@link ReadBudget})
         * @param keepApiAnswers    how long an API answer is reused by later lookups (at most 1 s, {@link SharedReads})
         */
        public Settings {
            if (nodeName == null || nodeName.isBlank()) {
                throw new IllegalArgumentException("the node name is required: the index holds that node's pods");
            }
            if (apiReadsPerSecond < 0) {
                throw new IllegalArgumentException("the API reads per second must be 0 or more, not " + apiReadsPerSecond);
            }
        }

        public Settings(String nodeName, Duration resyncPeriod, Duration lookupBudget, boolean resolveDuplicates) {
            this(nodeName, resyncPeriod, lookupBudget, resolveDuplicates, DEFAULT_API_READS_PER_SECOND, KEEP_API_ANSWERS);
        }
    }

    private final KubernetesClient client;
    private final Settings settings;
    /** Every API read a lookup makes goes through here: shared, kept ≤ 1 s, within the node's budget. */
    private final ApiReads reads;
    private final LongAdder duplicatesAsked = new LongAdder();
    private final LongAdder duplicatesSettled = new LongAdder();
    private final Map<String, PodInfo> pods = new ConcurrentHashMap<>();
    /** Every pod of the node by uid, hostNetwork ones too: what the kernel's identity of a caller names. */
    private final Map<String, PodInfo> byUid = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> keysByIp = new ConcurrentHashMap<>();
    private final List<PodListener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Bumped on every change, so a waiting lookup knows whether to look again without holding a lock while it looks. */
    private final AtomicLong changes = new AtomicLong();
    /** resourceVersion of each pod as the event handlers applied it: the list is in the index when these match the store. */
    private final Map<String, String> applied = new ConcurrentHashMap<>();
    private final WatchClock podWatch = new WatchClock();
    private final WatchClock namespaceWatch = new WatchClock();
    private volatile boolean listedOnce;
    private SharedIndexInformer<Pod> podInformer;
    /** The pod informer's own store: only the fields {@link #from} and {@link #apply} read. */
    private final SlimPodStore podStore = new SlimPodStore();
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

    /** How current the index is, for /readyz and the metrics. */
    public record Freshness(boolean podsWatching, boolean namespacesWatching, double secondsSincePodEvent,
                            double secondsSinceNamespaceEvent) {
    }

    public PodIndex(KubernetesClient client, Settings settings) {
        this.client = client;
        this.settings = settings;
        this.reads = new ApiReads(client, settings.nodeName(), settings.lookupBudget(), new ReadBudget(settings.apiReadsPerSecond()),
                settings.keepApiAnswers(), System::nanoTime);
    }

    /** The node whose pods this index holds. */
    public String nodeName() {
        return settings.nodeName();
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
        podInformer.itemStore(podStore);
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
                        podWatch.event();
                        applied.remove(pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName());
                        remove(PodInfo.of(pod));
                    }
                });
        namespaceInformer = client.namespaces().runnableInformer(resync);
        namespaceInformer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Namespace ns) {
                namespaceWatch.event();
                signal();
            }

            @Override
            public void onUpdate(Namespace before, Namespace after) {
                namespaceWatch.event();
                signal();
            }

            @Override
            public void onDelete(Namespace ns, boolean finalStateUnknown) {
                namespaceWatch.event();
                signal();
            }
        });
        podInformer.start();
        namespaceInformer.start();
    }

    /** The field selector already limits the watch to this node; checking again costs nothing. */
    private void apply(Pod pod) {
        podWatch.event();
        if (pod.getSpec() != null && settings.nodeName().equals(pod.getSpec().getNodeName())) {
            upsert(PodInfo.of(pod));
        } else {
            remove(PodInfo.of(pod));
        }
        applied.put(pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName(),
                String.valueOf(pod.getMetadata().getResourceVersion()));
    }

    /** Current: every informer's list is in the index and every watch runs. */
    public boolean synced() {
        return notCurrent() == null;
    }

    /**
     * Why the index may not hold what the API server holds now, or null when it does (as far as a running
     * watch can tell). hasSynced() only says the informer's store has the list, not that our handlers have
     * applied it, nor that the watch that follows the list is running: both are checked here.
     */
    public String notCurrent() {
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

    /** Whether the first lists of pods and namespaces are in the index (once true, later lag is the watch's to report). */
    private boolean listed() {
        if (!listedOnce && podInformer != null && notListed() == null) {
            listedOnce = true;
        }
        return listedOnce;
    }

    private String notListed() {
        if (!podInformer.hasSynced()) {
            return "the first list of pods of node " + settings.nodeName() + " has not arrived";
        }
        if (!namespaceInformer.hasSynced()) {
            return "the first list of namespaces has not arrived";
        }
        long missing = podStore.keySet()
                .filter(key -> !String.valueOf(podStore.resourceVersion(key)).equals(applied.get(key)))
                .count();
        return missing == 0 ? null : missing + " listed pods are not in the index yet";
    }

    public Freshness freshness() {
        return new Freshness(podInformer != null && podInformer.isWatching(), namespaceInformer != null && namespaceInformer.isWatching(),
                podWatch.secondsSinceEvent(podInformer), namespaceWatch.secondsSinceEvent(namespaceInformer));
    }

    /** Waits until the index is current (lists applied, watches running); throws naming what is missing. */
    public void awaitSynced(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String notCurrent;
        while ((notCurrent = notCurrent()) != null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Kubernetes API did not deliver the pods of node " + settings.nodeName()
                        + " and the namespaces within " + timeout.toSeconds() + "s (" + notCurrent + "): check API access and RBAC"
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


    /** Applies a pod as the informer (or a test) saw it. hostNetwork pods share the node's IP: never indexed. */
    public void upsert(PodInfo pod) {
        if (pod.uid() != null) {
            byUid.put(pod.uid(), pod);
        }
        PodInfo before = pod.hostNetwork() ? pods.remove(pod.key()) : pods.put(pod.key(), pod);
        if (before != null && before.uid() != null && !before.uid().equals(pod.uid())) {
            byUid.remove(before.uid());
        }
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
        if (pod.uid() != null) {
            byUid.remove(pod.uid());
        }
        if (before != null && before.uid() != null) {
            byUid.remove(before.uid());
        }
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
        changes.incrementAndGet();
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
            return InetAddress.ofLiteral(ip).getHostAddress();
        } catch (IllegalArgumentException e) {
            return ip;
        }
    }

    /**
     * The pod with this uid (hostNetwork pods included), for a caller the kernel named by its cgroup: from
     * the index, or, for a uid it does not know yet (a pod newer than the last watch event), from a
     * consistent list of the node's pods.
     */
    public PodLookup findByUid(String uid) {
        PodInfo known = byUid.get(uid);
        if (known != null) {
            return new PodLookup.Found(known);
        }
        if (!listed()) {
            return new PodLookup.Unavailable("the agent has not received the pods of its node yet: " + notCurrent());
        }
        boolean indexBehind = notCurrent() != null;
        List<PodInfo> found;
        try {
            if (!(reads.nodePods(indexBehind) instanceof SharedReads.Read.Answered<List<PodInfo>>(List<PodInfo> nodePods))) {
                return new PodLookup.Unavailable("the caller's cgroup names pod uid " + uid + ", which the index does not know, and "
                        + reads.overBudget());
            }
            found = nodePods.stream().filter(p -> uid.equals(p.uid())).toList();
        } catch (KubernetesClientException e) {
            return new PodLookup.Unavailable("the caller's cgroup names pod uid " + uid + ", which the index does not know, and the API"
                    + " server could not be asked: " + e.getMessage());
        }
        if (found.isEmpty()) {
            return new PodLookup.NotFound("the caller's cgroup names pod uid " + uid + ", which is no pod of node " + settings.nodeName()
                    + " in the API server");
        }
        upsert(found.getFirst());
        return new PodLookup.Found(found.getFirst());
    }

    /** {@code known} as the API server has it now (a consistent GET), if it still exists with the same uid on this node. */
    public Optional<PodInfo> current(PodInfo known) {
        Pod now;
        try {
            if (!(reads.pod(known.namespace(), known.name(), notCurrent() != null) instanceof SharedReads.Read.Answered<Pod>(Pod answer))) {
                return Optional.empty();
            }
            now = answer;
        } catch (KubernetesClientException e) {
            return Optional.empty();
        }
        if (now == null || now.getSpec() == null || !settings.nodeName().equals(now.getSpec().getNodeName())) {
            return Optional.empty();
        }
        PodInfo fresh = PodInfo.of(now);
        if (!Objects.equals(fresh.uid(), known.uid())) {
            return Optional.empty();
        }
        upsert(fresh);
        return Optional.of(fresh);
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
                    ? resolveThroughApi(key, live, notCurrent() != null)
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
     * its first milliseconds gets its own role rather than an error. While the index is not current (a watch
     * is down), nothing is taken from it on trust: the pod found is confirmed with a consistent GET, and an
     * IP it does not know is looked up in the API server. No lock is held across any of this, so a slow API
     * server slows only the lookups that need it.
     */
    public PodLookup findWaiting(String ip) throws InterruptedException {
        return lookup(ip, null, false);
    }

    /**
     * The pod at {@code ip} as the API server has it now, for binding an IMDSv2 token to it: the index's
     * candidate is confirmed with a consistent GET by name (one key, cheap) even when the watch runs, since
     * a running watch still lags by milliseconds. When the API server cannot be asked, only a current index
     * is trusted.
     */
    public PodLookup findConfirmed(String ip) throws InterruptedException {
        return lookup(ip, null, true);
    }

    /**
     * The pod at {@code ip} only if it is the pod {@code uid} (a token's): while the index still shows another
     * pod there, wait for it to catch up, then refuse. Never the other pod.
     */
    public PodLookup findWaiting(String ip, String uid) throws InterruptedException {
        PodLookup result = lookup(ip, uid, false);
        // A confirmation may have found the IP's new owner: still not the token's pod.
        if (result instanceof PodLookup.Found(PodInfo pod) && !uid.equals(pod.uid())) {
            return new PodLookup.Unavailable("IP " + ip + " belongs to " + pod + ", but the token was issued to pod uid " + uid
                    + ": request a new token");
        }
        return result;
    }

    private PodLookup lookup(String ip, String uid, boolean confirmAlways) throws InterruptedException {
        long deadline = System.nanoTime() + settings.lookupBudget().toNanos();
        while (true) {
            long seen = changes.get();
            PodLookup result = find(ip);
            // Before the first lists are in, nothing is answered: not a pod's role (its namespace may not be known
            // yet, nor a newer owner of its IP), not "no such pod".
            boolean listed = listed();
            String notCurrent = notCurrent();
            boolean otherPod = uid != null && result instanceof PodLookup.Found(PodInfo p) && !uid.equals(p.uid());
            if (listed && !otherPod && result instanceof PodLookup.Found(PodInfo pod)) {
                return notCurrent == null && !confirmAlways ? result : confirm(pod, ip, confirmAlways, notCurrent != null);
            }
            if (listed && result instanceof PodLookup.Ambiguous) {
                return result;
            }
            if (listed && !otherPod && (notCurrent != null || confirmAlways)) {
                return lookupThroughApi(ip, notCurrent == null ? "confirming the owner of " + ip : "the index is not current: " + notCurrent,
                        notCurrent != null);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (otherPod) {
                    return new PodLookup.Unavailable("IP " + ip + " belongs to " + ((PodLookup.Found) result).pod()
                            + " in the index, but the token was issued to pod uid " + uid + ": request a new token");
                }
                return listed ? result : new PodLookup.Unavailable("the agent has not received the pods of its node yet: " + notCurrent);
            }
            lock.lock();
            try {
                if (changes.get() == seen) {
                    changed.awaitNanos(left);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * The index found {@code known} at {@code ip} but cannot vouch that this is still so: one consistent GET
     * of that pod settles it. An API server that cannot be reached leaves the known pod standing (outages
     * must not take roles away from running pods); one that answers otherwise has the last word.
     *
     * @param forToken    an IMDSv2 token is to be bound to the answer: never bound to the index's guess while
     *                    the index is behind, nor (over the read budget) to an unconfirmed pod
     * @param indexBehind the watch is down: an API answer of the last second is good enough, and reads are
     *                    within the node's budget (the storm they prevent); while the watch runs, the index is
     *                    newer than any kept answer and reads are few (tokens being issued)
     */
    private PodLookup confirm(PodInfo known, String ip, boolean forToken, boolean indexBehind) {
        Pod now;
        try {
            if (!(reads.pod(known.namespace(), known.name(), indexBehind) instanceof SharedReads.Read.Answered<Pod>(Pod answer))) {
                // Over the budget (only while the watch is down): a known pod keeps its role from the index, as when
                // the API server cannot be reached; a new token is not bound to a pod that was not confirmed.
                return forToken ? new PodLookup.Unavailable(known + " at " + ip + " cannot be confirmed now: " + reads.overBudget())
                        : new PodLookup.Found(known);
            }
            now = answer;
        } catch (KubernetesClientException e) {
            return forToken && indexBehind ? new PodLookup.Unavailable("the index is not current and the API server could not confirm "
                    + known + " at " + ip + ": " + e.getMessage()) : new PodLookup.Found(known);
        }
        if (now != null) {
            PodInfo fresh = PodInfo.of(now);
            boolean ours = now.getSpec() != null && settings.nodeName().equals(now.getSpec().getNodeName());
            if (ours && fresh.live() && !fresh.hostNetwork() && Objects.equals(fresh.uid(), known.uid())
                    && fresh.ips().stream().map(PodIndex::normalize).anyMatch(normalize(ip)::equals)) {
                return new PodLookup.Found(fresh);
            }
            if (ours) {
                upsert(fresh);
            } else {
                remove(fresh);
            }
        } else {
            remove(known);
        }
        return lookupThroughApi(ip, "pod " + known + " no longer has IP " + ip + " (asked the API server)", indexBehind);
    }

    /** The live pod with {@code ip} as the API server lists it now; the index is told what was found. */
    private PodLookup lookupThroughApi(String ip, String why, boolean indexBehind) {
        List<PodInfo> live;
        try {
            Optional<List<PodInfo>> listed = livePodsWith(normalize(ip), indexBehind);
            if (listed.isEmpty()) {
                return new PodLookup.Unavailable(why + ", and " + reads.overBudget());
            }
            live = listed.get();
        } catch (KubernetesClientException e) {
            return new PodLookup.Unavailable(why + " and the API server could not be asked: " + e.getMessage());
        }
        if (live.size() == 1) {
            upsert(live.getFirst());
            return new PodLookup.Found(live.getFirst());
        }
        if (live.isEmpty()) {
            return new PodLookup.NotFound("no pod on node " + settings.nodeName() + " has IP " + ip + " (" + why + ")");
        }
        return new PodLookup.Ambiguous(describeClaim(ip, live) + " in the API server; refusing to guess");
    }

    /** The live pods with {@code ip} in a consistent list of this node's pods; empty when the read budget is spent. */
    private Optional<List<PodInfo>> livePodsWith(String ip, boolean indexBehind) {
        if (!(reads.nodePods(indexBehind) instanceof SharedReads.Read.Answered<List<PodInfo>>(List<PodInfo> nodePods))) {
            return Optional.empty();
        }
        return Optional.of(nodePods.stream()
                .filter(p -> p.live() && !p.hostNetwork() && p.ips().stream().map(PodIndex::normalize).anyMatch(ip::equals))
                .toList());
    }

    /** API reads of lookups so far: started, shared with another lookup (in flight or kept), refused by the budget. */
    public SharedReads.Counts apiReads() {
        return reads.counts();
    }

    /** kube2iam's kube2iam_iam_k8s_dup_req_count and _success_count: IPs settled through the API server, asked and settled. */
    public long[] duplicateCounts() {
        return new long[] {duplicatesAsked.sum(), duplicatesSettled.sum()};
    }

    private PodLookup resolveThroughApi(String ip, List<PodInfo> claimants, boolean indexBehind) {
        duplicatesAsked.increment();
        List<PodInfo> live;
        try {
            Optional<List<PodInfo>> listed = livePodsWith(ip, indexBehind);
            if (listed.isEmpty()) {
                return new PodLookup.Unavailable(describeClaim(ip, claimants) + ", and " + reads.overBudget());
            }
            live = listed.get();
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
