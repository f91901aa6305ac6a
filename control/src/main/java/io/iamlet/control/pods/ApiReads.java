package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the pod index asks the API server on a lookup it cannot answer on trust: a consistent GET of one pod,
 * or a consistent list of the node's pods. Each read is bounded in time (the lookup budget) and shared by the
 * lookups that need it at once; during an outage of the watches it is also kept for {@code keep} (≤ 1 s) and
 * started only within the node's {@link ReadBudget}, one for both kinds (a list counts as one read).
 */
final class ApiReads {
    private final KubernetesClient client;
    private final String nodeName;
    private final Duration timeout;
    private final ReadBudget budget;
    private final SharedReads<SlimPod> pods;
    private final SharedReads<List<PodInfo>> nodePods;
    /** Kept between reads (idle ones end after a minute): a new thread per read started late on a busy node. */
    private final ExecutorService readers = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("pod-lookup-", 0).factory());
    private final SettingNames names;

    /** @param podAnswered told of every GET's answer (null: the pod is gone) by its key, namespace/name */
    ApiReads(KubernetesClient client, String nodeName, Duration timeout, ReadBudget budget, Duration keep, LongSupplier nanoClock,
             SettingNames names, BiConsumer<String, SlimPod> podAnswered) {
        this.client = client;
        this.nodeName = nodeName;
        this.timeout = timeout;
        this.budget = budget;
        this.pods = new SharedReads<>(budget, keep, nanoClock, podAnswered);
        this.nodePods = new SharedReads<>(budget, keep, nanoClock);
        this.names = names;
    }

    /** The pod {@code namespace/name} now (null: gone); during an {@code outage}, as read within the last {@code keep}. */
    SharedReads.Read<SlimPod> pod(String namespace, String name, boolean outage) {
        return pods.read(namespace + "/" + name, outage, () -> get(namespace, name));
    }

    /**
     * {@link #pod} during an outage for a lookup that does not wait: the answer if one is kept, else
     * {@link SharedReads.Read.Pending} while the read (perhaps started now, in the background) is on its way.
     */
    SharedReads.Read<SlimPod> podWithoutWaiting(String namespace, String name) {
        return pods.readWithoutWaiting(namespace + "/" + name, true, () -> get(namespace, name));
    }

    /** One consistent GET of the pod {@code namespace/name} (null: gone), bounded like every read. */
    private SlimPod get(String namespace, String name) {
        return ask(() -> client.resources(SlimPod.class).inNamespace(namespace).withName(name).get());
    }

    /** The node's pods now, as the index holds them; during an {@code outage}, as read within the last {@code keep}. */
    SharedReads.Read<List<PodInfo>> nodePods(boolean outage) {
        return nodePods.read("", outage, () -> ask(() -> client.resources(SlimPod.class).inAnyNamespace().withField("spec.nodeName", nodeName).list()).getItems()
                .stream()
                .filter(p -> p.onNode(nodeName))
                .map(PodInfo::of)
                .toList());
    }

    /** Why a lookup was answered without the API server, for the log and the 503's body. */
    String overBudget() {
        return "this node's API reads are at their budget (" + names.of(Setting.API_READS_PER_SECOND) + "=" + budget.perSecond() + "): try again shortly";
    }

    SharedReads.Counts counts() {
        SharedReads.Counts a = pods.counts();
        SharedReads.Counts b = nodePods.counts();
        return new SharedReads.Counts(a.started() + b.started(), a.shared() + b.shared(), a.overBudget() + b.overBudget());
    }

    /**
     * One API call, bounded by the lookup budget: the client's own retries (with back-off, on 5xx and
     * connection errors) could otherwise hold a pod's request for many seconds.
     */
    private <T> T ask(Supplier<T> call) {
        // A platform thread: parsing the answer (a list of the node's pods is hundreds of KiB on a real node) is
        // CPU work that does not yield, and on a virtual thread it holds the agent's one carrier: every pod's
        // request waited for it (docs/performance.md, the API outage). At most --api-reads-per-second of
        // these a second during an outage, and a few for tokens otherwise.
        CompletableFuture<T> answer = CompletableFuture.supplyAsync(call, readers);
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new KubernetesClientException("no answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof KubernetesClientException k ? k
                    : new KubernetesClientException("asking the API server failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KubernetesClientException("interrupted while asking the API server");
        }
    }
}
