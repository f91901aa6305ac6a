package io.iamlet.e2e.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real agent, `bin/iamlet run`, started inside the sandbox's node namespace, and its log. */
public final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private AgentProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static AgentProcess start(List<String> command, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        // The agent must find its credentials the way it does on a node, from the instance's metadata service,
        // not from whatever the person running the sandbox has in their environment.
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        return new AgentProcess(pb.start(), log);
    }

    /** Waits for the "ready" log line; fails with the log when the agent exits or takes too long. */
    AgentProcess awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!log().contains("\"msg\":\"ready\"")) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the agent exited (" + process.exitValue() + ") during start-up:\n" + log());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent was not ready within " + timeout + ":\n" + log());
            }
            Thread.sleep(50);
        }
        return this;
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    /** The agent's pid: `ip netns exec` and bin/iamlet exec, so it is the JVM's own. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM, as the kubelet stops a pod; the agent then applies its --on-exit. Returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        return awaitExit();
    }

    /** SIGKILL: no chance to clean up, as after an OOM kill. */
    public int kill() throws InterruptedException {
        process.destroyForcibly();
        return awaitExit();
    }

    private int awaitExit() throws InterruptedException {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the agent did not stop within 30s");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
