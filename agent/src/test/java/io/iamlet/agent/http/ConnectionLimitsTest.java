package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 findings 5 and 6: the cap on connections per source address (a pod), and HTTP/1.0 requests,
 * which Helidon 4 closed without an answer and which IMDS answers.
 */
class ConnectionLimitsTest {
    private static final String POD = "127.0.0.11";
    private static final int PER_SOURCE = 8;

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;

    @BeforeEach
    void start() throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD)).create();
        stack = new ServerStack(aws, ImdsV2.OPTIONAL,
                new ServerLimits(Duration.ofSeconds(30), 10_000, 16 * 1024, 64 * 1024, Duration.ofSeconds(30), PER_SOURCE),
                Duration.ofMillis(500));
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    private Socket connect(String from) throws IOException {
        return stack.open(from);
    }

    /** Everything the server sends until it closes the connection (a 1.0 exchange ends so). */
    private static String untilClosed(Socket s) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            s.getInputStream().transferTo(got);
        } catch (SocketTimeoutException e) {
            fail("the server did not close the connection; it sent: " + got.toString(StandardCharsets.ISO_8859_1));
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void oneAddressHoldsAtMostItsCapAndOthersAreNotAffected() throws Exception {
        List<Socket> mine = new ArrayList<>();
        for (int i = 0; i < PER_SOURCE; i++) {
            mine.add(connect(POD));
        }
        // The accept is the kernel's: wait until the gate has counted all of them before asking for one more.
        for (int i = 0; i < 100 && stack.get("127.0.0.12", "/latest/meta-data/instance-id").status() != 200; i++) {
            Thread.sleep(20);
        }
        Socket over = connect(POD);
        String refused = untilClosed(over);
        assertTrue(refused.startsWith("HTTP/1.1 429 "), refused);
        assertTrue(refused.contains("--max-connections-per-source"), "the answer names the flag: " + refused);

        // Another pod is served while this one is at its cap.
        assertEquals(200, stack.get("127.0.0.12", "/latest/meta-data/instance-id").status());
        // The held connections still work: the cap refuses new connections, it does not break open ones.
        Socket first = mine.getFirst();
        OutputStream out = first.getOutputStream();
        out.write("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        ServerStack.Reply reply = ServerStack.read(first.getInputStream(), false);
        assertEquals(200, reply.status(), reply.text());

        // Closing one makes room for one.
        mine.getLast().close();
        ServerStack.Reply again = null;
        for (int i = 0; i < 100; i++) {
            again = stack.get(POD, "/latest/meta-data/iam/security-credentials/");
            if (again.status() == 200) {
                break;
            }
            Thread.sleep(20);
        }
        assertEquals(200, again.status(), again.text());

        String metrics = stack.rawTo(stack.server.managementPort(), "127.0.0.1",
                "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text();
        assertTrue(metrics.matches("(?s).*iamlet_connections_closed_total\\{reason=\"per_source_cap\"} [1-9].*"), metrics);
    }

    @Test
    void theCountStaysExactThroughConcurrentChurn() throws Exception {
        // 4 threads open and close 150 connections each from one address, counted up and down concurrently:
        // afterwards the address holds exactly its cap again, no fewer (a lost decrement) and no more (a lost
        // increment).
        List<Thread> churn = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            churn.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 150; i++) {
                    try (Socket s = new Socket()) {
                        s.bind(new InetSocketAddress(InetAddress.ofLiteral(POD), 0));
                        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), stack.server.appPort()), 2000);
                        s.setSoTimeout(2000);
                        s.getOutputStream().write("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                        s.getInputStream().readAllBytes();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }));
        }
        for (Thread t : churn) {
            t.join();
        }
        // Each was closed by the server (Connection: close) after it released the count: hold the cap now.
        List<Socket> mine = new ArrayList<>();
        for (int i = 0; i < PER_SOURCE; i++) {
            Socket s = connect(POD);
            mine.add(s);
        }
        for (Socket s : mine) {
            s.getOutputStream().write("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            ServerStack.Reply reply = ServerStack.read(s.getInputStream(), false);
            assertEquals(200, reply.status(), "each of the cap's connections is served after the churn: " + reply.text());
        }
        String over = untilClosed(connect(POD));
        assertTrue(over.startsWith("HTTP/1.1 429 "), "one more is refused: " + over);
    }

    @Test
    void http10RequestsAndConnectionCloseAreAnsweredAndClosed() throws Exception {
        for (String head : List.of(
                // An HTTP/1.1 request saying "Connection: close": the server closes after its answer (RFC 9112 9.6).
                "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n",
                "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\nHost: 169.254.169.254\r\nUser-Agent: Wget/1.12 (linux-gnu)\r\n\r\n",
                "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\n\n")) {
            Socket s = connect(POD);
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            String answer = untilClosed(s);
            assertTrue(answer.startsWith("HTTP/1.1 200 "), head + " -> " + answer + "\n" + stack.logs);
            assertTrue(answer.endsWith("reader"), "the pod's role, then the server closes: " + answer);
            assertTrue(answer.toLowerCase().contains("content-length:"), "no chunked framing for a 1.0 client: " + answer);
        }
        // The credentials themselves, a HEAD, an IMDSv2 token and an unknown path, all over 1.0.
        Socket creds = connect(POD);
        creds.getOutputStream().write("GET /latest/meta-data/iam/security-credentials/reader HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String document = untilClosed(creds);
        assertTrue(document.startsWith("HTTP/1.1 200 ") && document.contains("\"AccessKeyId\""), document);
        Socket head = connect(POD);
        head.getOutputStream().write("HEAD /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String headAnswer = untilClosed(head);
        assertTrue(headAnswer.startsWith("HTTP/1.1 200 ") && headAnswer.endsWith("\r\n\r\n"), "a head, no body: " + headAnswer);
        assertTrue(headAnswer.contains("Content-Length: 6"), "the length of the GET answer: " + headAnswer);
        Socket token = connect(POD);
        token.getOutputStream().write(("PUT /latest/api/token HTTP/1.0\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        String tokenAnswer = untilClosed(token);
        assertTrue(tokenAnswer.startsWith("HTTP/1.1 200 "), tokenAnswer);
        Socket unknown = connect(POD);
        unknown.getOutputStream().write("GET /nothing-here HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String notFound = untilClosed(unknown);
        assertTrue(notFound.startsWith("HTTP/1.1 400 ") && notFound.contains("no known version"), "refused with its reason: " + notFound);
    }

    @Test
    void http11KeepsWorkingAfterTheGate() throws Exception {
        // Keep-alive, pipelined: the gate only looks at the first request line, the rest is Helidon's.
        Socket s = connect(POD);
        OutputStream out = s.getOutputStream();
        String one = "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\n\r\n";
        out.write((one + one).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        assertEquals(200, ServerStack.read(in, false).status());
        assertEquals(200, ServerStack.read(in, false).status());
        out.write(one.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertEquals(200, ServerStack.read(in, false).status());
        // A HEAD on a kept-alive connection has no body: the next answer is read from its first byte.
        out.write(("HEAD /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\n\r\n" + one).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        ServerStack.Reply head = ServerStack.read(in, true);
        assertEquals(200, head.status(), head.text());
        ServerStack.Reply next = ServerStack.read(in, false);
        assertEquals(200, next.status(), "the answer after a HEAD: " + next.text());
        assertTrue(next.text().endsWith("\r\n\r\nreader"), next.text());
        // A request line in pieces, as a slow but honest client sends it, within the header timeout.
        Socket pieces = connect(POD);
        for (String piece : List.of("GET /latest/meta", "-data/iam/security-credentials/ HT", "TP/1.1\r\nHo", "st: x\r\n", "\r\n")) {
            pieces.getOutputStream().write(piece.getBytes(StandardCharsets.US_ASCII));
            pieces.getOutputStream().flush();
            Thread.sleep(50);
        }
        ServerStack.Reply reply = ServerStack.read(pieces.getInputStream(), false);
        assertEquals(200, reply.status(), reply.text());
    }
}
