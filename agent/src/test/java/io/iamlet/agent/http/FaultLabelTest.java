package io.iamlet.agent.http;

import io.iamlet.agent.log.LogFormat;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.metrics.ServerMetrics;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.credentials.CacheStats;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fault of the agent's own (here: the broker throws, as a bug in it would) is a 500 labelled as the agent's, never
 * "the node's metadata service failed" (502, route "proxy"), which sent operators looking at IMDS (issue #13).
 */
class FaultLabelTest {
    @Test
    void aBrokerFaultIsA500OfItsOwnNotAnImdsFailure() throws Exception {
        ServerMetrics metrics = new ServerMetrics("test", ServerMetrics.Sources.cacheOnly(() -> new CacheStats.Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0)));
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        URI nowhere = URI.create("http://127.0.0.1:9");
        NodeMetadata node = new NodeMetadata(nowhere, Duration.ofMillis(200));
        // No broker: every question to it throws, the way a bug in it would.
        MetadataRoutes routes = new MetadataRoutes(null, new MetadataTokens(Clock.systemUTC()),
                new MetadataProxy(nowhere, node, Set.of(), Duration.ofMillis(200)), ImdsV2.OPTIONAL,
                new RequestLog(new PrintStream(logs, true, StandardCharsets.UTF_8), LogFormat.JSON, Clock.systemUTC()), metrics);
        try (MetadataServer server = new MetadataServer(new MetadataServer.Settings(InetAddress.getLoopbackAddress(), 0, 0, "10.0.0.1",
                () -> null, null), routes, metrics, node).start()) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.appPort() + "/latest/meta-data/iam/security-credentials/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(500, r.statusCode(), r.body());
            assertFalse(r.body().contains("metadata service"), "not reported as an IMDS failure: " + r.body());
            String exported = metrics.prometheus(new ServerMetrics.Closings(0, 0));
            assertTrue(exported.contains("iamlet_requests_total{route=\"error\",status=\"500\"} 1"), exported);
            assertFalse(exported.contains("route=\"proxy\""), exported);
        }
    }
}
