package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The AWS SDK for Go v2 and v1 clients of the sandbox tests (src/test/go/sdk-v2, src/test/go/sdk-v1), built with
 * Debian's golang-go against Debian's packaged SDK sources (golang-github-aws-aws-sdk-go-v2-dev,
 * golang-github-aws-aws-sdk-go-dev, golang-github-aws-smithy-go-dev under /usr/share/gocode) in GOPATH mode: no
 * module download, nothing from the network. Built into target/go-clients; the build cache in target/go-cache
 * makes every build after the first a matter of seconds.
 */
record GoClients(Path v2, Path v1) {
    private static final Path SOURCE = Path.of("src/test/go");
    private static final Path TARGET = Path.of("target/go-clients");
    private static final Path GOCODE = Path.of("/usr/share/gocode/src/github.com/aws");
    private static final List<String> PACKAGES = List.of("aws-sdk-go-v2", "aws-sdk-go", "smithy-go");

    /** Builds both clients; fails saying which Debian package is missing when the toolchain or a source tree is. */
    static GoClients build() throws Exception {
        for (String source : PACKAGES) {
            if (!Files.isDirectory(GOCODE.resolve(source))) {
                throw new AssertionError(GOCODE.resolve(source) + " is missing: install golang-github-aws-" + source
                        + "-dev (bin/install-deps does)");
            }
        }
        if (!Files.isExecutable(Path.of("/usr/bin/go"))) {
            throw new AssertionError("/usr/bin/go is missing: install golang-go (bin/install-deps does)");
        }
        Path target = Files.createDirectories(TARGET).toAbsolutePath();
        Path cache = Files.createDirectories(Path.of("target/go-cache")).toAbsolutePath();
        // GOPATH mode with the SDKs from /usr/share/gocode; GOPROXY=off makes any attempt to download an error.
        // CGO_ENABLED=0: static binaries without a C compiler, as they run in any pod's namespace.
        Command.run(Duration.ofMinutes(10), List.of("env", "-C", SOURCE.toAbsolutePath().toString(), "GO111MODULE=off",
                "GOPATH=" + target.resolveSibling("go-path") + ":/usr/share/gocode", "GOCACHE=" + cache, "GOPROXY=off", "GOFLAGS=",
                "CGO_ENABLED=0", "/usr/bin/go", "build", "-o", target + "/", "./sdk-v2", "./sdk-v1")).ok();
        return new GoClients(target.resolve("sdk-v2"), target.resolve("sdk-v1"));
    }
}
