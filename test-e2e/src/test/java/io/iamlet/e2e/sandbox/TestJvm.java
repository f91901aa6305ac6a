package io.iamlet.e2e.sandbox;

import java.util.ArrayList;
import java.util.List;

/** A command line that runs a main class of the tests in a JVM of its own: this JVM's java and class path. */
final class TestJvm {
    private TestJvm() {
    }

    static List<String> command(Class<?> main, String... args) {
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this JVM"));
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dslf4j.internal.verbosity=ERROR",
                "-Djava.util.logging.config.file=" + System.getProperty("java.util.logging.config.file", ""),
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
