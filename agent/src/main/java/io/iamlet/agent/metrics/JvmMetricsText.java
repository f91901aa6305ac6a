package io.iamlet.agent.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The JVM's and the process's series (jvm_memory_*, jvm_gc_*, jvm_threads_*, process_cpu_seconds_total,
 * process_resident_memory_bytes, process_open_fds, ...) from Prometheus's own client library, in the same text
 * format as the agent's hand-written series, which they follow in one /metrics answer (their names never overlap:
 * ours begin with iamlet_ or kube2iam_). A registry of our own, not the library's default one: no static state.
 */
public final class JvmMetricsText {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    public JvmMetricsText() {
        JvmMetrics.builder().register(registry);
    }

    /** The series as Prometheus text (format 0.0.4), ending with a newline. */
    public String text() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException("writing the JVM's metrics", e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
