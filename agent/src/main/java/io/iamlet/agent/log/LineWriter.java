package io.iamlet.agent.log;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Where the log's formatted lines go. Hand-written rather than a logging library's async appender: JUL is the
 * one backend (docs/operations.md), and its handlers write and flush a record at a time.
 */
public interface LineWriter {
    void write(String line);

    /** Returns once every line written before the call is out (or after a bound of 2 s). */
    void flush();

    /** Synchronous: for tests and commands that print a few lines. */
    static LineWriter direct(PrintStream out) {
        return new LineWriter() {
            @Override
            public void write(String line) {
                synchronized (out) {
                    out.println(line);
                }
            }

            @Override
            public void flush() {
                out.flush();
            }
        };
    }

    /**
     * Asynchronous and batched, for the agent: request threads only enqueue; one writer thread drains whatever
     * has piled up and writes it with one write and one flush, so under load many lines share a system call and
     * at rest each line is out within a few milliseconds. A full queue (65536 lines) makes callers wait rather than lose lines.
     * A kill -9 loses what is queued: at rest nothing, under load the last few milliseconds.
     */
    static LineWriter async(OutputStream out) {
        return new Async(out);
    }

    final class Async implements LineWriter {
        private static final long GATHER_MILLIS = 2;
        private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(65_536);
        private final OutputStream out;
        // Malformed text (a lone surrogate) becomes '?', as String.getBytes writes it.
        private final CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private final ByteBuffer bytes = ByteBuffer.allocate(64 * 1024);

        Async(OutputStream out) {
            this.out = out;
            Thread.ofPlatform().daemon().name("iamlet-log-writer").start(this::drain);
        }

        @Override
        public void write(String line) {
            try {
                queue.put(line);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void flush() {
            CountDownLatch done = new CountDownLatch(1);
            try {
                if (queue.offer(done, 2, TimeUnit.SECONDS)) {
                    done.await(2, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void drain() {
            List<Object> batch = new ArrayList<>();
            while (true) {
                try {
                    batch.add(queue.take());
                    // Lines come in bursts under load: gathering for a moment makes one write of hundreds of lines,
                    // and while this thread sleeps rather than waits on the queue, request threads wake no one.
                    Thread.sleep(GATHER_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                queue.drainTo(batch);
                write(batch);
                batch.clear();
            }
        }

        /**
         * One batch, in a method of its own: the JIT compiles a method after enough calls, where the loop of
         * {@link #drain} it used to be inlined in waited for on-stack replacement and ran interpreted meanwhile
         * (perf, docs/performance.md). Lines are encoded into one reused buffer: building the batch's text and
         * its bytes copied every line twice, a tenth of what the agent allocated under load (JFR).
         */
        private void write(List<Object> batch) {
            List<CountDownLatch> waiting = new ArrayList<>();
            for (Object o : batch) {
                if (o instanceof String line) {
                    encode(line);
                } else if (o instanceof CountDownLatch latch) {
                    waiting.add(latch);
                }
            }
            send();
            waiting.forEach(CountDownLatch::countDown);
        }

        private void encode(String line) {
            CharBuffer chars = CharBuffer.wrap(line);
            utf8.reset();
            while (utf8.encode(chars, bytes, true).isOverflow()) {
                send();
            }
            while (utf8.flush(bytes).isOverflow()) {
                send();
            }
            if (!bytes.hasRemaining()) {
                send();
            }
            bytes.put((byte) '\n');
        }

        private void send() {
            if (bytes.position() > 0) {
                try {
                    out.write(bytes.array(), 0, bytes.position());
                    out.flush();
                } catch (IOException e) {
                    // stdout is gone (a closed pipe): there is no one left to tell
                }
                bytes.clear();
            }
        }
    }
}
