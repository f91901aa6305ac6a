package io.iamlet.e2e.sandbox;

import io.iamlet.e2e.OciArchive;
import io.iamlet.netlink.testing.Command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An image's root filesystem, unpacked from its layers and mounted as a container runtime mounts it for the
 * chart's container: the root read-only (readOnlyRootFilesystem), /proc, /sys read-only, a /dev of its own with
 * the usual devices, an empty /tmp (the chart's emptyDir), a BPF filesystem of its own where the chart mounts the
 * node's (/sys/fs/bpf), and the files the kubelet provides (/etc/hosts, resolv.conf).
 * Its directory is named after this JVM's pid: a later run unmounts and deletes what a crashed run left.
 */
final class ContainerRoot implements AutoCloseable {
    private static final String PREFIX = "iamlet-image-root-";
    private static final Path TMP = Path.of(System.getProperty("java.io.tmpdir"));

    private final Path dir;
    private final Path root;

    private ContainerRoot(Path dir) {
        this.dir = dir;
        this.root = dir.resolve("rootfs");
    }

    /**
     * Unpacks the image and mounts its root. files: absolute paths in the root and their contents, added first;
     * hostPaths: directories of this machine bound at absolute paths in the root, as the chart's hostPath volumes.
     */
    static ContainerRoot create(OciArchive image, Map<String, String> files, Map<Path, String> hostPaths) throws IOException {
        removeLeftovers();
        ContainerRoot c = new ContainerRoot(Files.createTempDirectory(TMP, PREFIX + ProcessHandle.current().pid() + "-"));
        try {
            c.build(image, files, hostPaths);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void build(OciArchive image, Map<String, String> files, Map<Path, String> hostPaths) throws IOException {
        image.unpack(root);
        // Mount points a runtime creates when the image lacks them.
        for (String d : List.of("proc", "dev", "sys", "tmp")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.writeString(root.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.writeString(root.resolve("etc/resolv.conf"), "");
        for (var f : files.entrySet()) {
            Path target = root.resolve(f.getKey().substring(1));
            Files.createDirectories(target.getParent());
            Files.writeString(target, f.getValue());
        }
        Command.run("mount", "--bind", root.toString(), root.toString()).ok();
        Command.run("mount", "-o", "remount,bind,ro", root.toString()).ok();
        Command.run("mount", "-t", "proc", "proc", root.resolve("proc").toString()).ok();
        Command.run("mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "tmpfs", root.resolve("dev").toString()).ok();
        for (var dev : Map.of("null", "1 3", "zero", "1 5", "full", "1 7", "random", "1 8", "urandom", "1 9", "tty", "5 0").entrySet()) {
            String[] mm = dev.getValue().split(" ");
            Command.run("mknod", "-m", "666", root.resolve("dev").resolve(dev.getKey()).toString(), "c", mm[0], mm[1]).ok();
        }
        Command.run("mount", "-t", "tmpfs", "-o", "mode=1777,size=16m", "tmpfs", root.resolve("tmp").toString()).ok();
        // /sys read-only as a runtime gives it; the chart's hostPath /sys/fs/bpf as a BPF filesystem of this root's own.
        Command.run("mount", "-t", "sysfs", "-o", "ro", "sysfs", root.resolve("sys").toString()).ok();
        if (!hostPaths.containsValue("/sys/fs/bpf")) {
            Command.run("mount", "-t", "bpf", "bpf", root.resolve("sys/fs/bpf").toString()).ok();
        }
        for (var bind : hostPaths.entrySet()) {
            Path target = root.resolve(bind.getValue().substring(1));
            Command.run("mount", "--bind", bind.getKey().toString(), target.toString()).ok();
            if (bind.getValue().equals("/sys/fs/cgroup")) {
                // The chart mounts the node's cgroups read-only.
                Command.run("mount", "-o", "remount,bind,ro", target.toString()).ok();
            }
        }
    }

    Path path() {
        return root;
    }

    private static List<String> mountsUnder(Path p) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mounts")).stream().map(l -> l.split(" ")[1])
                .filter(m -> m.equals(p.toString()) || m.startsWith(p + "/")).toList();
    }

    private static void unmountAndDelete(Path dir) throws IOException {
        for (String m : mountsUnder(dir).reversed()) {
            Command.run("umount", "-l", m);
        }
        List<String> left = mountsUnder(dir);
        if (!left.isEmpty()) {
            // Never walk into a mounted /proc or /dev: deleting there would reach outside the root.
            throw new IOException("still mounted, not deleting " + dir + ": " + left);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void removeLeftovers() throws IOException {
        try (Stream<Path> dirs = Files.list(TMP)) {
            for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList()) {
                String pid = d.getFileName().toString().substring(PREFIX.length()).split("-")[0];
                if (!pid.isEmpty() && pid.chars().allMatch(Character::isDigit) && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    unmountAndDelete(d);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (Files.exists(dir)) {
            unmountAndDelete(dir);
        }
    }
}
