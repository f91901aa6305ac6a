package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.ServerLimits;
import io.fabric8.kubernetes.api.model.Pod;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 finding 2: the pod at an IP is replaced, in every order the API server can show it, and the new
 * pod asks at once as an IMDSv2 SDK does (token, then role, then credentials). The token is bound to the pod
 * the API server says owns the IP, so not one answer may carry the previous pod's role.
 */
class TokenChurnTest {
    private static final String IP = "127.0.0.21";
    private static final int ROUNDS = 30;

    /** The orders in which a replacement reaches the API server. */
    enum Ordering { DELETE_THEN_CREATE, CREATE_THEN_DELETE, OLD_SUCCEEDED, OLD_FAILED, OLD_TERMINATING }

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;

    @BeforeEach
    void start() throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "gen-0", "node-a", "gen-0", IP)).create();
        stack = new ServerStack(aws, ImdsV2.OPTIONAL, ServerLimits.defaults(), Duration.ofSeconds(1));
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    private void replace(Ordering ordering, String old, String next) {
        var pods = aws.api().client().pods().inNamespace("team");
        Pod fresh = Pods.withRole("team", next, "node-a", next, IP);
        switch (ordering) {
            case DELETE_THEN_CREATE -> {
                pods.withName(old).withGracePeriod(0).delete();
                pods.resource(fresh).create();
            }
            case CREATE_THEN_DELETE -> {
                pods.resource(fresh).create();
                pods.withName(old).withGracePeriod(0).delete();
            }
            case OLD_SUCCEEDED, OLD_FAILED -> {
                String phase = ordering == Ordering.OLD_SUCCEEDED ? "Succeeded" : "Failed";
                pods.withName(old).edit(p -> {
                    p.getStatus().setPhase(phase);
                    return p;
                });
                pods.resource(fresh).create();
                pods.withName(old).withGracePeriod(0).delete();
            }
            case OLD_TERMINATING -> {
                pods.withName(old).edit(p -> {
                    p.getMetadata().setDeletionTimestamp("2026-11-25T00:00:00Z");
                    return p;
                });
                pods.resource(fresh).create();
                pods.withName(old).withGracePeriod(0).delete();
            }
        }
    }

    private ServerStack.Reply withToken(String token, String path) throws Exception {
        return stack.raw(IP, "GET " + path + " HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token: " + token
                + "\r\nConnection: close\r\n\r\n");
    }

    private static String body(ServerStack.Reply r) {
        int blank = r.text().indexOf("\r\n\r\n");
        return blank < 0 ? "" : r.text().substring(blank + 4);
    }

    @Test
    void imdsV2ClientsNeverGetThePreviousPodsRole() throws Exception {
        List<String> wrong = new ArrayList<>();
        int replacements = 0;
        int served = 0;
        String current = "gen-0";
        for (int round = 0; round < ROUNDS; round++) {
            for (Ordering ordering : Ordering.values()) {
                String next = "gen-" + (replacements + 1);
                replace(ordering, current, next);
                replacements++;
                String previous = current;
                current = next;
                // The new pod's SDK: a token first, then the role, then its credentials; retried until it gets its own.
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (true) {
                    ServerStack.Reply token = stack.raw(IP, "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                            + "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    if (token.status() == 200) {
                        ServerStack.Reply listing = withToken(body(token), "/latest/meta-data/iam/security-credentials/");
                        if (listing.status() == 200 && !body(listing).equals(current)) {
                            wrong.add(ordering + " " + previous + "->" + current + ": listing " + body(listing));
                        }
                        ServerStack.Reply previousCredentials = withToken(body(token), "/latest/meta-data/iam/security-credentials/" + previous);
                        if (previousCredentials.status() == 200) {
                            wrong.add(ordering + " " + previous + "->" + current + ": credentials of " + previous);
                        }
                        ServerStack.Reply credentials = withToken(body(token), "/latest/meta-data/iam/security-credentials/" + current);
                        if (listing.status() == 200 && body(listing).equals(current) && credentials.status() == 200) {
                            served++;
                            break;
                        }
                    }
                    assertTrue(System.nanoTime() < deadline, ordering + " " + current + " never got its role: " + token.text());
                    Thread.sleep(5);
                }
            }
        }
        assertEquals(List.of(), wrong, "answers with the previous pod's role");
        assertEquals(ROUNDS * Ordering.values().length, replacements);
        assertEquals(replacements, served, "every new pod got its own role");
    }

    @Test
    void aTokenOfThePreviousPodIsRefusedAtItsIp() throws Exception {
        ServerStack.Reply token = stack.raw(IP, "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
                + "X-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertEquals(200, token.status(), token.text());
        assertEquals("gen-0", body(withToken(body(token), "/latest/meta-data/iam/security-credentials/")));
        replace(Ordering.DELETE_THEN_CREATE, "gen-0", "gen-1");
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (stack.index.pods().stream().noneMatch(p -> p.name().equals("gen-1"))) {
            assertTrue(System.nanoTime() < deadline);
            Thread.sleep(10);
        }
        ServerStack.Reply stale = withToken(body(token), "/latest/meta-data/iam/security-credentials/");
        assertEquals(503, stale.status(), "the old pod's token names the old pod: " + stale.text());
        assertFalse(body(stale).contains("gen-1\n") || body(stale).equals("gen-1"), stale.text());
        assertTrue(body(stale).contains("request a new token"), stale.text());
    }
}
