package io.iamlet.agent.server;

import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/** Issue #12 finding 6: what a pod is told when the node's IMDS is down. */
class ErrorAnswersTest {
    private static final String POD = "127.0.0.11";

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;

    @BeforeEach
    void start() throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD)).create();
        stack = new ServerStack(aws, MetadataRoutes.ImdsV2.OPTIONAL, ServerLimits.defaults(), Duration.ofMillis(300));
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
}
