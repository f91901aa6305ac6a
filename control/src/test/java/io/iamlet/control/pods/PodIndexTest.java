package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The index against fabric8's mock API server in CRUD mode. */
class PodIndexTest {
    static final String NODE = "node-a";
    private MockApiServer api;
    private KubernetesClient client;
    private PodIndex index;

    @BeforeEach
    void start() throws Exception {
        api = MockApiServer.start();
        client = api.client();
        index = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofMinutes(30), Duration.ofSeconds(2), true));
        index.start();
        index.awaitSynced(Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        index.close();
        api.close();
    }

    private Pod create(Pod pod) {
        return client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    }

    private PodInfo found(String ip) throws InterruptedException {
        PodLookup lookup = index.findWaiting(ip);
        return assertInstanceOf(PodLookup.Found.class, lookup, lookup.toString()).pod();
    }

    private void awaitIndexed(String namespace, String name, String phase) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (index.pods().stream().noneMatch(p -> p.key().equals(namespace + "/" + name) && phase.equals(p.phase()))) {
            assertTrue(System.nanoTime() < deadline, "the informer never delivered " + namespace + "/" + name + " " + phase);
            Thread.sleep(20);
        }
    }

    @Test
    void indexesThisNodesPodsByEveryIp() throws Exception {
        create(Pods.withRole("team", "dual", NODE, "reader", "10.1.0.5", "fd00:10::5"));
        create(Pods.withRole("team", "elsewhere", "node-b", "writer", "10.1.0.6"));
        Pod host = Pods.withRole("kube-system", "host", NODE, "admin", "10.0.0.1");
        host.getSpec().setHostNetwork(true);
        create(host);
        assertEquals("team/dual", found("10.1.0.5").key());
        assertEquals("team/dual", found("fd00:10:0:0:0:0:0:5").key(), "IPv6 in any spelling");
        awaitIndexed("team", "dual", "Running");
        assertInstanceOf(PodLookup.NotFound.class, index.find("10.1.0.6"), "pods of other nodes are not ours");
        assertTrue(api.nodeSelectorRequests() >= 2, "list and watch ask the API server for this node's pods only");
        assertInstanceOf(PodLookup.NotFound.class, index.find("10.0.0.1"), "hostNetwork pods share the node's IP and are never indexed");
    }

    @Test
    void whenTheFirstSyncEndsEveryPodOfTheFirstListIsInTheTable() throws Exception {
        int count = 300;
        for (int i = 0; i < count; i++) {
            create(Pods.withRole("bulk", "pod-" + i, NODE, "reader", "10.7." + (i / 250) + "." + (i % 250 + 1)));
        }
        try (PodIndex fresh = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofMinutes(30), Duration.ofSeconds(2), true))) {
            fresh.start();
            fresh.awaitSynced(Duration.ofSeconds(30));
            assertNull(fresh.notCurrent());
            for (int i = 0; i < count; i++) {
                String ip = "10.7." + (i / 250) + "." + (i % 250 + 1);
                // find() never waits: the pod must already be in the table when the sync is reported.
                PodLookup lookup = fresh.find(ip);
                assertEquals("bulk/pod-" + i, assertInstanceOf(PodLookup.Found.class, lookup, ip + ": " + lookup).pod().key());
            }
            assertEquals(count, fresh.pods().size());
        }
    }

    @Test
    void aReusedIpBelongsToTheNewLivePodOnly() throws Exception {
        create(Pods.pod("team", "old", NODE, "Succeeded", Map.of("iam.amazonaws.com/role", "old-role"), "10.1.0.9"));
        awaitIndexed("team", "old", "Succeeded");
        PodLookup before = index.find("10.1.0.9");
        NotFoundCheck.reasonContains(before, "team/old has Succeeded");
        create(Pods.pod("team", "new", NODE, "Pending", Map.of("iam.amazonaws.com/role", "new-role"), "10.1.0.9"));
        PodInfo owner = found("10.1.0.9");
        assertEquals("team/new", owner.key());
        assertEquals("new-role", owner.annotations().get("iam.amazonaws.com/role"));
    }

    @Test
    void aTerminatingPodNeverLendsItsIp() throws Exception {
        index.upsert(new PodInfo("team", "leaving", "u1", List.of("10.1.0.10"), "Running", true, false,
                Map.of("iam.amazonaws.com/role", "old-role")));
        NotFoundCheck.reasonContains(index.find("10.1.0.10"), "team/leaving is terminating");
    }

    @Test
    void anUnknownIpIsWaitedForUntilTheInformerLearnsIt() throws Exception {
        CompletableFuture<PodLookup> lookup = CompletableFuture.supplyAsync(() -> {
            try {
                return index.findWaiting("10.1.0.20");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertFalse(lookup.isDone(), "still waiting for the pod to appear");
        create(Pods.withRole("team", "fresh", NODE, "reader", "10.1.0.20"));
        PodLookup result = lookup.get(5, TimeUnit.SECONDS);
        assertEquals("team/fresh", assertInstanceOf(PodLookup.Found.class, result).pod().key());
    }

    @Test
    void anIpNobodyHasIsNotFoundAfterTheBudget() throws Exception {
        Instant start = Instant.now();
        NotFoundCheck.reasonContains(index.findWaiting("10.1.0.99"), "no pod on node node-a has IP 10.1.0.99");
        assertTrue(Duration.between(start, Instant.now()).compareTo(Duration.ofMillis(1900)) >= 0, "waited the budget");
    }

    @Test
    void twoLiveClaimantsAreSettledByTheApiServerNeverByGuessing() throws Exception {
        create(Pods.withRole("team", "real", NODE, "reader", "10.1.0.30"));
        awaitIndexed("team", "real", "Running");
        // A stale entry the informer has not corrected yet: the API server knows it is gone.
        index.upsert(new PodInfo("team", "ghost", "u2", List.of("10.1.0.30"), "Running", false, false,
                Map.of("iam.amazonaws.com/role", "admin")));
        assertEquals("team/real", found("10.1.0.30").key());

        create(Pods.withRole("team", "twin", NODE, "writer", "10.1.0.30"));
        awaitIndexed("team", "twin", "Running");
        PodLookup both = index.find("10.1.0.30");
        PodLookup.Ambiguous ambiguous = assertInstanceOf(PodLookup.Ambiguous.class, both, both.toString());
        assertTrue(ambiguous.reason().contains("refusing to guess"), ambiguous.reason());
    }

    @Test
    void namespacesAreKnownWithTheirAnnotations() throws Exception {
        client.namespaces().resource(Pods.namespace("team", Map.of("iam.amazonaws.com/allowed-roles", "[\"reader\"]"))).create();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (index.namespace("team").isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "namespace never arrived");
            Thread.sleep(20);
        }
        assertEquals("[\"reader\"]", index.namespace("team").orElseThrow().annotations().get("iam.amazonaws.com/allowed-roles"));
    }

    /** Checks a NotFound and its reason. */
    static final class NotFoundCheck {
        static void reasonContains(PodLookup lookup, String text) {
            PodLookup.NotFound nf = assertInstanceOf(PodLookup.NotFound.class, lookup, lookup.toString());
            assertTrue(nf.reason().contains(text), nf.reason());
        }
    }
}
