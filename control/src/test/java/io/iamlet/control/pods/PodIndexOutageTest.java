package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #24: the API server's bad day. Its watches drop and it refuses new ones, every lookup needs a
 * confirmation, and the pods keep asking at their own rate: the reads the index sends stay one per pod at a
 * time, kept ≤ 1 s, and within the node's budget, whatever the rate; every answer is still the right pod.
 */
class PodIndexOutageTest {
    private static final String NODE = "node-a";
    private static final int PODS = 20;
    private static final int BUDGET = 5;
    private MockApiServer api;
    private KubernetesClient client;
    private PodIndex index;

    @BeforeEach
    void start() throws Exception {
        api = MockApiServer.start();
        client = api.client();
        client.namespaces().resource(Pods.namespace("team", Map.of())).create();
        for (int i = 0; i < PODS; i++) {
            client.pods().inNamespace("team").resource(Pods.withRole("team", "pod-" + i, NODE, "role-" + i, ip(i))).create();
        }
        index = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofMinutes(30), Duration.ofSeconds(2), true, BUDGET,
                Duration.ofSeconds(1)));
        index.start();
        index.awaitSynced(Duration.ofSeconds(30));
        // The outage: the API server drops every watch and refuses new ones; reads still work.
        api.refuseWatches(true);
        api.dropWatches();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (index.synced()) {
            assertTrue(System.nanoTime() < deadline, "the index noticed its watch was gone");
            Thread.sleep(10);
        }
    }

    @AfterEach
    void stop() {
        index.close();
        api.close();
    }

    private static String ip(int i) {
        return "10.1.0." + (10 + i);
    }

    private static String owner(PodLookup lookup) {
        return lookup instanceof PodLookup.Found(PodInfo pod) ? pod.key() : lookup.toString();
    }

    /** Lookups' reads at the API server: GETs of one pod by name (the informer never sends those). */
    private List<MockApiServer.Request> podGets(long since) {
        return api.requests().stream().filter(r -> r.nanos() >= since && r.podRead() && r.path().split("\\?")[0].contains("/pods/")).toList();
    }

    @Test
    void concurrentRequestsOfOnePodShareOneRead() throws Exception {
        long since = System.nanoTime();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> answers = new ArrayList<>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                answers.add(threads.submit(() -> {
                    go.await();
                    return owner(index.findWaiting(ip(3)));
                }));
            }
            go.countDown();
            for (Future<String> a : answers) {
                assertEquals("team/pod-3", a.get(10, TimeUnit.SECONDS));
            }
        }
        assertEquals(1, podGets(since).size(), "200 concurrent requests of one pod: one GET, " + podGets(since));
        assertEquals(1, index.apiReads().started());
        assertEquals(199, index.apiReads().shared());
    }

    /**
     * 16 callers asking for 20 pods as fast as they can for 3 s (over a hundred thousand lookups): every answer
     * is the pod at that address, the budget is what limits (lookups beyond it are answered from the index),
     * and the API server sees at most the budget's reads in any window of a second less their transit jitter
     * (the callers keep both cores busy, so a read reaches the mock server up to ~100 ms after it left; the
     * budget itself is exact on the reads' starts: ReadBudgetTest).
     */
    @Test
    void readsPerSecondStayWithinTheBudgetAtAnyRequestRateAndAnswersStayRight() throws Exception {
        long since = System.nanoTime();
        long end = since + TimeUnit.SECONDS.toNanos(3);
        AtomicInteger lookups = new AtomicInteger();
        Map<String, String> wrong = new ConcurrentHashMap<>();
        // Platform threads: lookups answered from the index never block, and 32 virtual threads that never block
        // would keep the client's own threads off the carriers (a test artefact; the server's requests do block on I/O).
        try (var threads = Executors.newFixedThreadPool(16)) {
            for (int t = 0; t < 16; t++) {
                int first = t;
                threads.submit(() -> {
                    for (int n = first; System.nanoTime() < end; n++) {
                        int pod = n % PODS;
                        String got = owner(index.findWaiting(ip(pod)));
                        if (!got.equals("team/pod-" + pod)) {
                            wrong.put(ip(pod), got);
                        }
                        lookups.incrementAndGet();
                    }
                    return null;
                });
            }
        }
        assertEquals(Map.of(), wrong, "every lookup found the pod at its address");
        List<Long> reads = podGets(since).stream().map(MockApiServer.Request::nanos).toList();
        int worst = 0;
        for (int i = 0; i < reads.size(); i++) {
            int inWindow = 0;
            for (int j = i; j < reads.size() && reads.get(j) - reads.get(i) < 850_000_000L; j++) {
                inWindow++;
            }
            worst = Math.max(worst, inWindow);
        }
        assertTrue(lookups.get() > 1000, lookups + " lookups");
        assertTrue(worst <= BUDGET, "at most " + BUDGET + " reads in any 850 ms, saw " + worst + " (" + reads.size() + " reads for "
                + lookups + " lookups) " + reads.stream().map(r -> (r - since) / 1_000_000).toList());
        assertTrue(reads.size() >= 2 * BUDGET && reads.size() <= 3 * BUDGET, reads.size() + " reads in 3 s: the budget is used, not exceeded");
        SharedReads.Counts counts = index.apiReads();
        assertEquals(reads.size(), counts.started(), "the index counts what the API server saw");
        assertTrue(counts.overBudget() > 0 && counts.shared() > 0, counts.toString());
    }

    @Test
    void overTheBudgetAnUnknownAddressIsUnavailableAndATokensPodOnlyItsOwn() throws Exception {
        for (int i = 0; i < PODS; i++) {
            index.findWaiting(ip(i)); // spends the budget
        }
        PodLookup unknown = index.findWaiting("10.1.9.9");
        assertInstanceOf(PodLookup.Unavailable.class, unknown, "no guess for an address the index does not know");
        assertTrue(((PodLookup.Unavailable) unknown).reason().contains("apiReadsPerSecond=" + BUDGET), unknown.toString());
        PodLookup token = index.findConfirmed(ip(8));
        assertInstanceOf(PodLookup.Unavailable.class, token, "a new token is bound only to a confirmed pod: " + token);
        String uid = ((PodLookup.Found) index.find(ip(7))).pod().uid();
        assertEquals("team/pod-7", owner(index.findTokenPod(ip(7), uid)), "a token's own pod, from the index");
        assertInstanceOf(PodLookup.Unavailable.class, index.findTokenPod(ip(7), "another-uid"), "never another pod's");
    }

    @Test
    void aConfirmationIsKeptForASecondAndNoLonger() throws Exception {
        assertEquals("team/pod-1", owner(index.findWaiting(ip(1))));
        // The pod goes and another takes its address: the watch is down, so only a read can tell.
        client.pods().inNamespace("team").withName("pod-1").withGracePeriod(0).delete();
        client.pods().inNamespace("team").resource(Pods.withRole("team", "newcomer", NODE, "new-role", ip(1))).create();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        String seen = owner(index.findWaiting(ip(1)));
        while (!seen.equals("team/newcomer")) {
            assertEquals("team/pod-1", seen, "within the window: the kept confirmation, never a third answer");
            assertTrue(System.nanoTime() < deadline, "the kept confirmation outlived its second");
            Thread.sleep(50);
            seen = owner(index.findWaiting(ip(1)));
        }
    }

    @Test
    void whenTheWatchesComeBackLookupsStopReading() throws Exception {
        api.refuseWatches(false);
        index.awaitSynced(Duration.ofSeconds(30));
        long since = System.nanoTime();
        for (int i = 0; i < 2000; i++) {
            assertEquals("team/pod-" + (i % PODS), owner(index.findWaiting(ip(i % PODS))));
        }
        assertEquals(List.of(), podGets(since), "a current index answers alone");
    }
}
