package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.Eventually;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #24, the outage's tail: with the watches down, a request whose IMDSv2 token was issued to the pod the
 * index has at its address is answered from the index while that pod's read is on its way (the read was the
 * tail: hundreds of milliseconds at a busy API server); a request without a token, or with a token of another
 * pod, still waits for the API server's word. The API server's GETs are held (not delayed by a clock) for as
 * long as each test needs, so nothing here depends on timing.
 */
class PodIndexTokenOutageTest {
    private static final String NODE = "node-a";
    private static final String IP = "10.1.0.50";
    private MockApiServer api;
    private KubernetesClient client;
    private PodIndex index;

    @BeforeEach
    void start() {
        api = MockApiServer.start();
        client = api.client();
        client.namespaces().resource(Pods.namespace("team", Map.of())).create();
        // The watches are refused from the start: the index lists the pods and stays behind.
        api.refuseWatches(true);
    }

    @AfterEach
    void stop() {
        if (index != null) {
            index.close();
        }
        api.close();
    }

    /** An index whose list is in and whose watch is refused; {@code budget} also bounds each API read. */
    private String startIndexWith(String name, Duration budget) throws Exception {
        client.pods().inNamespace("team").resource(Pods.withRole("team", name, NODE, "role-" + name, IP)).create();
        index = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofMinutes(30), budget, true));
        index.start();
        await(() -> String.valueOf(index.notCurrent()).startsWith("the watch of pods is not established"),
                "the index has the list, and no watch: it is behind");
        return uid(index.find(IP));
    }

    private static String uid(PodLookup lookup) {
        return ((PodLookup.Found) lookup).pod().uid();
    }

    private static String owner(PodLookup lookup) {
        return lookup instanceof PodLookup.Found(PodInfo pod) ? pod.key() : lookup.getClass().getSimpleName() + ": " + lookup;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Eventually.within(Duration.ofSeconds(30), what, condition);
    }

    @Test
    void aTokensOwnPodIsAnsweredWhileItsReadIsHeldAndATokenlessRequestWaitsForTheRead() throws Exception {
        String uid = startIndexWith("steady", Duration.ofSeconds(60));
        try (MockApiServer.PodGetHold hold = api.holdPodGets(); var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> withToken = threads.submit(() -> owner(index.findTokenPod(IP, uid)));
            // Without the change this waits for the held GET (up to the 60 s lookup budget) and the get below fails.
            assertEquals("team/steady", withToken.get(30, TimeUnit.SECONDS), "the token's own pod, from the index, while its read is held");
            await(() -> hold.held() == 1, "the read the token's request started reaches the API server");
            assertEquals(1, index.apiReads().started());

            Future<String> again = threads.submit(() -> owner(index.findTokenPod(IP, uid)));
            assertEquals("team/steady", again.get(30, TimeUnit.SECONDS), "a second token request does not wait for the read either");

            Future<String> tokenless = threads.submit(() -> owner(index.findWaiting(IP)));
            await(() -> index.apiReads().shared() >= 2, "the tokenless request joins the read in flight");
            assertFalse(tokenless.isDone(), "a request without a token (IMDSv1) waits for the API server's word");
            hold.close();
            assertEquals("team/steady", tokenless.get(30, TimeUnit.SECONDS));
        }
        assertEquals(1, index.apiReads().started(), "one read for all three requests");
    }

    /**
     * The window this opens, and its end: a pod deleted while the watch is down, its address given to a new
     * pod. A request from that address with the deleted pod's token (which the new pod cannot have: the token
     * is a secret the old pod was given, bound to its uid and address) is answered from the index while the
     * read is on its way; once the read says the pod is gone, the answer is in the table and the token is refused,
     * and the new pod (without a token, or with its own) gets its own pod.
     */
    @Test
    void aDeletedPodsTokenIsRefusedOnceItsReadIsBackAndTheNewOwnerIsFound() throws Exception {
        String oldUid = startIndexWith("old", Duration.ofSeconds(60));
        client.pods().inNamespace("team").withName("old").withGracePeriod(0).delete();
        client.pods().inNamespace("team").resource(Pods.withRole("team", "new", NODE, "role-new", IP)).create();
        assertEquals("team/old", owner(index.find(IP)), "without a watch the index cannot know");
        try (MockApiServer.PodGetHold hold = api.holdPodGets(); var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> withToken = threads.submit(() -> owner(index.findTokenPod(IP, oldUid)));
            assertEquals("team/old", withToken.get(30, TimeUnit.SECONDS), "the window: the read is on its way (docs/security.md)");
            await(() -> hold.held() == 1, "the read reaches the API server");
        }
        // Nobody waited for the read: its answer still reaches the table.
        await(() -> !"team/old".equals(owner(index.find(IP))), "the read's answer (gone) is in the table");
        PodLookup refused = index.findTokenPod(IP, oldUid);
        assertInstanceOf(PodLookup.Unavailable.class, refused, "the deleted pod's token, once the read is back: " + refused);
        assertTrue(((PodLookup.Unavailable) refused).reason().contains("the token was issued to pod uid " + oldUid), refused.toString());
        assertEquals("team/new", owner(index.findWaiting(IP)), "a request without a token: the address's new owner");
        String newUid = uid(index.findWaiting(IP));
        assertEquals("team/new", owner(index.findTokenPod(IP, newUid)), "the new pod's own token");
    }

    /** A role taken away while the watch is down reaches the token's requests with the read nobody waited for. */
    @Test
    void aRoleChangedWhileTheWatchIsDownReachesTheTokensRequestsOnceItsReadIsBack() throws Exception {
        String uid = startIndexWith("changing", Duration.ofSeconds(60));
        client.pods().inNamespace("team").withName("changing").edit(p -> {
            p.getMetadata().getAnnotations().put("iam.amazonaws.com/role", "role-after");
            return p;
        });
        try (MockApiServer.PodGetHold hold = api.holdPodGets()) {
            PodLookup during = index.findTokenPod(IP, uid);
            assertEquals("role-changing", role(during), "from the index while the read is on its way");
            await(() -> hold.held() == 1, "the read reaches the API server");
        }
        await(() -> "role-after".equals(role(index.find(IP))), "the read's answer is in the index");
        assertEquals("role-after", role(index.findTokenPod(IP, uid)));
    }

    private static String role(PodLookup lookup) {
        return lookup instanceof PodLookup.Found(PodInfo pod) ? pod.annotations().get("iam.amazonaws.com/role") : lookup.toString();
    }

    @Test
    void aTokenOfAnotherPodThanTheIndexHasAtTheAddressNeverGetsThatPod() throws Exception {
        startIndexWith("current", Duration.ofMillis(300));
        try (MockApiServer.PodGetHold hold = api.holdPodGets()) {
            PodLookup other = index.findTokenPod(IP, "0f1e2d3c-uid-of-a-pod-gone-before-the-outage");
            assertInstanceOf(PodLookup.Unavailable.class, other, "a token of another pod: refused, never the pod at the address: " + other);
            assertEquals(0, hold.held(), "and no read started for it");
        }
    }
}
