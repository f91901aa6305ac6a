package io.iamlet.netlink.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a tool (ip, nft, iptables) for a test, bounded in time, and returns what it printed. */
public final class Command {
    private Command() {
    }

    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        public Result ok() {
            if (exitCode != 0) {
                throw new AssertionError("command failed (exit " + exitCode + "): " + String.join(" ", command)
                        + "\nstdout: " + stdout + "\nstderr: " + stderr);
            }
            return this;
        }

        public String output() {
            return stdout + stderr;
        }
    }

    public static Result run(String... command) {
        return run(Duration.ofSeconds(60), List.of(command));
    }

    public static Result run(Duration timeout, List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("command did not finish within " + timeout + ": " + String.join(" ", command));
            }
            return new Result(command, process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.getFirst() + " (is it installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + command, e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
