package io.iamlet.agent.cli;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.iamlet.control.testing.MockApiServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `iamlet readiness` (what `helm test` runs) against a mock API server and agents on loopback addresses: each node's
 * agent asked at its pod's hostIP, a node whose agent does not answer 200 named, missing pods counted.
 */
class ReadinessCommandTest {
    private static final Map<String, String> SELECTOR = Map.of("app.kubernetes.io/name", "iamlet");

    private MockApiServer api;
    private HttpServer ready;
    private HttpServer notReady;

    @BeforeEach
    void start() throws Exception {
        api = MockApiServer.start();
        ready = agent("127.0.0.1", 200);
        notReady = agent("127.0.0.3", 503);
    }

    @AfterEach
    void stop() {
        ready.stop(0);
        notReady.stop(0);
        api.close();
    }

    /** An agent's /readyz on one loopback address, answering with this status; all of them on one port, as on nodes. */
    private HttpServer agent(String address, int status) throws Exception {
        int port = ready == null ? 0 : ready.getAddress().getPort();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), port), 0);
        server.createContext("/readyz", exchange -> {
            byte[] body = (status == 200 ? "ready" : "not ready: waiting for the pods").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    private void daemonSet(Integer desired) {
        DaemonSet ds = new DaemonSetBuilder().withNewMetadata().withNamespace("kube-system").withName("iamlet").endMetadata()
                .withNewSpec().withNewSelector().withMatchLabels(SELECTOR).endSelector().endSpec()
                .withNewStatus().withDesiredNumberScheduled(desired).endStatus().build();
        api.client().apps().daemonSets().inNamespace("kube-system").resource(ds).create();
    }

    private void agentPod(String name, String node, String hostIp) {
        Pod pod = new PodBuilder().withNewMetadata().withNamespace("kube-system").withName(name).withLabels(SELECTOR).endMetadata()
                .withNewSpec().withNodeName(node).withHostNetwork(true).endSpec()
                .withNewStatus().withPhase(hostIp == null ? "Pending" : "Running").withHostIP(hostIp).endStatus().build();
        api.client().pods().inNamespace("kube-system").resource(pod).create();
    }

    private CliTest.Run readiness() {
        return CliTest.run(Map.of("POD_NAMESPACE", "kube-system"), "readiness", "--daemonset=iamlet", "--api-server=" + api.url(),
                "--api-token=test", "--port=" + ready.getAddress().getPort(), "--timeout=2s");
    }

    @Test
    void everyNodesAgentReadyPasses() {
        daemonSet(2);
        agentPod("iamlet-a", "node-a", "127.0.0.1");
        agentPod("iamlet-b", "node-b", "127.0.0.1");
        // Another DaemonSet's pod in the namespace: not ours, not asked.
        api.client().pods().inNamespace("kube-system").resource(new PodBuilder().withNewMetadata().withName("other")
                .withLabels(Map.of("app", "other")).endMetadata().withNewSpec().withNodeName("node-c").endSpec()
                .withNewStatus().withHostIP("127.0.0.3").endStatus().build()).create();
        CliTest.Run run = readiness();
        assertEquals(0, run.exit(), run.out() + run.err());
        assertTrue(run.out().contains("ok   node-a 127.0.0.1 /readyz 200"), run.out());
        assertTrue(run.out().contains("ok   node-b 127.0.0.1 /readyz 200"), run.out());
        assertTrue(run.out().contains("readiness: 2 of 2 agents ready (node-a, node-b)"), run.out());
    }

    @Test
    void aNodeWhoseAgentIsNotReadyOrUnreachableOrMissingFailsNamingIt() {
        daemonSet(4);
        agentPod("iamlet-a", "node-a", "127.0.0.1");
        agentPod("iamlet-b", "node-b", "127.0.0.3");
        agentPod("iamlet-c", "node-c", "127.0.0.4");
        CliTest.Run run = readiness();
        assertEquals(1, run.exit(), run.out() + run.err());
        assertTrue(run.out().contains("ok   node-a 127.0.0.1 /readyz 200"), run.out());
        assertTrue(run.out().contains("fail node-b 127.0.0.3 /readyz 503: not ready: waiting for the pods"), run.out());
        assertTrue(run.out().contains("fail node-c 127.0.0.4 /readyz: "), run.out());
        assertTrue(run.out().contains("fail the DaemonSet should run on 4 nodes, it has 3 pods"), run.out());
        assertTrue(run.out().contains("readiness: not ready: node-b, node-c, missing pods"), run.out());
    }

    @Test
    void aPodWithoutItsNodeYetFails() {
        daemonSet(1);
        agentPod("iamlet-a", "node-a", null);
        CliTest.Run run = readiness();
        assertEquals(1, run.exit(), run.out());
        assertTrue(run.out().contains("fail node-a pod iamlet-a has no host IP yet (phase Pending)"), run.out());
    }

    @Test
    void noDaemonSetNoPodsAndBadUsageAreClearErrors() {
        CliTest.Run missing = readiness();
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("no DaemonSet kube-system/iamlet (check --daemonset and --namespace)"), missing.err());
        daemonSet(null);
        CliTest.Run empty = readiness();
        assertEquals(1, empty.exit());
        assertTrue(empty.out().contains("fail the DaemonSet kube-system/iamlet has no pods"), empty.out());
        CliTest.Run usage = CliTest.run(Map.of(), "readiness", "--namespace=kube-system");
        assertEquals(64, usage.exit());
        assertTrue(usage.err().contains("--daemonset is required"), usage.err());
    }
}
