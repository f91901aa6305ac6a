package io.iamlet.image;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.api.buildplan.Port;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import com.google.cloud.tools.jib.api.buildplan.FileEntry;

/**
 * Assembles the agent's OCI image archive with Jib, without a Docker daemon or a registry: the base is a
 * tarball bin/image made from Debian packages (Jib keeps its layer as it is, symlinks included), and Jib adds
 * the jlink'ed runtime, the jars and the launcher as layers of their own. Every timestamp is fixed and every
 * file is owned by 0:0, so the same inputs give the same digest. bin/image prepares the inputs and runs this.
 */
public final class ImageBuilder {
    /** Where the agent lives in the image; bin/iamlet finds the jar through IAMLET_HOME. */
    public static final String HOME = "/opt/iamlet";
    private static final String OWNER = "0:0";

    /** What goes into the image. aot: a cache for the image's own runtime, shipped when there is one. */
    public record Inputs(Path baseTar, Path runtime, Path agentJar, Path agentLib, Path launcherDir, Optional<Path> aot,
                         String reference, String version, Path output, Path cache) {
    }

    private ImageBuilder() {
    }

    public static void main(String[] args) throws Exception {
        // Hand-parsed: a fixed set of --name=value options that only bin/image passes.
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("expected --name=value, got " + arg);
            }
            options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        Path agent = Path.of(required(options, "agent"));
        Inputs inputs = new Inputs(Path.of(required(options, "base")), Path.of(required(options, "runtime")),
                agent.resolve("iamlet.jar"), agent.resolve("lib"), Path.of(required(options, "launcher")),
                Optional.ofNullable(options.get("aot")).filter(s -> !s.isEmpty()).map(Path::of),
                required(options, "reference"), required(options, "version"), Path.of(required(options, "output")),
                Path.of(required(options, "cache")));
        JibContainer image = build(inputs);
        System.out.println(image.getDigest());
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("missing --" + name + "=...");
        }
        return value;
    }

    public static JibContainer build(Inputs in) throws Exception {
        for (Path p : List.of(in.baseTar(), in.runtime().resolve("bin/java"), in.agentJar(), in.agentLib(),
                in.launcherDir().resolve("iamlet"))) {
            if (!Files.exists(p)) {
                throw new IllegalArgumentException("image input missing: " + p);
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("IAMLET_HOME", HOME);
        env.put("JAVA_HOME", HOME + "/runtime");
        env.put("PATH", HOME + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        var builder = Jib.from(TarImage.at(in.baseTar()).named("iamlet-base"))
                .setFormat(ImageFormat.OCI)
                .setCreationTime(Instant.EPOCH)
                .setFileEntriesLayers(layers(in))
                .setEnvironment(env)
                .setUser("0:0")
                .setWorkingDirectory(AbsoluteUnixPath.get("/"))
                .setEntrypoint(HOME + "/bin/iamlet")
                .setProgramArguments("run")
                .addExposedPort(Port.tcp(8181))
                .addExposedPort(Port.tcp(8182))
                .addLabel("org.opencontainers.image.title", "iamlet")
                .addLabel("org.opencontainers.image.version", in.version());
        Files.createDirectories(in.output().toAbsolutePath().getParent());
        Containerizer to = Containerizer.to(TarImage.at(in.output()).named(in.reference()))
                .setOfflineMode(true)
                .setBaseImageLayersCache(in.cache().resolve("base"))
                .setApplicationLayersCache(in.cache().resolve("application"))
                .setToolName("iamlet-image")
                .addEventHandler(LogEvent.class, e -> {
                    // Jib warns that a base without a registry digest may not be reproducible: ours is a file
                    // bin/image makes reproducibly, and the image test checks the digest.
                    boolean baseDigestWarning = e.getMessage().contains("does not use a specific image digest");
                    if ((e.getLevel() == LogEvent.Level.ERROR || e.getLevel() == LogEvent.Level.WARN) && !baseDigestWarning) {
                        System.err.println("jib: " + e.getMessage());
                    }
                });
        return builder.containerize(to);
    }

    /** Layers from the least to the most often changed, so an image of a new build shares most of its layers. */
    private static List<FileEntriesLayer> layers(Inputs in) throws IOException {
        List<FileEntriesLayer> layers = new ArrayList<>();
        layers.add(FileEntriesLayer.builder().setName("runtime")
                .addEntryRecursive(in.runtime(), AbsoluteUnixPath.get(HOME + "/runtime"), ImageBuilder::sourcePermissions,
                        (source, target) -> FileEntriesLayer.DEFAULT_MODIFICATION_TIME, (source, target) -> OWNER)
                .build());
        List<Path> jars;
        try (Stream<Path> files = Files.list(in.agentLib())) {
            jars = files.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        // Our own modules change with every commit; third-party jars only when a version is bumped.
        FileEntriesLayer.Builder dependencies = FileEntriesLayer.builder().setName("dependencies");
        FileEntriesLayer.Builder modules = FileEntriesLayer.builder().setName("iamlet-modules");
        for (Path jar : jars) {
            boolean ours = jar.getFileName().toString().startsWith("iamlet-");
            (ours ? modules : dependencies).addEntry(file(jar, HOME + "/lib/" + jar.getFileName(), "644"));
        }
        layers.add(dependencies.build());
        layers.add(modules.build());
        FileEntriesLayer.Builder app = FileEntriesLayer.builder().setName("application")
                .addEntry(file(in.launcherDir().resolve("iamlet"), HOME + "/bin/iamlet", "755"))
                .addEntry(file(in.launcherDir().resolve("java-home"), HOME + "/bin/java-home", "755"))
                .addEntry(file(in.agentJar(), HOME + "/iamlet.jar", "644"));
        // One second newer than the jar: bin/iamlet uses a cache only when it is newer than the jar (a cache older
        // than its jar was made for an earlier build), and every other file has Jib's fixed time.
        in.aot().ifPresent(aot -> app.addEntry(new FileEntry(aot,
                AbsoluteUnixPath.get(HOME + "/iamlet.aot"), FilePermissions.fromOctalString("644"),
                FileEntriesLayer.DEFAULT_MODIFICATION_TIME.plusSeconds(1), OWNER)));
        layers.add(app.build());
        return layers;
    }

    private static FileEntry file(Path source, String target, String mode) {
        return new FileEntry(source, AbsoluteUnixPath.get(target),
                FilePermissions.fromOctalString(mode), FileEntriesLayer.DEFAULT_MODIFICATION_TIME, OWNER);
    }

    /** jlink's executables stay executable; every mode is normalized so the machine's umask cannot change the digest. */
    private static FilePermissions sourcePermissions(Path source, AbsoluteUnixPath target) {
        return Files.isDirectory(source) || Files.isExecutable(source) ? FilePermissions.fromOctalString("755")
                : FilePermissions.fromOctalString("644");
    }
}
