package io.iamlet.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.netlink.testing.Command;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * An OCI image archive (an OCI image layout in a tar, as bin/image writes it), read as a container runtime
 * reads one: index → manifest → config and layers, the layers applied in order onto a root filesystem.
 * Hand-written: no Maven Central library unpacks an OCI image onto a filesystem; the spec's rules (index,
 * manifest, whiteouts) take a few lines here, and GNU tar does the extracting.
 */
public final class OciArchive {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The parts of the image's config a runtime uses to start its process. */
    public record Config(List<String> entrypoint, List<String> cmd, Map<String, String> env, String user, String workingDir) {
    }

    private final Path layout;
    private final JsonNode index;
    private final JsonNode manifest;
    private final JsonNode config;

    private OciArchive(Path layout) throws IOException {
        this.layout = layout;
        this.index = JSON.readTree(layout.resolve("index.json").toFile());
        JsonNode manifests = index.path("manifests");
        if (manifests.size() != 1) {
            throw new IllegalStateException("expected one image in the archive's index: " + index);
        }
        this.manifest = JSON.readTree(blob(manifests.get(0).path("digest").asText()).toFile());
        this.config = JSON.readTree(blob(manifest.path("config").path("digest").asText()).toFile());
    }

    /** Unpacks the archive into a directory (the OCI layout) and reads it. */
    public static OciArchive open(Path archive, Path layoutDir) throws IOException {
        Files.createDirectories(layoutDir);
        Command.run("tar", "-xf", archive.toString(), "-C", layoutDir.toString()).ok();
        return new OciArchive(layoutDir);
    }

    private Path blob(String digest) {
        if (!digest.startsWith("sha256:")) {
            throw new IllegalStateException("unexpected digest " + digest);
        }
        return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    /** The manifest's digest, which is the image's digest. */
    public String digest() {
        return index.path("manifests").get(0).path("digest").asText();
    }

    /** The name the index gives the image (org.opencontainers.image.ref.name), e.g. ghcr.io/iamlet/iamlet:0.1.0. */
    public String reference() {
        return index.path("manifests").get(0).path("annotations").path("org.opencontainers.image.ref.name").asText();
    }

    public Config config() {
        JsonNode c = config.path("config");
        Map<String, String> env = new LinkedHashMap<>();
        c.path("Env").forEach(e -> {
            String s = e.asText();
            env.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        });
        return new Config(strings(c.path("Entrypoint")), strings(c.path("Cmd")), env, c.path("User").asText(""),
                c.path("WorkingDir").asText(""));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private List<Path> layers() {
        List<Path> out = new ArrayList<>();
        manifest.path("layers").forEach(l -> {
            String type = l.path("mediaType").asText();
            if (!type.equals("application/vnd.oci.image.layer.v1.tar+gzip")) {
                throw new IllegalStateException("unexpected layer type " + type);
            }
            out.add(blob(l.path("digest").asText()));
        });
        return out;
    }

    /** The layers' uncompressed size, what the image takes unpacked on a node. */
    public long uncompressedSize() throws IOException {
        long total = 0;
        for (Path layer : layers()) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(layer))) {
                total += in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        }
        return total;
    }

    /**
     * Applies the layers in order onto rootfs, as the OCI image spec says: a ".wh.NAME" entry deletes NAME of
     * the layers below, ".wh..wh..opq" empties its directory; everything else is extracted with its owner and mode.
     */
    public void unpack(Path rootfs) throws IOException {
        Files.createDirectories(rootfs);
        for (Path layer : layers()) {
            List<String> entries = Command.run("tar", "--warning=no-unknown-keyword", "-tzf", layer.toString()).ok().stdout().lines().toList();
            for (String entry : entries) {
                String name = entry.endsWith("/") ? entry.substring(0, entry.length() - 1) : entry;
                Path path = rootfs.resolve(name).normalize();
                if (!path.startsWith(rootfs)) {
                    throw new IllegalStateException("layer entry outside the root: " + entry);
                }
                String file = path.getFileName() == null ? "" : path.getFileName().toString();
                if (file.equals(".wh..wh..opq")) {
                    try (Stream<Path> children = Files.list(path.getParent())) {
                        for (Path child : children.toList()) {
                            deleteTree(child);
                        }
                    }
                } else if (file.startsWith(".wh.")) {
                    deleteTree(path.resolveSibling(file.substring(".wh.".length())));
                }
            }
            // GNU tar keeps the archive's owners and modes when run as root (--same-owner is its default then).
            Command.run("tar", "--warning=no-unknown-keyword", "--numeric-owner", "--same-permissions", "--exclude=.wh.*",
                    "-xzf", layer.toString(), "-C", rootfs.toString()).ok();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
