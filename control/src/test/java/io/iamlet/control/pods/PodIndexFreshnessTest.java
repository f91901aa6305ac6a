package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 finding 1 (ready before the watch works → a deleted pod's role served) and the #13 smell (a
 * lookup holding the index lock while it asks the API server), against the mock API server made to refuse
 * watches or to hang.
 */
class PodIndexFreshnessTest {
    private static final String NODE = "node-a";
    private static final String IP = "10.1.0.40";
    private MockApiServer api;
    private KubernetesClient client;
    private PodIndex index;

    @BeforeEach
    void start() {
        api = MockApiServer.start();
        client = api.client();
    }

    @AfterEach
    void stop() {
        if (index != null) {
            index.close();
        }
        api.close();
    }

    private void startIndex(Duration budget) {
        index = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofMinutes(30), budget, true));
        index.start();
    }

    private Pod create(Pod pod) {
        return client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    }

    private static String owner(PodLookup lookup) {
        return lookup instanceof PodLookup.Found(PodInfo pod) ? pod.key() : lookup.toString();
    }

    @Test
    void withoutAWatchADeletedPodsIpIsNeverServedFromTheIndex() throws Exception {
        api.refuseWatches(true);
        create(Pods.withRole("team", "old", NODE, "old-role", IP));
        client.namespaces().resource(Pods.namespace("team", Map.of())).create();
        startIndex(Duration.ofMillis(500));
        IllegalStateException notReady = assertThrows(IllegalStateException.class, () -> index.awaitSynced(Duration.ofSeconds(3)),
                "a list without a watch is not current");
        assertTrue(notReady.getMessage().contains("watch of pods is not established"), notReady.getMessage());
        assertEquals("team/old", owner(index.find(IP)), "the list is in the index");
        assertFalse(index.synced());
        assertFalse(index.freshness().podsWatching());

        // The pod goes and another takes its IP: with no watch the index cannot know.
        client.pods().inNamespace("team").withName("old").withGracePeriod(0).delete();
        create(Pods.withRole("team", "new", NODE, "new-role", IP));
        for (int i = 0; i < 20; i++) {
            assertEquals("team/new", owner(index.findWaiting(IP)), "ask " + i + ": the API server has the last word");
        }
        PodLookup gone = index.findWaiting("10.1.0.41");
        assertInstanceOf(PodLookup.NotFound.class, gone, "an IP nobody has, confirmed with the API server");

        api.refuseWatches(false);
        index.awaitSynced(Duration.ofSeconds(30));
        assertTrue(index.freshness().podsWatching());
        assertEquals("team/new", owner(index.findWaiting(IP)));
    }

    @Test
    void aKnownPodIsStillServedWhenTheApiServerIsUnreachableAndTheWatchDown() throws Exception {
        api.refuseWatches(true);
        create(Pods.withRole("team", "steady", NODE, "role", IP));
        startIndex(Duration.ofMillis(500));
        assertThrows(IllegalStateException.class, () -> index.awaitSynced(Duration.ofSeconds(3)));
        api.unavailable(true);
        assertEquals("team/steady", owner(index.findWaiting(IP)), "an API outage does not take roles from running pods");
        PodLookup unknown = index.findWaiting("10.1.0.41");
        assertInstanceOf(PodLookup.Unavailable.class, unknown, "an unknown IP cannot be confirmed: no answer, not a guess");
    }

    @Test
    void beforeTheFirstListNothingIsAnswered() throws Exception {
        api.delayReads(Duration.ofSeconds(2));
        create(Pods.withRole("team", "early", NODE, "role", IP));
        startIndex(Duration.ofMillis(300));
        assertInstanceOf(PodLookup.Unavailable.class, index.findWaiting(IP), "503, not 404 and not a namespace 403");
        api.delayReads(Duration.ZERO);
        index.awaitSynced(Duration.ofSeconds(30));
        assertEquals("team/early", owner(index.findWaiting(IP)));
    }

    @Test
    void aLookupThatWaitsForTheApiServerDoesNotBlockOthers() throws Exception {
        create(Pods.withRole("team", "a", NODE, "role", IP));
        create(Pods.withRole("team", "b", NODE, "role", "10.1.0.42"));
        startIndex(Duration.ofSeconds(2));
        index.awaitSynced(Duration.ofSeconds(30));
        // Two live claimants of one IP: settling it needs the API server, which now hangs.
        index.upsert(new PodInfo("team", "ghost", "u-ghost", List.of(IP), "Running", false, false, Map.of()));
        api.delayReads(Duration.ofMillis(1500));
        CompletableFuture<PodLookup> stuck = CompletableFuture.supplyAsync(() -> {
            try {
                return index.findWaiting(IP);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(200);
        assertFalse(stuck.isDone(), "the duplicate lookup is waiting for the API server");
        CompletableFuture<PodLookup> other = CompletableFuture.supplyAsync(() -> {
            try {
                return index.findWaiting("10.1.0.42");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("team/b", owner(other.get(1, TimeUnit.SECONDS)), "another pod's lookup does not wait behind it");
        assertFalse(stuck.isDone(), "while the first still waits for the API server");
        CompletableFuture<PodLookup> unknown = CompletableFuture.supplyAsync(() -> {
            try {
                return index.findWaiting("10.1.0.43");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        create(Pods.withRole("team", "c", NODE, "role", "10.1.0.43"));
        assertEquals("team/a", owner(stuck.get(10, TimeUnit.SECONDS)));
        assertEquals("team/c", owner(unknown.get(10, TimeUnit.SECONDS)), "informer updates were not held up either");
    }
}
