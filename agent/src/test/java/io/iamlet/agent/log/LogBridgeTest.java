package io.iamlet.agent.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/** A library's record with an exception keeps its stack trace and causes, in one JSON line. */
class LogBridgeTest {
    @AfterEach
    void resetLogging() {
        LogManager.getLogManager().reset();
    }

    private static Exception failure() {
        try {
            throw new IllegalStateException("inner cause");
        } catch (IllegalStateException inner) {
            return new IOException("watch failed", inner);
        }
    }

    @Test
    void aBridgedRecordKeepsItsStackTraceWithCausesOnOneLine() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RequestLog log = new RequestLog(new PrintStream(bytes, true, StandardCharsets.UTF_8), LogFormat.JSON, Clock.systemUTC());
        LogBridge.install(log);
        Logger.getLogger("io.fabric8.kubernetes.client.informers").log(Level.WARNING, "informer {0} stopped", new Object[] {"pods"});
        Logger.getLogger("io.fabric8.kubernetes.client.informers").log(Level.WARNING, "informer stopped", failure());
        log.flush();
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), "one line per record: " + lines);
        JsonNode plain = new ObjectMapper().readTree(lines.get(0));
        assertEquals("informer pods stopped", plain.get("msg").asText());
        assertNull(plain.get("stacktrace"), "no exception, no trace");
        JsonNode record = new ObjectMapper().readTree(lines.get(1));
        assertEquals("warning", record.get("level").asText());
        assertEquals("java.io.IOException: watch failed", record.get("error").asText());
        String trace = record.get("stacktrace").asText();
        assertTrue(trace.startsWith("java.io.IOException: watch failed\n\tat io.iamlet.agent.log.LogBridgeTest.failure("), trace);
        assertTrue(trace.contains("Caused by: java.lang.IllegalStateException: inner cause"), trace);
    }
}
