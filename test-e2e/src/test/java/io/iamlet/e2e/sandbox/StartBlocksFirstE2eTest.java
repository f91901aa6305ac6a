package io.iamlet.e2e.sandbox;

import io.iamlet.control.testing.FakeImds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 finding 3: an agent started on a bare node (no rules yet) while the Kubernetes API is down must
 * not leave pods on the node's IMDS while it waits, after it gives up (--sync-timeout), nor through a crash
 * loop. A pod asks as an SDK does (IMDSv2 token, then the role listing) all the time; not one answer may be
 * the node's role.
 */
class StartBlocksFirstE2eTest {
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/";

    private Sandbox sandbox;

    @BeforeEach
    void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.namespace("team", "app-*");
    }

    @AfterEach
    void stop() throws Exception {
        sandbox.close();
    }

    /** One SDK-style ask; the role listing's body, or why there was none. */
    private static String ask(SandboxPod pod) {
        try {
            RawHttp.Response token = RawHttp.exchange(pod.ns(), Sandbox.IMDS_IP, 80, "PUT", "/latest/api/token",
                    Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60"));
            RawHttp.Response listing = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH,
                    Map.of("X-aws-ec2-metadata-token", token.body()));
            return listing.status() + " " + listing.body();
        } catch (Exception e) {
            return "refused " + e.getClass().getSimpleName();
        }
    }

    private static boolean nodes(String answer) {
        return answer.contains(Sandbox.NODE_ROLE) || answer.contains(FakeImds.NODE_ACCESS_KEY);
    }

    @Test
    void withTheApiDownPodsAreRefusedThroughACrashLoopNeverOnTheNodesRole() throws Exception {
        SandboxPod pod = sandbox.addPod(InterfaceStyle.CALI, "team", "app", "app-main");
        assertTrue(nodes(ask(pod)), "on a bare node a pod reaches the node's IMDS: that is what the agent must close");
        sandbox.apiReachable(false);

        List<String> leaks = new CopyOnWriteArrayList<>();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger asks = new AtomicInteger();
        AtomicBoolean polling = new AtomicBoolean(true);
        // Nothing can guard a bare node before the agent's process runs: leaks count from the moment it says it
        // blocked pods. A fixed grace after launch (5 s once) counted a JVM's slow start at load 20 as leaks.
        AtomicBoolean guarded = new AtomicBoolean(false);
        AgentProcess first = sandbox.launchAgent("--sync-timeout=3s");
        Thread poller = Thread.ofPlatform().start(() -> {
            while (polling.get()) {
                boolean counted = guarded.get();
                String answer = ask(pod);
                if (!counted) {
                    continue;
                }
                asks.incrementAndGet();
                if (nodes(answer)) {
                    leaks.add(answer);
                }
                if (answer.startsWith("refused")) {
                    refused.incrementAndGet();
                }
            }
        });
        try {
            long guardBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!first.log().contains("metadata blocked for pods")) {
                assertTrue(first.isAlive() && System.nanoTime() < guardBy, "the agent never said it blocked pods:\n" + first.log());
                Thread.sleep(20);
            }
            guarded.set(true);
            AgentProcess agent = first;
            for (int restart = 0; restart < 3; restart++) {
                long exitBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (agent.isAlive()) {
                    assertTrue(System.nanoTime() < exitBy, "the agent did not give up on the API:\n" + agent.log());
                    Thread.sleep(50);
                }
                assertTrue(agent.log().contains("did not deliver the pods"), agent.log());
                Thread.sleep(300);
                agent = sandbox.launchAgent("--sync-timeout=3s");
            }
            sandbox.apiReachable(true);
            agent.awaitReady(Duration.ofSeconds(60));
            long served = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!ask(pod).equals("200 app-main")) {
                assertTrue(System.nanoTime() < served, "the pod never got its role: " + ask(pod));
                Thread.sleep(50);
            }
        } finally {
            polling.set(false);
            poller.join();
        }
        assertEquals(List.of(), leaks, "answers with the node's role out of " + asks.get());
        assertTrue(refused.get() > 10, "the pod kept asking while no agent answered: " + refused.get() + " refused of " + asks.get());
    }
}
