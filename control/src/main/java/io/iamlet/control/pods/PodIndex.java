package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The pods of this node by IP, kept current by informers. An IP belongs to the live pod that has it: a
 * finished or terminating pod never lends its role to a newcomer with the same IP, and two live claimants
 * are settled by asking the API server, never by guessing.
 * <p>
 * Three parts: the {@link PodTable} (the pods as last applied), the {@link PodInformers} that keep it current
 * and say when it is not, and the {@link ApiConfirmation} that asks the API server when the table cannot be
 * taken on trust. This class holds the lookups' rules: when to wait, when to confirm.
 */
public final class PodIndex implements AutoCloseable {
    /**
     * @param nodeName          the node whose pods the index holds (required: the agent's command line checks it)
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
         * @param apiReadsPerSecond API reads a lookup may start in any one second, node-wide ({@link ReadBudget#checkPerSecond})
         * @param keepApiAnswers    how long an API answer is reused by later lookups (at most 1 s, {@link SharedReads})
         */
        public Settings {
            ReadBudget.checkPerSecond(apiReadsPerSecond);
        }

        public Settings(String nodeName, Duration resyncPeriod, Duration lookupBudget, boolean resolveDuplicates) {
            this(nodeName, resyncPeriod, lookupBudget, resolveDuplicates, DEFAULT_API_READS_PER_SECOND, KEEP_API_ANSWERS);
        }
    }

    /**
     * What a waiting lookup asks for. Each kind says whether a pod the table found is confirmed even while the
     * watch runs, and whether a pod found is one to wait past (the table may still show the IP's previous owner).
     */
    private sealed interface Query {
        String ip();

        default boolean confirmAlways() {
            return false;
        }

        default boolean waitsPast(PodInfo found) {
            return false;
        }

        /**
         * The request carries an IMDSv2 token issued to {@code found}, bound to this address: while the index is
         * behind, it is answered from the index as the pod's read runs (no pod that took the address since can
         * hold that token), rather than waiting for the read (ApiConfirmation#confirm).
         */
        default boolean tokenBound(PodInfo found) {
            return false;
        }
    }

    /** The pod at an address. */
    private record AtAddress(String ip) implements Query {
    }

    /** The pod at an address as the API server has it now: an IMDSv2 token is to be bound to it. */
    private record Confirmed(String ip) implements Query {
        @Override
        public boolean confirmAlways() {
            return true;
        }
    }

    /** The pod at an address only if it is the pod a token was issued to. */
    private record TokenPod(String ip, String uid) implements Query {
        @Override
        public boolean waitsPast(PodInfo found) {
            return !uid.equals(found.uid());
        }

        @Override
        public boolean tokenBound(PodInfo found) {
            return uid.equals(found.uid());
        }
    }

    private final Settings settings;
    private final SettingNames names;
    private final PodTable table = new PodTable();
    private final PodInformers informers;
    private final ApiConfirmation api;

    /** An index whose messages name settings by their fields. */
    public PodIndex(KubernetesClient client, Settings settings) {
        this(client, settings, SettingNames.FIELDS);
    }

    /** @param names how the messages name a setting (the agent's flags) */
    public PodIndex(KubernetesClient client, Settings settings, SettingNames names) {
        this.settings = settings;
        this.names = names;
        this.informers = new PodInformers(client, settings.nodeName(), settings.resyncPeriod(), table);
        this.api = new ApiConfirmation(new ApiReads(client, settings.nodeName(), settings.lookupBudget(),
                new ReadBudget(settings.apiReadsPerSecond()), settings.keepApiAnswers(), System::nanoTime, names,
                (key, pod) -> ApiConfirmation.writeBack(table, settings.nodeName(), key, pod, informers.notCurrent() == null)), table,
                settings.nodeName());
    }

    /** The node whose pods this index holds. */
    public String nodeName() {
        return settings.nodeName();
    }

    public void addListener(PodListener listener) {
        table.addListener(listener);
    }

    /** Starts the informers: pods of this node only, and namespaces (for their role restrictions). */
    public void start() {
        informers.start();
    }

    /** Current: every informer's list is in the index and every watch runs. */
    public boolean synced() {
        return notCurrent() == null;
    }

    /** Why the index may not hold what the API server holds now, or null when it does (as far as a running watch can tell). */
    public String notCurrent() {
        return informers.notCurrent();
    }

    public Freshness freshness() {
        return informers.freshness();
    }

    /** Waits until the index is current (lists applied, watches running); throws naming what is missing. */
    public void awaitSynced(Duration timeout) throws InterruptedException {
        informers.awaitSynced(timeout);
    }

    /** Applies a pod as the informer (or a test) saw it. hostNetwork pods share the node's IP: never indexed by IP. */
    public void upsert(PodInfo pod) {
        table.upsert(pod);
    }

    public void remove(PodInfo pod) {
        table.remove(pod);
    }

    /** The pod for an IP as the index knows it now (two live claimants are settled by the API server when so set). */
    public PodLookup find(String ip) {
        PodTable.Claim claim = table.claim(ip);
        List<PodInfo> live = claim.live();
        if (live.size() == 1) {
            return new PodLookup.Found(live.getFirst());
        }
        if (live.size() > 1) {
            return settings.resolveDuplicates()
                    ? api.settleDuplicate(claim.ip(), live, notCurrent() != null)
                    : new PodLookup.Ambiguous(ApiConfirmation.describeClaim(claim.ip(), live)
                    + "; enable " + names.of(Setting.RESOLVE_DUPLICATES) + " to ask the API server");
        }
        if (!claim.claimants().isEmpty()) {
            return new PodLookup.NotFound("no live pod has IP " + ip + " (" + claim.claimants().stream()
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
        return await(new AtAddress(ip));
    }

    /**
     * The pod at {@code ip} as the API server has it now, for binding an IMDSv2 token to it: the index's
     * candidate is confirmed with a consistent GET by name (one key, cheap) even when the watch runs, since
     * a running watch still lags by milliseconds. When the API server cannot be asked, only a current index
     * is trusted.
     */
    public PodLookup findConfirmed(String ip) throws InterruptedException {
        return await(new Confirmed(ip));
    }

    /**
     * The pod at {@code ip} only if it is the pod {@code uid} (a token's): while the index still shows another
     * pod there, wait for it to catch up, then refuse. Never the other pod.
     */
    public PodLookup findTokenPod(String ip, String uid) throws InterruptedException {
        PodLookup result = await(new TokenPod(ip, uid));
        // A confirmation may have found the IP's new owner: still not the token's pod.
        if (result instanceof PodLookup.Found(PodInfo pod) && !uid.equals(pod.uid())) {
            return new PodLookup.Unavailable("IP " + ip + " belongs to " + pod + ", but the token was issued to pod uid " + uid
                    + ": request a new token");
        }
        return result;
    }

    /** Looks until the query is answered or the lookup budget is spent, waiting for the table between looks. */
    private PodLookup await(Query query) throws InterruptedException {
        long deadline = System.nanoTime() + settings.lookupBudget().toNanos();
        while (true) {
            long seen = table.version();
            PodLookup result = find(query.ip());
            // Before the first lists are in, nothing is answered: not a pod's role (its namespace may not be known
            // yet, nor a newer owner of its IP), not "no such pod".
            boolean listed = informers.listed();
            String notCurrent = notCurrent();
            if (listed) {
                Optional<PodLookup> answer = answer(query, result, notCurrent);
                if (answer.isPresent()) {
                    return answer.get();
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return timedOut(query, result, listed, notCurrent);
            }
            table.awaitChange(seen, left);
        }
    }

    /**
     * What a listed index answers now, or empty to wait for the informers: an IP the index does not know (while
     * it is current), or a token's IP that the index still gives another pod.
     */
    private Optional<PodLookup> answer(Query query, PodLookup result, String notCurrent) {
        boolean behind = notCurrent != null;
        return switch (result) {
            case PodLookup.Found(PodInfo pod) when query.waitsPast(pod) -> Optional.empty();
            case PodLookup.Found(PodInfo pod) -> Optional.of(behind || query.confirmAlways()
                    ? api.confirm(pod, query.ip(), query.confirmAlways(), behind, query.tokenBound(pod)) : result);
            case PodLookup.Ambiguous ambiguous -> Optional.of(ambiguous);
            default -> behind || query.confirmAlways()
                    ? Optional.of(api.ownerOf(query.ip(), behind ? "the index is not current: " + notCurrent
                    : "confirming the owner of " + query.ip(), behind))
                    : Optional.empty();
        };
    }

    private static PodLookup timedOut(Query query, PodLookup result, boolean listed, String notCurrent) {
        if (result instanceof PodLookup.Found(PodInfo pod) && query instanceof TokenPod(String ip, String uid) && !uid.equals(pod.uid())) {
            return new PodLookup.Unavailable("IP " + ip + " belongs to " + pod + " in the index, but the token was issued to pod uid " + uid
                    + ": request a new token");
        }
        return listed ? result : new PodLookup.Unavailable("the agent has not received the pods of its node yet: " + notCurrent);
    }

    /**
     * The pod with this uid (hostNetwork pods included), for a caller the kernel named by its cgroup: from
     * the index, or, for a uid it does not know yet (a pod newer than the last watch event), from a
     * consistent list of the node's pods.
     */
    public PodLookup findByUid(String uid) {
        Optional<PodInfo> known = table.byUid(uid);
        if (known.isPresent()) {
            return new PodLookup.Found(known.get());
        }
        if (!informers.listed()) {
            return new PodLookup.Unavailable("the agent has not received the pods of its node yet: " + notCurrent());
        }
        return api.podWithUid(uid, notCurrent() != null);
    }

    /** {@code known} as the API server has it now (a consistent GET), if it still exists with the same uid on this node. */
    public Optional<PodInfo> current(PodInfo known) {
        return api.current(known, notCurrent() != null);
    }

    /** API reads of lookups so far: started, shared with another lookup (in flight or kept), refused by the budget. */
    public SharedReads.Counts apiReads() {
        return api.counts();
    }

    /** kube2iam's kube2iam_iam_k8s_dup_req_count and _success_count: IPs settled through the API server, asked and settled. */
    public long[] duplicateCounts() {
        return api.duplicateCounts();
    }

    public Optional<NamespaceInfo> namespace(String name) {
        return informers.namespace(name);
    }

    /** Every pod the index holds, for /debug/store and for deciding which credentials are still wanted. */
    public List<PodInfo> pods() {
        return table.pods();
    }

    public Set<String> ips() {
        return table.ips();
    }

    @Override
    public void close() {
        informers.close();
    }
}
