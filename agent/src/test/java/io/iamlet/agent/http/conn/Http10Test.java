package io.iamlet.agent.http.conn;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The HTTP/1.0 → HTTP/1.1 rewriting of one request, on the bytes (the server tests run it over sockets). */
public class Http10Test {
    /** A reader over these chunks, as they would come from a socket, then the end of the stream. */
    private static DataReader socket(String... chunks) {
        ArrayDeque<byte[]> left = new ArrayDeque<>();
        for (String c : chunks) {
            left.add(c.getBytes(StandardCharsets.ISO_8859_1));
        }
        return new DataReader(left::poll);
    }

    private static String rewrite(String... chunks) {
        DataReader in = socket(chunks);
        String all = String.join("", chunks);
        DataReader out = new DataReader(Http10.asHttp11(in, all.indexOf('\n'), 4096));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            while (true) {
                out.ensureAvailable();
                got.writeBytes(out.readBytes(out.available()));
            }
        } catch (DataReader.InsufficientDataAvailableException end) {
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void aBareRequestGetsVersionConnectionAndHost() {
        assertEquals("GET /latest/meta-data/ HTTP/1.1\r\nConnection: close\r\nHost: 169.254.169.254\r\n\r\n",
                rewrite("GET /latest/meta-data/ HTTP/1.0\r\n\r\n"));
    }

    @Test
    void anExistingHostIsKeptAndTheStreamEndsAfterTheBody() {
        assertEquals("PUT /latest/api/token HTTP/1.1\r\nConnection: close\r\nhost: x\r\nContent-Length: 3\r\n\r\nabc",
                rewrite("PUT /latest/api/token HTTP/1.0\r\nhost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n"));
    }

    @Test
    void bareLineFeedsBecomeCrlf() {
        assertEquals("GET / HTTP/1.1\r\nConnection: close\r\nHost: 169.254.169.254\r\nAccept: */*\r\n\r\n",
                rewrite("GET / HTTP/1.0\nAccept: */*\n\n"));
    }

    @Test
    void theHeadMayComeInPieces() {
        assertEquals("GET / HTTP/1.1\r\nConnection: close\r\nHost: 169.254.169.254\r\nUser-Agent: w\r\n\r\n",
                rewrite("GET / HTTP/1.0\r\nUser-", "Agent: w\r\n", "\r\n"));
    }

    @Test
    void onlyHttp10RequestLinesAreRewritten() {
        for (String line : List.of("GET / HTTP/1.0\r\n", "GET / HTTP/1.0\n")) {
            assertTrue(Http10.isRequestLine(BufferData.create(line.getBytes(StandardCharsets.US_ASCII))), line);
        }
        for (String line : List.of("GET / HTTP/1.1\r\n", "GET /HTTP/1.0\r\n", "HTTP/1.0\r\n", "GET / HTTP/1.00\r\n")) {
            assertFalse(Http10.isRequestLine(BufferData.create(line.getBytes(StandardCharsets.US_ASCII))), line);
        }
    }
}
