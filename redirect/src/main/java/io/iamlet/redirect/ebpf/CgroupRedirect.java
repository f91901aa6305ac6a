package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Bpf;
import io.iamlet.netlink.ffm.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.nio.file.NoSuchFileException;

/**
 * The eBPF backend: one cgroup connect4 program, attached to the pods' cgroup through a bpf_link pinned
 * in the BPF filesystem. The pin is what makes it idempotent (a second install swaps the program behind
 * the same link) and what keeps the redirect in place while no agent runs; unpinning detaches it.
 * Pods keep their own source address, so the agent finds them by IP as with the netfilter backends.
 */
public final class CgroupRedirect {
    public static final Path DEFAULT_PIN_DIR = Path.of("/sys/fs/bpf/iamlet");
    private static final String LINK = "connect4";
    private static final int SO_NETNS_COOKIE = 71;

    private final Path pinDir;

    public CgroupRedirect(Path pinDir) {
        this.pinDir = pinDir;
    }

    /**
     * Where the redirect applies (every process in {@code cgroup} and below), where it sends connects, and
     * whether connects to the container-credentials endpoint (169.254.170.23:80) go there too.
     */
    public record Target(Path cgroup, Inet4Address hostIp, int port, boolean containerCredentials) {
        /** The metadata service only. */
        public Target(Path cgroup, Inet4Address hostIp, int port) {
            this(cgroup, hostIp, port, false);
        }
    }

    /** What the pinned link holds, as the kernel reports it. */
    public record Attached(Path pin, long cgroupId, int programId, String programName, String tag) {
        public boolean blocking() {
            return programName.equals(ConnectProgram.Kind.BLOCK.programName());
        }

        @Override
        public String toString() {
            return "bpf_link " + pin + ": program " + programName + " (id " + programId + ", tag " + tag + ") on cgroup id " + cgroupId;
        }
    }

    public Path linkPin() {
        return pinDir.resolve(LINK);
    }

    /** Atomically redirects the cgroup's connects to 169.254.169.254:80 (and 169.254.170.23:80 if asked) to the agent, and reads it back. */
    public Attached install(Target target) {
        return attach(ConnectProgram.Kind.REDIRECT, target);
    }

    /** Atomically swaps the redirect for a program that refuses those connects, until the next install. */
    public Attached block(Target target) {
        return attach(ConnectProgram.Kind.BLOCK, target);
    }

