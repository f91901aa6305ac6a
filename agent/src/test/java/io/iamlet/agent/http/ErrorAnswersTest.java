package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Issue #12 finding 6: what a pod is told when the node's IMDS is down; the management port refuses pods. */
class ErrorAnswersTest {
    private static final String POD = "127.0.0.11";

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;

    @BeforeEach
    void start() throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD)).create();
        stack = new ServerStack(aws, ImdsV2.OPTIONAL, ServerLimits.defaults(), Duration.ofMillis(300));
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    @Test
    void imdsDownIsA502ThatSaysWhyNeverNull() throws Exception {
        aws.imds().close();
        ServerStack.Reply r = stack.get(POD, "/latest/meta-data/instance-id");
        assertEquals(502, r.status(), r.text());
        assertFalse(r.text().strip().endsWith("null"), r.text());
        assertTrue(r.text().contains("the node's metadata service failed: "), r.text());
    }

    @Test
    void theManagementPortRefusesPods() throws Exception {
        for (String path : List.of("/metrics", "/debug/store", "/readyz", "/healthz")) {
            ServerStack.Reply fromPod = stack.rawTo(stack.server.managementPort(), POD, "GET " + path
                    + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(403, fromPod.status(), path + ": " + fromPod.text());
            ServerStack.Reply fromNode = stack.rawTo(stack.server.managementPort(), "127.0.0.1", "GET " + path
                    + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, fromNode.status(), path + " from the node (kubelet probes, node-local scrapers): " + fromNode.text());
        }
    }
}
