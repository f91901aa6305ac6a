package io.iamlet.control.credentials;

import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.testing.FakeSts;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * docs/runbooks.md tells operators to reach STS through a proxy with HTTPS_PROXY: the STS client's HTTP client
 * must take the proxy from the environment or the JVM's properties without any setting of ours. The SDK reads the
 * variables and the properties through the same ProxyConfigProvider; the properties stand in for the variables
 * here (a JVM cannot set its own environment).
 */
class StsProxyTest {
    @Test
    void assumeRoleGoesThroughTheProxyTheJvmPropertiesName() throws Exception {
        try (FakeSts sts = FakeSts.start(); ForwardProxy proxy = new ForwardProxy(sts.endpoint())) {
            // .invalid never resolves (RFC 6761): only a request sent to the proxy can reach an answer.
            URI unreachable = URI.create("http://sts.invalid:8080");
            System.setProperty("http.proxyHost", "127.0.0.1");
            System.setProperty("http.proxyPort", Integer.toString(proxy.port()));
            try (StsCredentialSource source = new StsCredentialSource(new StsCredentialSource.Settings(Optional.of(unreachable),
                    Region.US_EAST_1, Duration.ofHours(1), Duration.ofSeconds(5),
                    StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIANODE0000000000", "s"))), Clock.systemUTC())) {
                Credentials c = source.assume(new CredentialKey(RoleArn.parse("arn:aws:iam::111122223333:role/r").orElseThrow(),
                        "s", Optional.empty()));
                assertTrue(c.accessKeyId().startsWith("ASIAFAKE"), c.accessKeyId());
                assertEquals(1, sts.assumeRoleCalls());
                assertEquals(List.of("POST http://sts.invalid:8080 HTTP/1.1"), proxy.requestLines(), "the one AssumeRole went through the proxy");
            } finally {
                System.clearProperty("http.proxyHost");
                System.clearProperty("http.proxyPort");
            }
        }
    }

    /**
     * An HTTP forward proxy for plain-HTTP requests, one request per connection: it records the request line (an
     * absolute URI) and forwards the request to {@code target}. Hand-written: a test needs only this much, and
     * the JDK's HttpServer does not route absolute-form request targets.
     */
    private static final class ForwardProxy implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        private final List<String> requestLines = new CopyOnWriteArrayList<>();
        private final HttpClient client = HttpClient.newHttpClient();
        private final URI target;

        ForwardProxy(URI target) throws IOException {
            this.target = target;
            Thread.ofVirtual().start(this::serve);
        }

        int port() {
            return socket.getLocalPort();
        }

        List<String> requestLines() {
            return List.copyOf(requestLines);
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    forward(s.getInputStream(), s.getOutputStream());
                } catch (IOException | InterruptedException e) {
                    // closed, or the client went away: the test's assertions say what arrived
                }
            }
        }

        private void forward(InputStream in, OutputStream out) throws IOException, InterruptedException {
            String requestLine = line(in);
            requestLines.add(requestLine);
            HttpRequest.Builder request = HttpRequest.newBuilder(target.resolve(URI.create(requestLine.split(" ")[1]).getRawPath()));
            int length = 0;
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                int colon = header.indexOf(':');
                String name = header.substring(0, colon).trim();
                String value = header.substring(colon + 1).trim();
                switch (name.toLowerCase(Locale.ROOT)) {
                    case "content-length" -> length = Integer.parseInt(value);
                    case "host", "connection", "expect", "proxy-connection", "user-agent" -> { }
                    default -> request.header(name, value);
                }
            }
            HttpResponse<byte[]> response = client.send(request.POST(HttpRequest.BodyPublishers.ofByteArray(in.readNBytes(length))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            out.write(("HTTP/1.1 " + response.statusCode() + " X\r\nContent-Type: text/xml\r\nContent-Length: " + response.body().length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(response.body());
            out.flush();
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b != -1 && b != '\n'; b = in.read()) {
                if (b != '\r') {
                    line.write(b);
                }
            }
            return line.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
