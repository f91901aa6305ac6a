package io.iamlet.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real process's output with --log-format=json: every line on stdout and stderr is one JSON object, Helidon's,
 * the libraries' and ours alike, and --log-level / --verbose decide what is written (kube2iam accepted them and
 * iamlet ignored them before). No rules are installed: the agent runs on loopback beside the fakes.
 */
class LogStreamE2eTest {
    private static final String POD_IP = "127.0.0.31";
    private static final String STRANGER_IP = "127.0.0.32";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final FakeAws aws = new FakeAws();

    private record Output(List<String> lines) {
        List<JsonNode> json() throws IOException {
            List<JsonNode> out = new ArrayList<>();
            for (String line : lines) {
                try {
                    JsonNode node = JSON.readTree(line);
                    assertTrue(node != null && node.isObject(), "not a JSON object: " + line);
                    out.add(node);
                } catch (IOException e) {
                    fail("a line that is not JSON: " + line);
                }
            }
            return out;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs the agent, asks as a pod and as a stranger, stops it with SIGTERM, and returns stdout and stderr lines. */
    private Output run(String... extra) throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD_IP)).createOr(
                r -> r.update());
        int app = freePort();
        int management = freePort();
        Path dir = Files.createTempDirectory("iamlet-logs");
        List<String> command = new ArrayList<>(List.of(Launcher.iamlet(), "run", "--node=node-a",
                "--api-server=" + aws.api().url(), "--sts-endpoint=" + aws.sts().endpoint(),
                "--metadata-addr=127.0.0.1:" + aws.imds().url().getPort(), "--base-role-arn=" + FakeAws.BASE_ARN,
                "--app-port=" + app, "--metrics-port=" + management, "--log-format=json"));
        command.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        pb.environment().put("AWS_ACCESS_KEY_ID", FakeAws.AGENT_ACCESS_KEY);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "node-secret");
        pb.environment().put("AWS_REGION", "us-east-1");
        Process agent = pb.start();
        try {
            HttpClient local = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                assertTrue(agent.isAlive(), "the agent exited: " + Files.readString(dir.resolve("out")) + Files.readString(dir.resolve("err")));
                assertTrue(System.nanoTime() < deadline, "not ready within 60 s");
                try {
                    if (local.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/readyz")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        break;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(100);
            }
            assertEquals(200, ask(POD_IP, app, "/latest/meta-data/iam/security-credentials/reader").statusCode());
            assertEquals(404, ask(STRANGER_IP, app, "/latest/meta-data/iam/security-credentials/").statusCode());
        } finally {
            agent.destroy();
            assertTrue(agent.waitFor(30, TimeUnit.SECONDS), "the agent stops on SIGTERM");
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve("out")));
        lines.addAll(Files.readAllLines(dir.resolve("err")));
        return new Output(lines);
    }

    private static HttpResponse<String> ask(String from, int port, String path) throws Exception {
        HttpClient pod = HttpClient.newBuilder().localAddress(InetAddress.ofLiteral(from)).build();
        return pod.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyLineIsJsonAndTheLevelDecides() throws Exception {
        List<JsonNode> info = run().json();
        assertTrue(info.stream().anyMatch(l -> l.path("logger").asText().startsWith("io.helidon")), "Helidon's lines come through the same stream");
        assertTrue(info.stream().anyMatch(l -> l.path("res.status").asInt() == 200 && l.path("pod.iam.role").asText().endsWith("role/reader")
                && l.path("ns.name").asText().equals("team") && l.path("req.remote").asText().equals(POD_IP)), "the request line: " + info);
        assertTrue(info.stream().anyMatch(l -> l.path("msg").asText().equals("ready")));

        List<JsonNode> warnings = run("--log-level=warning").json();
        assertTrue(warnings.stream().anyMatch(l -> l.path("res.status").asInt() == 404), "a 404 is a warning: " + warnings);
        assertTrue(warnings.stream().noneMatch(l -> l.path("level").asText().equals("info")), "no info lines at warning: " + warnings);

        List<JsonNode> verbose = run("--verbose", "--log-level=error").json();
        assertTrue(verbose.stream().anyMatch(l -> l.path("level").asText().equals("info")), "--verbose wins over --log-level, as kube2iam");
    }
}
