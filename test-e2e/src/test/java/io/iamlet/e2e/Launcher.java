package io.iamlet.e2e;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the checkout's bin/iamlet is, for tests that run the real program as operators do. */
public final class Launcher {
    private Launcher() {
    }

    public static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("bin/iamlet"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new AssertionError("cannot find bin/iamlet above " + Path.of("").toAbsolutePath());
        }
        if (!Files.isRegularFile(dir.resolve("agent/target/iamlet.jar"))) {
            throw new AssertionError("agent/target/iamlet.jar is missing: the agent module must be packaged before test-e2e runs");
        }
        return dir;
    }

    public static String iamlet() {
        return repositoryRoot().resolve("bin/iamlet").toString();
    }
}
