package io.iamlet.control.pods;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The pod informer parses each pod into a {@link SlimPod} and keeps it ({@link SlimPodStore}); a resync or a re-list
 * hands those back to the index, so they must carry every field the index reads.
 */
class PodIndexStoreTest {
    private static final String NODE = "node-a";

    private static List<Pod> everyKindOfPod() {
        Pod dual = Pods.pod("team", "dual", NODE, "Running", Map.of("iam.amazonaws.com/role", "reader",
                "iam.amazonaws.com/external-id", "x-1", "kubectl.kubernetes.io/last-applied-configuration", "{}"), "10.1.0.5", "fd00:10::5");
        dual.getMetadata().setResourceVersion("41");
        dual.getSpec().setServiceAccountName("deployer"); // a session tag (kubernetes-service-account)
        dual.getMetadata().setManagedFields(List.of(new ManagedFieldsEntryBuilder().withManager("kubelet").build()));
        Pod terminating = Pods.withRole("team", "terminating", NODE, "writer", "10.1.0.6");
        terminating.getMetadata().setDeletionTimestamp("2026-11-25T10:00:00Z");
        Pod host = Pods.withRole("kube-system", "host", NODE, "admin", "10.0.0.1");
        host.getSpec().setHostNetwork(true);
        Pod finished = Pods.pod("team", "done", NODE, "Succeeded", Map.of(), "10.1.0.7");
        Pod podIpOnly = Pods.withRole("team", "old-api", NODE, "reader");
        podIpOnly.getStatus().setPodIP("10.1.0.8");
        Pod pending = Pods.pod("team", "pending", NODE, "Pending", Map.of());
        pending.setStatus(null);
        return List.of(dual, terminating, host, finished, podIpOnly, pending);
    }

    /**
     * What the index must make of a whole Pod, written out from fabric8's model: the reference the slim
     * parse is held to.
     */
    private static PodInfo expected(Pod pod) {
        List<String> ips = new ArrayList<>();
        if (pod.getStatus() != null && pod.getStatus().getPodIPs() != null) {
            pod.getStatus().getPodIPs().forEach(a -> ips.add(a.getIp()));
        }
        if (ips.isEmpty() && pod.getStatus() != null && pod.getStatus().getPodIP() != null) {
            ips.add(pod.getStatus().getPodIP());
        }
        var meta = pod.getMetadata();
        return new PodInfo(meta.getNamespace(), meta.getName(), meta.getUid(), ips, pod.getStatus() == null ? null : pod.getStatus().getPhase(),
                meta.getDeletionTimestamp() != null, pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork()),
                meta.getAnnotations() == null ? Map.of() : meta.getAnnotations(), pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName());
    }

    @Test
    void theSlimParseKeepsEveryFieldTheIndexReadsAndNothingElse() {
        SlimPodStore store = new SlimPodStore();
        Pod bare = Pods.pod("team", "bare", NODE, "Running", Map.of());
        bare.getMetadata().setAnnotations(null);
        bare.setSpec(null);
        List<Pod> pods = new ArrayList<>(everyKindOfPod());
        pods.add(bare);
        for (Pod full : pods) {
            full.getMetadata().setLabels(Map.of("app", "x"));
            SlimPod slim = Pods.slim(full);
            String key = store.getKey(slim);
            store.put(key, slim);
            SlimPod kept = store.get(key);
            assertEquals(expected(full), PodInfo.of(kept), key);
            assertEquals(full.getSpec() != null && NODE.equals(full.getSpec().getNodeName()), kept.onNode(NODE), key + ": apply() checks the node");
            assertEquals(full.getMetadata().getResourceVersion(), store.resourceVersion(key), key);
            assertEquals(key, kept.getMetadata().getNamespace() + "/" + kept.getMetadata().getName());
            assertTrue(kept.getMetadata().getManagedFields().isEmpty(), key + ": what the index does not read is not kept");
            assertTrue(kept.getMetadata().getLabels().isEmpty(), key + ": labels are not kept");
        }
        assertTrue(PodInfo.of(Pods.slim(everyKindOfPod().getFirst())).ips().contains("fd00:10::5"), "both addresses of a dual-stack pod");
    }

    @Test
    void aResyncFromTheReducedStoreLeavesTheIndexAsTheFullPodsMadeIt() throws Exception {
        try (MockApiServer api = MockApiServer.start()) {
            KubernetesClient client = api.client();
            List<Pod> pods = everyKindOfPod();
            for (Pod pod : pods) {
                client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
            }
            List<PodInfo[]> changes = new CopyOnWriteArrayList<>();
            // fabric8's shortest resync period is one second.
            try (PodIndex index = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofSeconds(1), Duration.ofSeconds(2), true))) {
                index.addListener((before, after) -> changes.add(new PodInfo[] {before, after}));
                index.start();
                index.awaitSynced(Duration.ofSeconds(10));
                List<PodInfo> listed = index.pods();
                assertEquals(pods.size() - 1, listed.size(), "every pod but the hostNetwork one: " + listed);
                int before = changes.size();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                // A resync re-applies every stored pod: wait for each one to come through once more.
                while (changes.size() < before + pods.size()) {
                    assertTrue(System.nanoTime() < deadline, "no resync within 10 s: " + (changes.size() - before) + " re-applied");
                    Thread.sleep(50);
                }
                for (PodInfo[] change : changes.subList(before, changes.size())) {
                    if (change[0] != null && change[1] != null) {
                        assertEquals(change[0], change[1], "a resync changed what the index holds of " + change[0]);
                    }
                }
                assertEquals(Set.copyOf(listed), Set.copyOf(index.pods()), "the index after the resync");
                PodLookup dual = index.find("fd00:10:0:0:0:0:0:5");
                PodInfo found = assertInstanceOf(PodLookup.Found.class, dual, dual.toString()).pod();
                assertEquals("reader", found.annotations().get("iam.amazonaws.com/role"));
                assertEquals("x-1", found.annotations().get("iam.amazonaws.com/external-id"));
                // (The mock API server drops a deletionTimestamp on create: the first test covers that field.)
                assertInstanceOf(PodLookup.NotFound.class, index.find("10.1.0.7"), "still finished after the resync");
                assertInstanceOf(PodLookup.NotFound.class, index.find("10.0.0.1"), "still hostNetwork after the resync");
                assertEquals("team/old-api", assertInstanceOf(PodLookup.Found.class, index.find("10.1.0.8")).pod().key());
            }
        }
    }
}
