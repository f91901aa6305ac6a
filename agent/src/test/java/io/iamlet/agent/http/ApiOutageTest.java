package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #24, through the server: the API server drops its watches and refuses new ones. Pods keep their own
 * roles (never another's), the reads sent to the API server stay within the node's budget however fast the
 * pods ask, and an address the index does not know gets 503 with Retry-After rather than a guess.
 */
class ApiOutageTest {
    private static final int PODS = 12;

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;

    private static String ip(int i) {
        return "127.0.0." + (30 + i);
    }

    @BeforeEach
    void start() throws Exception {
        for (int i = 0; i < PODS; i++) {
            aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "pod-" + i, "node-a", "role-" + i, ip(i))).create();
        }
        stack = new ServerStack(aws, ImdsV2.OPTIONAL, ServerLimits.defaults(), Duration.ofSeconds(1));
        aws.api().refuseWatches(true);
        aws.api().dropWatches();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (stack.index.synced()) {
            assertTrue(System.nanoTime() < deadline, "the index noticed its watch was gone");
            Thread.sleep(10);
        }
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    private ServerStack.Reply get(String from, String path) throws Exception {
        return stack.raw(from, "GET " + path + " HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n");
    }

    private static String body(ServerStack.Reply r) {
        int blank = r.text().indexOf("\r\n\r\n");
        return blank < 0 ? "" : r.text().substring(blank + 4);
    }

    @Test
    void podsKeepTheirOwnRolesTheReadsStayInTheBudgetAndUnknownAddressesAreToldWhenToComeBack() throws Exception {
        long since = System.nanoTime();
        int requests = 0;
        // Two rounds over every pod, as fast as one client can: more requests than the budget allows reads.
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < PODS; i++) {
                ServerStack.Reply listing = get(ip(i), "/latest/meta-data/iam/security-credentials/");
                assertEquals(200, listing.status(), listing.text());
                assertEquals("role-" + i, body(listing), "pod " + i + " gets its own role");
                requests++;
            }
        }
        long reads = aws.api().requests().stream().filter(r -> r.nanos() >= since && r.podRead()).count();
        double seconds = (System.nanoTime() - since) / 1e9;
        assertTrue(reads <= 5 * Math.ceil(seconds / 1.05) + 5, reads + " API reads for " + requests + " requests in " + seconds + " s");
        assertTrue(reads < requests / 4, reads + " API reads for " + requests + " requests");

        // Once the kept answers are older than their second, the pods spend a whole second's budget (12 pods,
        // 5 reads); then an address nobody has cannot be looked up in the API server: 503, never a guess.
        Thread.sleep(1100);
        for (int i = 0; i < PODS; i++) {
            assertEquals("role-" + i, body(get(ip(i), "/latest/meta-data/iam/security-credentials/")));
        }
        ServerStack.Reply unknown = get("127.0.0.99", "/latest/meta-data/iam/security-credentials/");
        assertEquals(503, unknown.status(), unknown.text());
        assertTrue(unknown.text().contains("Retry-After: 1"), unknown.text());
        assertTrue(unknown.text().contains("--api-reads-per-second"), "the reason names the flag: " + unknown.text());

        String metrics = stack.rawTo(stack.server.managementPort(), "127.0.0.1",
                "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text();
        for (String outcome : new String[] {"started", "shared", "over_budget"}) {
            assertTrue(metrics.matches("(?s).*iamlet_api_lookup_reads_total\\{outcome=\"" + outcome + "\"} [1-9].*"), outcome + ":\n" + metrics);
        }
    }
}
