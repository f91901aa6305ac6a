package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * The AWS SDK for JavaScript v3 client of the sandbox tests: src/test/js/container-client, its versions pinned by
 * package-lock.json, installed with `npm ci` into target/ (once per build; the npm registry must be reachable).
 */
final class NodeClient {
    private static final Path SOURCE = Path.of("src/test/js/container-client");
    private static final Path TARGET = Path.of("target/container-client");

    private NodeClient() {
    }

    /** The installed client script, ready for `node`. Fails loudly when npm cannot install it. */
    static Path install() throws IOException {
        Files.createDirectories(TARGET);
        boolean changed = false;
        for (String file : List.of("package.json", "package-lock.json", "client.mjs")) {
            Path to = TARGET.resolve(file);
            changed |= !Files.exists(to) || Files.mismatch(SOURCE.resolve(file), to) != -1;
            Files.copy(SOURCE.resolve(file), to, StandardCopyOption.REPLACE_EXISTING);
        }
        if (changed || !Files.isDirectory(TARGET.resolve("node_modules/@aws-sdk/credential-providers"))) {
            Command.run(Duration.ofMinutes(5), List.of("npm", "ci", "--no-audit", "--no-fund", "--prefix", TARGET.toString())).ok();
        }
        return TARGET.resolve("client.mjs").toAbsolutePath();
    }
}
