package io.iamlet.agent.log;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class LineWriterTest {
    @Test
    void linesFromManyThreadsAreAllWrittenWholeAndInTheirOrder() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        LineWriter writer = LineWriter.async(new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (sink) {
                    sink.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (sink) {
                    sink.write(b, off, len);
                }
            }
        });
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 5000; i++) {
                    writer.write("{\"thread\":" + id + ",\"n\":" + i + ",\"pad\":\"" + "x".repeat(i % 97) + "\"}");
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        writer.flush();
        String[] lines;
        synchronized (sink) {
            lines = sink.toString(StandardCharsets.UTF_8).split("\n");
        }
        assertEquals(20_000, lines.length, "every line, none lost");
        int[] next = new int[4];
        for (String line : lines) {
            Matcher m = Pattern.compile("\\{\"thread\":(\\d),\"n\":(\\d+),\"pad\":\"x*\"}").matcher(line);
            assertTrue(m.matches(), "a whole line: " + line);
            int thread = Integer.parseInt(m.group(1));
            assertEquals(next[thread]++, Integer.parseInt(m.group(2)), "each thread's lines in its order");
        }
    }

    @Test
    void aLineAtRestIsOutWithoutAFlush() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        LineWriter writer = LineWriter.async(sink);
        writer.write("one");
        for (int i = 0; i < 200 && sink.size() == 0; i++) {
            Thread.sleep(10);
        }
        assertEquals("one\n", sink.toString(StandardCharsets.UTF_8));
    }

    @Test
    void linesComeOutAsTheirUtf8BytesWhateverTheirLengthAndCharacters() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        LineWriter writer = LineWriter.async(new OutputStream() {
            @Override
            public synchronized void write(int b) {
                sink.write(b);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                sink.write(b, off, len);
            }
        });
        // Longer than the writer's buffer, several languages, a character outside the BMP, a lone surrogate.
        List<String> lines = List.of("{\"msg\":\"" + "é✓".repeat(50_000) + "\"}", "ünïcödé 😀 ok", "lone \uD800 surrogate", "",
                "x".repeat(65_535), "y".repeat(65_536));
        lines.forEach(writer::write);
        writer.flush();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (String line : lines) {
            expected.writeBytes(line.getBytes(StandardCharsets.UTF_8));
            expected.write('\n');
        }
        synchronized (writer) {
            assertArrayEquals(expected.toByteArray(), sink.toByteArray());
        }
    }
}
