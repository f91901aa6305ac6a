package io.iamlet.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** ImageBuilder on small stand-in inputs: the layout, modes, owners and times of the layers, and a stable digest. */
class ImageBuilderTest {
    @TempDir
    Path dir;

    private static String run(Path cwd, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    private Path file(String path, String content, String mode) throws IOException {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    /** A base in the layout bin/image writes: manifest.json, config.json and one layer, rootfs.tar. */
    private Path base() throws Exception {
        file("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", "rw-r--r--");
        Files.createSymbolicLink(dir.resolve("rootfs/bin"), Path.of("usr/bin"));
        Path base = Files.createDirectories(dir.resolve("base"));
        run(dir, "tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", "base/rootfs.tar", "-C", "rootfs", ".");
        String diffId = run(base, "sha256sum", "rootfs.tar").split(" ")[0];
        Files.writeString(base.resolve("config.json"), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + diffId + "\"]}}");
        Files.writeString(base.resolve("manifest.json"), "[{\"Config\":\"config.json\",\"RepoTags\":[],\"Layers\":[\"rootfs.tar\"]}]");
        run(base, "tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", "../base.tar", "manifest.json", "config.json", "rootfs.tar");
        return dir.resolve("base.tar");
    }

    private ImageBuilder.Inputs inputs(Path base, String name) throws IOException {
        return inputs(base, name, Optional.empty());
    }

    private ImageBuilder.Inputs inputs(Path base, String name, Optional<Path> aot) throws IOException {
        file("runtime/bin/java", "#!/bin/sh\n", "rwxrwxr-x");
        file("runtime/lib/modules", "modules", "rw-rw-r--");
        file("agent/iamlet.jar", "app", "rw-rw-r--");
        file("agent/lib/jackson-core-2.19.2.jar", "dependency", "rw-rw-r--");
        file("agent/lib/iamlet-control-0.1.0-SNAPSHOT.jar", "module", "rw-rw-r--");
        file("bin/iamlet", "#!/usr/bin/env bash\n", "rwxrwxr-x");
        file("bin/java-home", "#!/usr/bin/env bash\n", "rwxrwxr-x");
        return new ImageBuilder.Inputs(base, dir.resolve("runtime"), dir.resolve("agent/iamlet.jar"), dir.resolve("agent/lib"),
                dir.resolve("bin"), aot, "example.test/iamlet:1.2.3", "1.2.3", dir.resolve(name + ".oci.tar"),
                dir.resolve("cache-" + name));
    }

    /** `tar -tv` of every layer of the archive {@code name}.oci.tar, unpacked into layout-{@code name}. */
    private String listing(String name) throws Exception {
        Path layout = Files.createDirectories(dir.resolve("layout-" + name));
        run(layout, "tar", "-xf", dir.resolve(name + ".oci.tar").toString());
        StringBuilder listing = new StringBuilder();
        try (var blobs = Files.list(layout.resolve("blobs/sha256"))) {
            for (Path blob : blobs.toList()) {
                byte[] head = Files.readAllBytes(blob);
                if (head.length > 2 && head[0] == (byte) 0x1f && head[1] == (byte) 0x8b) {
                    listing.append(run(layout, "tar", "--warning=no-unknown-keyword", "--numeric-owner", "--full-time", "-tvzf", blob.toString()));
                }
            }
        }
        return listing.toString();
    }

    @Test
    void layersHoldTheAgentUnderOptIamletOwnedByRootWithFixedTimesAndTheDigestIsStable() throws Exception {
        Path base = base();
        String first = ImageBuilder.build(inputs(base, "first")).getDigest().toString();
        // Another cache, other modes and times on the inputs: the same image.
        Files.setPosixFilePermissions(dir.resolve("agent/iamlet.jar"), PosixFilePermissions.fromString("rw-------"));
        Files.setLastModifiedTime(dir.resolve("agent/iamlet.jar"), java.nio.file.attribute.FileTime.fromMillis(123456789));
        String second = ImageBuilder.build(inputs(base, "second")).getDigest().toString();
        assertEquals(first, second);

        String all = listing("first");
        assertTrue(Files.readString(dir.resolve("layout-first/index.json")).contains("\"org.opencontainers.image.ref.name\":\"example.test/iamlet:1.2.3\""));
        for (String expected : List.of("-rwxr-xr-x 0/0 ", "opt/iamlet/runtime/bin/java", "opt/iamlet/iamlet.jar",
                "opt/iamlet/lib/jackson-core-2.19.2.jar", "opt/iamlet/lib/iamlet-control-0.1.0-SNAPSHOT.jar", "opt/iamlet/bin/iamlet",
                "./bin -> usr/bin")) {
            assertTrue(all.contains(expected), expected + " in\n" + all);
        }
        for (String line : all.lines().filter(l -> l.contains("opt/iamlet/")).toList()) {
            assertTrue(line.contains(" 0/0 "), "owned by root: " + line);
            assertTrue(line.contains("1970-01-01 00:00:01"), "Jib's fixed time: " + line);
            String mode = line.endsWith("/") ? "drwxr-xr-x" : line.contains("/bin/") ? "-rwxr-xr-x" : "-rw-r--r--";
            assertTrue(line.startsWith(mode), "normalized mode " + mode + ": " + line);
        }
    }

    @Test
    void anAotCacheIsShippedOneSecondNewerThanTheJar() throws Exception {
        // bin/iamlet uses iamlet.aot only when it is newer than iamlet.jar: with Jib's one fixed time for all files
        // the image's cache was never used.
        Path aot = file("image/iamlet.aot", "cache", "rw-rw-r--");
        ImageBuilder.build(inputs(base(), "aot", Optional.of(aot)));
        String all = listing("aot");
        String jar = all.lines().filter(l -> l.endsWith("opt/iamlet/iamlet.jar")).findFirst().orElseThrow(() -> new AssertionError(all));
        String cache = all.lines().filter(l -> l.endsWith("opt/iamlet/iamlet.aot")).findFirst().orElseThrow(() -> new AssertionError(all));
        assertTrue(jar.contains("1970-01-01 00:00:01"), jar);
        assertTrue(cache.contains("1970-01-01 00:00:02") && cache.startsWith("-rw-r--r-- 0/0 "), cache);
    }
}
