package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.Http10Test;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 finding 6: malformed requests get an answer with a reason, never an empty 500. (HTTP/1.0 requests
 * are answered too: {@code Http10Test}.)
 */
class MalformedRequestTest {
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

    private static String body(ServerStack.Reply r) {
        int blank = r.text().indexOf("\r\n\r\n");
        return blank < 0 ? "" : r.text().substring(blank + 4);
    }

    @Test
    void malformedRequestsGet400WithAReason() throws Exception {
        String[] requests = {
                "FOO /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "G@T /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
                "POST /latest/api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
                "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n\r\n",
                "GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 4\r\nConnection: close\r\n\r\n0\r\n\r\n",
                "GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcd",
                "GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        };
        for (String request : requests) {
            ServerStack.Reply r = stack.raw(POD, request);
            System.out.println(request.lines().findFirst().orElseThrow() + " -> " + r.text().replace("\r\n", " | "));
            // Content-Length with Transfer-Encoding: chunked wins (RFC 9112 6.3) and the connection closes; anything
            // Helidon cannot parse is a 400 with its reason; a body, which the metadata API never reads, is a 413
            // (--max-body-bytes=0 by default).
            assertTrue(r.status() == 200 || r.status() == 400 || r.status() == 405 || r.status() == 413, request + " -> " + r.text());
            assertFalse(body(r).isBlank(), "a reason in the body: " + r.text());
            assertTrue(r.text().contains("Server: EC2ws"), r.text());
        }
    }
}
