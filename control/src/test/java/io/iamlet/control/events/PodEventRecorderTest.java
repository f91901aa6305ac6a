package io.iamlet.control.events;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.iamlet.control.credentials.CredentialException;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.policy.RoleArn;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The recorder against an API server that accepts connections and never answers: what a pod's request
 * would have waited for when Events were sent on its thread.
 */
class PodEventRecorderTest {
    private static final RoleArn ROLE = RoleArn.parse("arn:aws:iam::123456789012:role/untrusted").orElseThrow();
    private static final CredentialException DENIED = new CredentialException(500, "AccessDenied", "AccessDenied: not trusted");

    private ServerSocket silent;
    private final List<Socket> held = new ArrayList<>();
    private KubernetesClient client;

    @BeforeEach
    void silentApiServer() throws Exception {
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (!silent.isClosed()) {
                try {
                    Socket s = silent.accept();
                    synchronized (held) {
                        held.add(s);
                    }
                } catch (Exception e) {
                    return;
                }
            }
        });
        client = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
                .withMasterUrl("http://127.0.0.1:" + silent.getLocalPort())
                .withRequestTimeout(120_000).withConnectionTimeout(120_000).withRequestRetryBackoffLimit(0).build()).build();
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        silent.close();
        synchronized (held) {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private static PodInfo pod(int i) {
        return new PodInfo("team", "app-" + i, "uid-" + i, List.of("10.9.0." + i), "Running", false, false, Map.of());
    }

    @Test
    void aHangingApiServerNeitherDelaysTheCallerNorQueuesWithoutBound() {
        try (PodEventRecorder recorder = new PodEventRecorder(client, "node-a", Clock.systemUTC(), Duration.ofMinutes(5), 2, 100)) {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int i = 0; i < 10; i++) {
                    recorder.assumeRoleFailed(pod(i), ROLE, DENIED);
                }
            }, "the caller (a pod's request) never waits for the API server");
            // One event is with the sender (hanging), two wait in the queue, the other seven are dropped.
            assertEquals(7, recorder.dropped());
        }
    }

    @Test
    void theRateLimitRemembersABoundedNumberOfPodsAndForgetsOldOnes() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-25T08:00:00Z"));
        try (PodEventRecorder recorder = new PodEventRecorder(client, "node-a", clock, Duration.ofMinutes(5), 100, 3)) {
            for (int i = 0; i < 5; i++) {
                recorder.assumeRoleFailed(pod(i), ROLE, DENIED);
            }
            assertEquals(3, recorder.tracked(), "never more pods remembered than the limit");
            assertEquals(2, recorder.dropped(), "while full of recent pods, events for new ones are dropped");
            recorder.assumeRoleFailed(pod(0), ROLE, DENIED);
            assertEquals(2, recorder.dropped(), "a pod already remembered is rate-limited, not dropped");

            clock.now = clock.now.plus(Duration.ofMinutes(6));
            recorder.assumeRoleFailed(pod(7), ROLE, DENIED);
            assertEquals(1, recorder.tracked(), "entries older than the interval are forgotten when room is needed");
            assertEquals(2, recorder.dropped());
        }
    }

    @Test
    void closeGivesUpOnAHangingApiServerAndCountsWhatItDropped() {
        PodEventRecorder recorder = new PodEventRecorder(client, "node-a", Clock.systemUTC(), Duration.ofMinutes(5), 4, 100);
        for (int i = 0; i < 3; i++) {
            recorder.assumeRoleFailed(pod(i), ROLE, DENIED);
        }
        assertTimeoutPreemptively(PodEventRecorder.CLOSE_GRACE.plusSeconds(5), recorder::close, "a stop never hangs on the API server");
        assertEquals(2, recorder.dropped(), "the two events still queued at close are dropped and counted");
    }

    @Test
    void anEventForAClientClosedAtShutdownIsLoggedNotThrownOnTheSenderThread() throws Exception {
        List<Throwable> uncaught = new ArrayList<>();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            synchronized (uncaught) {
                uncaught.add(e);
            }
        });
        try {
            KubernetesClient closed = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + silent.getLocalPort()).build()).build();
            closed.close();
            try (PodEventRecorder recorder = new PodEventRecorder(closed, "node-a", Clock.systemUTC(), Duration.ofMinutes(5))) {
                recorder.assumeRoleFailed(pod(1), ROLE, DENIED);
                assertTrue(recorder.drain(Duration.ofSeconds(10)));
            }
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
        synchronized (uncaught) {
            assertEquals(List.of(), uncaught, "sending to a closed client fails quietly, as any failed Event does");
        }
    }

    private static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