    /** Detaches the program and unpins its link; a no-op success when nothing is pinned. */
    public void remove() {
        // Only a pin that exists needs bpf(2): nodes that never used the eBPF backend may not allow it.
        if (Files.exists(linkPin())) {
            OptionalInt link = Bpf.get(linkPin());
            if (link.isPresent()) {
                try {
                    Bpf.linkDetach(link.getAsInt(), linkPin());
                } finally {
                    Libc.close(link.getAsInt());
                }
            }
        }
        try {
            Files.deleteIfExists(linkPin());
            Files.deleteIfExists(pinDir.resolve(LINK + "_new"));
            if (Files.isDirectory(pinDir)) {
                try (var left = Files.list(pinDir)) {
                    if (left.findAny().isEmpty()) {
                        Files.delete(pinDir);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("remove the eBPF redirect pinned in " + pinDir + ": " + e.getMessage(), e);
        }
    }

    /** The pinned link and its program, or empty when none is pinned. */
    public Optional<Attached> show() {
        OptionalInt link = Bpf.get(linkPin());
        if (link.isEmpty()) {
            return Optional.empty();
        }
        try {
            Bpf.LinkInfo info = Bpf.linkInfo(link.getAsInt());
            Bpf.ProgramInfo program = Bpf.programInfo(info.programId());
            return Optional.of(new Attached(linkPin(), info.cgroupId(), info.programId(), program.name(), program.tag()));
        } finally {
            Libc.close(link.getAsInt());
        }
    }

    private Attached attach(ConnectProgram.Kind kind, Target target) {
        requireBpfFilesystem();
        long cgroupId = cgroupId(target.cgroup());
        ConnectProgram program = new ConnectProgram(kind, target.hostIp(), target.port(), currentNetnsCookie(), target.containerCredentials());
        int programFd = Bpf.progLoad(program.spec());
        try {
            OptionalInt pinned = Bpf.get(linkPin());
            if (pinned.isPresent() && Bpf.linkInfo(pinned.getAsInt()).cgroupId() == cgroupId) {
                try {
                    Bpf.linkUpdate(pinned.getAsInt(), programFd);
                } finally {
                    Libc.close(pinned.getAsInt());
                }
            } else {
                pinned.ifPresent(Libc::close);
                attachNew(programFd, target.cgroup());
            }
        } finally {
            Libc.close(programFd);
        }
        Attached attached = show().orElseThrow(() -> new IllegalStateException("read back " + linkPin() + " after pinning it, and it is gone"));
        if (attached.cgroupId() != cgroupId || !program.tags().contains(attached.tag())
                || !attached.programName().equals(kind.programName())) {
            throw new IllegalStateException("read back " + linkPin() + " after installing it, and it holds " + attached
                    + " instead of " + kind.programName() + " (tag one of " + program.tags() + ") on " + target.cgroup() + " (id " + cgroupId + ")");
        }
        return attached;
    }

    /**
     * A new link on the cgroup, pinned beside the old one (bpffs names may not contain dots) and renamed
     * over it: the old link (on another
     * cgroup, or detached because its cgroup is gone) is released only once the new one is in place.
     */
    private void attachNew(int programFd, Path cgroup) {
        int cgroupFd = Libc.open(cgroup.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            int linkFd = Bpf.linkCreate(programFd, cgroupFd, cgroup);
            try {
                Path fresh = pinDir.resolve(LINK + "_new");
                Files.deleteIfExists(fresh);
                Bpf.pin(linkFd, fresh);
                Files.move(fresh, linkPin(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IllegalStateException("the BPF filesystem at " + pinDir + " cannot rename pins: " + e.getMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException("pin the eBPF link in " + pinDir + ": " + e.getMessage(), e);
            } finally {
                Libc.close(linkFd);
            }
        } finally {
            Libc.close(cgroupFd);
        }
    }

    private void requireBpfFilesystem() {
        Path mount = pinDir.getParent();
        try {
            if (mount == null || !Files.isDirectory(mount) || !Files.getFileStore(mount).type().equals("bpf")) {
                throw new IllegalStateException(mount + " is not a BPF filesystem, so the eBPF redirect cannot be pinned there:"
                        + " mount it (mount -t bpf bpf " + mount + "; in a DaemonSet, a hostPath volume of the node's /sys/fs/bpf)");
            }
            Files.createDirectories(pinDir);
        } catch (IOException e) {
            throw new UncheckedIOException("prepare " + pinDir + " for the eBPF redirect: " + e.getMessage(), e);
        }
    }

    /** The kernel's id of a cgroup v2 directory, which is its inode number. */
    public static long cgroupId(Path cgroup) {
        try {
            if (!Files.getFileStore(cgroup).type().equals("cgroup2")) {
                throw new IllegalStateException(cgroup + " is not in a cgroup v2 hierarchy; the eBPF redirect attaches to cgroup v2"
                        + " directories (on hybrid hosts under /sys/fs/cgroup/unified)");
            }
            return (Long) Files.getAttribute(cgroup, "unix:ino");
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("the cgroup " + cgroup + " does not exist here; in a DaemonSet, mount the node's"
                    + " /sys/fs/cgroup into the agent (hostPath) and point --cgroup at the pods' cgroup there", e);
        } catch (IOException e) {
            throw new UncheckedIOException("read the cgroup " + cgroup + ": " + e.getMessage(), e);
        }
    }

    /** The calling thread's network namespace, as bpf_get_netns_cookie names it. */
    public static long currentNetnsCookie() {
        int fd = Libc.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | Libc.SOCK_CLOEXEC, 0);
        try {
            return Libc.getsockoptLong(fd, Libc.SOL_SOCKET, SO_NETNS_COOKIE, "SO_NETNS_COOKIE");
        } finally {
            Libc.close(fd);
        }
    }

    /** How many connect4 programs the cgroup has attached, ours and anyone else's. */
    public static int attachedPrograms(Path cgroup) {
        int fd = Libc.open(cgroup.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            return Bpf.attachedCount(fd, cgroup);
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * The cgroup the pods of a Kubernetes node live under: the kubelet's kubepods slice (systemd driver) or
     * directory (cgroupfs driver) in the cgroup v2 hierarchy.
     */
    public static Optional<Path> podCgroup() {
        for (Path root : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))) {
            for (String name : List.of("kubepods.slice", "kubepods")) {
                Path candidate = root.resolve(name);
                if (Files.isDirectory(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }
}
