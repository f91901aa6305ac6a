package io.iamlet.agent.server;

import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 finding 5: 2,000 idle connections (half after one request, half silent) and 200 slowloris ones
 * (a header line every half second, never finishing) from other pods. A normal pod is still answered within
 * a second, and the connections idle after a request are closed after the idle timeout (here 2 s). The
 * silent and slowloris ones are not: Helidon's idle check does not see a connection before its first
 * complete request (docs/security.md, what remains).
 */
class FloodTest {
    private static final String POD = "127.0.0.11";
    private static final ServerLimits LIMITS = new ServerLimits(Duration.ofSeconds(2), 10_000, 16 * 1024, 64 * 1024);

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;
    private final List<Socket> flood = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD)).create();
        stack = new ServerStack(aws, MetadataRoutes.ImdsV2.OPTIONAL, LIMITS, Duration.ofMillis(500));
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : flood) {
            s.close();
        }
        stack.close();
    }

    private Socket connect(String from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.ofLiteral(from), 0));
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), stack.server.appPort()), 2000);
        flood.add(s);
        return s;
    }

    /** Established connections to the app port, counted on the server's side (ss, as an operator would). */
    private int serverSide() throws Exception {
        Process ss = new ProcessBuilder("ss", "-Htn", "state", "established", "( sport = :" + stack.server.appPort() + " )")
                .redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, ss.waitFor());
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }

    @Test
    void idleAndSlowConnectionsAreClosedAndPodsStillAnswered() throws Exception {
        assertEquals(200, stack.get(POD, "/latest/meta-data/iam/security-credentials/").status());
        List<Socket> idle = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            Socket s = connect("127.0.1." + (1 + i % 200));
            if (i % 2 == 0) {
                // Half have asked once and keep the connection; half never send a byte.
                s.getOutputStream().write("GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            idle.add(s);
        }
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Socket s = connect("127.0.2." + (1 + i % 50));
            s.getOutputStream().write("GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n".getBytes(StandardCharsets.US_ASCII));
            slow.add(s);
        }
        AtomicBoolean dripping = new AtomicBoolean(true);
        Thread drip = Thread.ofPlatform().start(() -> {
            while (dripping.get()) {
                for (Socket s : slow) {
                    try {
                        OutputStream out = s.getOutputStream();
                        out.write("X-Drip: 1\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    } catch (IOException closed) {
                        // the server gave up on it: what the test wants
                    }
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            int open = serverSide();
            System.out.println("flood: " + open + " connections open on the server side");
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                ServerStack.Reply reply = stack.get(POD, "/latest/meta-data/iam/security-credentials/");
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertEquals(200, reply.status(), reply.text());
                // Loose on purpose (timing belongs in benchmarks; CI shares 2 cores): starved would be seconds or never.
                System.out.println("flood: a normal pod answered in " + millis + " ms");
                assertTrue(millis < 3000, "a normal pod waited " + millis + " ms during the flood");
            }
            Thread.sleep(LIMITS.idleTimeout().plus(LIMITS.idleCheckPeriod()).plusSeconds(1).toMillis());
            int after = serverSide();
            System.out.println("flood: " + after + " connections open on the server side after the idle timeout");
            // What may stay open is the 1,000 silent and 200 slowloris connections; the 1,000 idle after a request are gone.
            assertTrue(after <= 1200, "the 1000 connections idle after a request are closed: " + open + " -> " + after);
            assertEquals(200, stack.get(POD, "/latest/meta-data/iam/security-credentials/").status());
        } finally {
            dripping.set(false);
            drip.join();
        }
    }
}
