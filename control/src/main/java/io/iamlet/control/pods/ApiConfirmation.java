package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClientException;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * What the API server says when the table cannot be taken on trust: a pod the table found is confirmed with a
 * consistent GET, an IP or uid it does not know is looked up in a consistent list of the node's pods, and two
 * live claimants of one IP are settled the same way. Whatever the API server answers is written back to the
 * table. Every read goes through {@link ApiReads}: shared, kept ≤ 1 s, within the node's budget.
 * <p>
 * {@code indexBehind} on each call: the watch is down, so an API answer of the last second is good enough and
 * reads are within the node's budget (the storm they prevent); while the watch runs, the table is newer than
 * any kept answer and reads are few (tokens being issued).
 */
final class ApiConfirmation {
    private final ApiReads reads;
    private final PodTable table;
    private final String nodeName;
    private final LongAdder duplicatesAsked = new LongAdder();
    private final LongAdder duplicatesSettled = new LongAdder();

    ApiConfirmation(ApiReads reads, PodTable table, String nodeName) {
        this.reads = reads;
        this.table = table;
        this.nodeName = nodeName;
    }

    /**
     * The table found {@code known} at {@code ip} but cannot vouch that this is still so: one consistent GET
     * of that pod settles it. An API server that cannot be reached leaves the known pod standing (outages
     * must not take roles away from running pods); one that answers otherwise has the last word.
     * <p>
     * With {@code tokenHeld} while the index is behind, the request carries an IMDSv2 token issued to
     * {@code known} (the API server confirmed it owned {@code ip} when the token was issued, and the token is
     * bound to that address and that uid): a pod that took the address since cannot hold it. So the request
     * is answered from the table at once while the GET runs on a thread of its own; its answer is written
     * into the table as every GET's is ({@link #writeBack}), so once it says the pod is gone, the token's next
     * request no longer finds it (docs/security.md's windows: the read's time, within the lookup budget).
     *
     * @param forToken an IMDSv2 token is to be bound to the answer: never bound to the table's guess while
     *                 the index is behind, nor (over the read budget) to an unconfirmed pod
     */
    PodLookup confirm(PodInfo known, String ip, boolean forToken, boolean indexBehind, boolean tokenHeld) {
        SlimPod now;
        try {
            SharedReads.Read<SlimPod> read = tokenHeld && indexBehind && !forToken
                    ? reads.podWithoutWaiting(known.namespace(), known.name())
                    : reads.pod(known.namespace(), known.name(), indexBehind);
            switch (read) {
                case SharedReads.Read.Answered<SlimPod>(SlimPod answer) -> now = answer;
                case SharedReads.Read.Pending<SlimPod> pending -> {
                    return new PodLookup.Found(known);
                }
                // Over the budget (only while the watch is down): a known pod keeps its role from the table, as when
                // the API server cannot be reached; a new token is not bound to a pod that was not confirmed.
                case SharedReads.Read.OverBudget<SlimPod> over -> {
                    return forToken ? new PodLookup.Unavailable(known + " at " + ip + " cannot be confirmed now: " + reads.overBudget())
                            : new PodLookup.Found(known);
                }
            }
        } catch (KubernetesClientException e) {
            return forToken && indexBehind ? new PodLookup.Unavailable("the index is not current and the API server could not confirm "
                    + known + " at " + ip + ": " + e.getMessage()) : new PodLookup.Found(known);
        }
        // The answer is in the table already (writeBack): the pod still there, or its change or end.
        if (now != null && now.onNode(nodeName)) {
            PodInfo fresh = PodInfo.of(now);
            if (fresh.live() && !fresh.hostNetwork() && Objects.equals(fresh.uid(), known.uid()) && fresh.hasIp(ip)) {
                return new PodLookup.Found(fresh);
            }
        }
        return ownerOf(ip, "pod " + known + " no longer has IP " + ip + " (asked the API server)", indexBehind);
    }

    /**
     * What every GET of a pod tells the table, whoever waited for it (or nobody: a token's read in the
     * background): the pod gone, moved to another node, or changed. A pod the table no longer holds is left
     * out: the table may have heard of its end after the read left. While the watch runs, its events are newer
     * than most reads, so only what decides who owns an address is corrected (uid, addresses, live, host
     * network), as before; while it is down, the read is the newest word, a changed role annotation included.
     */
    static void writeBack(PodTable table, String nodeName, String key, SlimPod now, boolean watchRuns) {
        Optional<PodInfo> known = table.byKey(key);
        if (known.isEmpty()) {
            return;
        }
        if (now == null || !now.onNode(nodeName)) {
            table.remove(known.get());
            return;
        }
        PodInfo fresh = PodInfo.of(now);
        if (watchRuns ? !sameClaim(fresh, known.get()) : !fresh.equals(known.get())) {
            table.upsert(fresh);
        }
    }

    private static boolean sameClaim(PodInfo a, PodInfo b) {
        return Objects.equals(a.uid(), b.uid()) && a.ips().equals(b.ips()) && a.live() == b.live() && a.hostNetwork() == b.hostNetwork();
    }

    /** The live pod with {@code ip} as the API server lists it now, {@code why} the table was not trusted. */
    PodLookup ownerOf(String ip, String why, boolean indexBehind) {
        List<PodInfo> live;
        try {
            Optional<List<PodInfo>> listed = livePodsWith(ip, indexBehind);
            if (listed.isEmpty()) {
                return new PodLookup.Unavailable(why + ", and " + reads.overBudget());
            }
            live = listed.get();
        } catch (KubernetesClientException e) {
            return new PodLookup.Unavailable(why + " and the API server could not be asked: " + e.getMessage());
        }
        if (live.size() == 1) {
            table.upsert(live.getFirst());
            return new PodLookup.Found(live.getFirst());
        }
        if (live.isEmpty()) {
            return new PodLookup.NotFound("no pod on node " + nodeName + " has IP " + ip + " (" + why + ")");
        }
        return new PodLookup.Ambiguous(describeClaim(ip, live) + " in the API server; refusing to guess");
    }

    /** Two or more live pods claim {@code ip} in the table: the API server's list of the node's pods decides. */
    PodLookup settleDuplicate(String ip, List<PodInfo> claimants, boolean indexBehind) {
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
            table.upsert(live.getFirst());
            return new PodLookup.Found(live.getFirst());
        }
        return new PodLookup.Ambiguous(describeClaim(ip, claimants) + " and the API server lists " + live.size()
                + " live pods with it; refusing to guess");
    }

    /** The pod with {@code uid}, which the table does not know, from a consistent list of the node's pods. */
    PodLookup podWithUid(String uid, boolean indexBehind) {
        String unknown = "the caller's cgroup names pod uid " + uid + ", which the index does not know";
        List<PodInfo> found;
        try {
            if (!(reads.nodePods(indexBehind) instanceof SharedReads.Read.Answered<List<PodInfo>>(List<PodInfo> nodePods))) {
                return new PodLookup.Unavailable(unknown + ", and " + reads.overBudget());
            }
            found = nodePods.stream().filter(p -> uid.equals(p.uid())).toList();
        } catch (KubernetesClientException e) {
            return new PodLookup.Unavailable(unknown + ", and the API server could not be asked: " + e.getMessage());
        }
        if (found.isEmpty()) {
            return new PodLookup.NotFound("the caller's cgroup names pod uid " + uid + ", which is no pod of node " + nodeName
                    + " in the API server");
        }
        table.upsert(found.getFirst());
        return new PodLookup.Found(found.getFirst());
    }

    /** {@code known} as the API server has it now (a consistent GET), if it still exists with the same uid on this node. */
    Optional<PodInfo> current(PodInfo known, boolean indexBehind) {
        SlimPod now;
        try {
            if (!(reads.pod(known.namespace(), known.name(), indexBehind) instanceof SharedReads.Read.Answered<SlimPod>(SlimPod answer))) {
                return Optional.empty();
            }
            now = answer;
        } catch (KubernetesClientException e) {
            return Optional.empty();
        }
        if (now == null || !now.onNode(nodeName)) {
            return Optional.empty();
        }
        PodInfo fresh = PodInfo.of(now);
        // In the table already (writeBack).
        return Objects.equals(fresh.uid(), known.uid()) ? Optional.of(fresh) : Optional.empty();
    }

    /** The live pods with {@code ip} in a consistent list of this node's pods; empty when the read budget is spent. */
    private Optional<List<PodInfo>> livePodsWith(String ip, boolean indexBehind) {
        if (!(reads.nodePods(indexBehind) instanceof SharedReads.Read.Answered<List<PodInfo>>(List<PodInfo> nodePods))) {
            return Optional.empty();
        }
        return Optional.of(nodePods.stream().filter(p -> p.live() && !p.hostNetwork() && p.hasIp(ip)).toList());
    }

    SharedReads.Counts counts() {
        return reads.counts();
    }

    /** IPs settled through the API server: asked and settled. */
    long[] duplicateCounts() {
        return new long[] {duplicatesAsked.sum(), duplicatesSettled.sum()};
    }

    static String describeClaim(String ip, List<PodInfo> claimants) {
        return claimants.size() + " live pods claim IP " + ip + " ("
                + claimants.stream().map(PodInfo::key).collect(Collectors.joining(", ")) + ")";
    }
}
