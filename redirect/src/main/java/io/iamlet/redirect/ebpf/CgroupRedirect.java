package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Asm;
import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Fd;
import io.iamlet.bpf.Insn;
import io.iamlet.bpf.ProgramSpec;
import io.iamlet.bpf.Reg;

import io.iamlet.netlink.ffm.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.OptionalInt;
import java.nio.file.NoSuchFileException;

/**
 * The eBPF backend: cgroup connect4 and connect6 programs that redirect, and a sock_ops program that records which
 * cgroup made each connection to the agent (the owners map, {@link ConnectionOwners}), both attached to the
 * pods' cgroup through bpf_links pinned in the BPF filesystem. The pins are what make it idempotent (a
 * second install swaps the programs behind the same links) and what keep the redirect in place while no
 * agent runs; unpinning detaches them.
 */
public final class CgroupRedirect {
    public static final Path DEFAULT_PIN_DIR = Path.of("/sys/fs/bpf/iamlet");
    private static final String LINK = "connect4";
    private static final String LINK6 = "connect6";
    private static final String SOCK_OPS_LINK = "sockops";
    private static final int SO_NETNS_COOKIE = 71;

    private final Path pinDir;

    public CgroupRedirect(Path pinDir) {
        this.pinDir = pinDir;
    }

    /**
     * Where the redirect applies (every process in {@code cgroup} and below), where it sends connects, and
     * whether connects to the container-credentials endpoint (169.254.170.23:80) go there too. With
     * {@code hostIpv6}, native IPv6 connects to [fd00:ec2::254]:80 (and [fd00:ec2::23]:80) go to [hostIpv6]:port.
     */
    public record Target(Path cgroup, Inet4Address hostIp, int port, boolean containerCredentials, long agentCgroupId,
                         Optional<Inet6Address> hostIpv6) {
        public Target {
            hostIpv6 = hostIpv6 == null ? Optional.empty() : hostIpv6;
        }

        /** IPv4 only. */
        public Target(Path cgroup, Inet4Address hostIp, int port, boolean containerCredentials, long agentCgroupId) {
            this(cgroup, hostIp, port, containerCredentials, agentCgroupId, Optional.empty());
        }

        /** The metadata service only. */
        public Target(Path cgroup, Inet4Address hostIp, int port) {
            this(cgroup, hostIp, port, false, 0);
        }

        /** Exempting the node's network namespace rather than the agent's cgroup (not known). */
        public Target(Path cgroup, Inet4Address hostIp, int port, boolean containerCredentials) {
            this(cgroup, hostIp, port, containerCredentials, 0);
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

    /** Detaches the programs, unpins their links and the owners maps; a no-op success when nothing is pinned. */
    public void remove() {
        // Only a pin that exists needs bpf(2): nodes that never used the eBPF backend may not allow it.
        for (String link : List.of(LINK, LINK6, SOCK_OPS_LINK)) {
            Path pin = pinDir.resolve(link);
            if (Files.exists(pin)) {
                Optional<Fd> fd = Bpf.get(pin);
                if (fd.isPresent()) {
                    try (Fd l = fd.get()) {
                        Bpf.linkDetach(l, pin);
                    }
                }
            }
        }
        try {
            for (String pin : List.of(LINK, LINK + "_new", LINK6, LINK6 + "_new", SOCK_OPS_LINK, SOCK_OPS_LINK + "_new", ConnectionOwners.PIN,
                    ConnectionOwners.PIN6)) {
                Files.deleteIfExists(pinDir.resolve(pin));
            }
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

    /** The pinned connect4 link and its program, or empty when none is pinned. */
    public Optional<Attached> show() {
        return show(ConnectProgram.Hook.CONNECT4);
    }

    /** The pinned link of the hook and its program, or empty when none is pinned. */
    public Optional<Attached> show(ConnectProgram.Hook hook) {
        Path pin = linkPin(hook);
        Optional<Fd> link = Bpf.get(pin);
        if (link.isEmpty()) {
            return Optional.empty();
        }
        try (Fd l = link.get()) {
            Bpf.LinkInfo info = Bpf.linkInfo(l);
            Bpf.ProgramInfo program = Bpf.programInfo(info.programId());
            return Optional.of(new Attached(pin, info.cgroupId(), info.programId(), program.name(), program.tag()));
        }
    }

    public Path linkPin(ConnectProgram.Hook hook) {
        return pinDir.resolve(hook == ConnectProgram.Hook.CONNECT4 ? LINK : LINK6);
    }

    /** Where the owners map is pinned: (pod-side address, port) of each open connection to the agent → cgroup id. */
    public Path ownersPin() {
        return pinDir.resolve(ConnectionOwners.PIN);
    }

    /** Where the IPv6 owners map is pinned, when the redirect takes IPv6. */
    public Path owners6Pin() {
        return pinDir.resolve(ConnectionOwners.PIN6);
    }

    private Attached attach(ConnectProgram.Kind kind, Target target) {
        requireBpfFilesystem();
        long cgroupId = cgroupId(target.cgroup());
        ConnectProgram program = new ConnectProgram(kind, target.hostIp(), target.port(), currentNetnsCookie(),
                target.containerCredentials(), target.agentCgroupId(), target.hostIpv6());
        if (kind == ConnectProgram.Kind.REDIRECT) {
            // The recorder first: every connection the redirect sends to the agent is then attributed.
            try (Fd owners = ownersMap(ownersPin(), ConnectionOwners.KEY_SIZE, "iamlet_owners");
                 Fd owners6 = target.hostIpv6().isPresent() ? ownersMap(owners6Pin(), ConnectionOwners.KEY6_SIZE, "iamlet_owners6") : null;
                 Fd sockOps = Bpf.progLoad(new SockOpsProgram(target.hostIp(), target.port(), owners.value(), target.hostIpv6(),
                         owners6 == null ? -1 : owners6.value()).spec())) {
                link(SOCK_OPS_LINK, Bpf.ATTACH_CGROUP_SOCK_OPS, sockOps, target.cgroup(), cgroupId);
            }
            if (target.hostIpv6().isEmpty()) {
                // No program uses it any more (the sock_ops program was just swapped): nothing stays on the node.
                try {
                    Files.deleteIfExists(owners6Pin());
                } catch (IOException e) {
                    throw new UncheckedIOException("unpin the IPv6 owners map " + owners6Pin() + " of a redirect that no longer takes IPv6: "
                            + e.getMessage(), e);
                }
            }
        }
        // connect6 first: a JVM's dual-stack sockets are then covered before the AF_INET ones change too.
        Attached attached = null;
        for (ConnectProgram.Hook hook : List.of(ConnectProgram.Hook.CONNECT6, ConnectProgram.Hook.CONNECT4)) {
            Path pin = linkPin(hook);
            try (Fd programFd = Bpf.progLoad(program.spec(hook))) {
                link(pin.getFileName().toString(), hook.attachType(), programFd, target.cgroup(), cgroupId);
            }
            attached = show(hook).orElseThrow(() -> new IllegalStateException("read back " + pin + " after pinning it, and it is gone"));
            if (attached.cgroupId() != cgroupId || !program.tags(hook).contains(attached.tag())
                    || !attached.programName().equals(kind.programName())) {
                throw new IllegalStateException("read back " + pin + " after installing it, and it holds " + attached
                        + " instead of " + kind.programName() + " (tag one of " + program.tags(hook) + ") on " + target.cgroup() + " (id " + cgroupId + ")");
            }
        }
        return attached;
    }

    /** A pinned owners map, created and pinned the first time: entries survive an agent's restart. */
    private static Fd ownersMap(Path pin, int keySize, String name) {
        Optional<Fd> pinned = Bpf.get(pin);
        if (pinned.isPresent()) {
            return pinned.get();
        }
        Fd map = Bpf.mapCreate(Bpf.MAP_TYPE_LRU_HASH, keySize, ConnectionOwners.VALUE_SIZE, ConnectionOwners.CAPACITY, name);
        try {
            Bpf.pin(map, pin);
            return map;
        } catch (RuntimeException e) {
            map.close();
            throw e;
        }
    }

    /** The program behind the pinned link {@code name} becomes {@code programFd}; a new link if none is pinned on this cgroup. */
    private void link(String name, int attachType, Fd programFd, Path cgroup, long cgroupId) {
        Optional<Fd> pinned = Bpf.get(pinDir.resolve(name));
        if (pinned.isPresent()) {
            try (Fd l = pinned.get()) {
                if (Bpf.linkInfo(l).cgroupId() == cgroupId) {
                    Bpf.linkUpdate(l, programFd);
                    return;
                }
            }
        }
        attachNew(name, attachType, programFd, cgroup);
    }

    /**
     * A new link on the cgroup, pinned beside the old one (bpffs names may not contain dots) and renamed
     * over it: the old link (on another cgroup, or detached because its cgroup is gone) is released only
     * once the new one is in place.
     */
    private void attachNew(String name, int attachType, Fd programFd, Path cgroup) {
        try (Fd cgroupFd = Fd.open(cgroup); Fd link = Bpf.linkCreate(programFd, cgroupFd, attachType, cgroup)) {
            Path fresh = pinDir.resolve(name + "_new");
            Files.deleteIfExists(fresh);
            Bpf.pin(link, fresh);
            Files.move(fresh, pinDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IllegalStateException("the BPF filesystem at " + pinDir + " cannot rename pins: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("pin the eBPF link in " + pinDir + ": " + e.getMessage(), e);
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
            // The owners map says which pod made each connection: only the node's root may read or change it.
            Files.setPosixFilePermissions(pinDir, PosixFilePermissions.fromString("rwx------"));
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
            throw new IllegalStateException("the cgroup " + cgroup + " does not exist here: the node's /sys/fs/cgroup must be"
                    + " visible to the agent, and the pods' cgroup named as it is seen there", e);
        } catch (IOException e) {
            throw new UncheckedIOException("read the cgroup " + cgroup + ": " + e.getMessage(), e);
        }
    }

    /** The calling thread's network namespace, as bpf_get_netns_cookie names it. */
    public static long currentNetnsCookie() {
        try (Fd fd = new Fd(Libc.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | Libc.SOCK_CLOEXEC, 0))) {
            return Libc.getsockoptLong(fd.value(), Libc.SOL_SOCKET, SO_NETNS_COOKIE, "SO_NETNS_COOKIE");
        }
    }

    /** How many connect4 programs the cgroup has attached, ours and anyone else's. */
    public static int attachedPrograms(Path cgroup) {
        return attachedPrograms(cgroup, ConnectProgram.Hook.CONNECT4);
    }

    /** How many programs the cgroup has attached at the hook, ours and anyone else's. */
    public static int attachedPrograms(Path cgroup, ConnectProgram.Hook hook) {
        try (Fd fd = Fd.open(cgroup)) {
            return Bpf.attachedCount(fd, hook.attachType(), cgroup);
        }
    }

    /** How many sock_ops programs the cgroup has attached, ours and anyone else's. */
    public static int attachedSockOpsPrograms(Path cgroup) {
        try (Fd fd = Fd.open(cgroup)) {
            return Bpf.attachedCount(fd, Bpf.ATTACH_CGROUP_SOCK_OPS, cgroup);
        }
    }

    /**
     * The calling process's own cgroup v2 id, so the connect program can exempt it: its path in
     * /proc/self/cgroup, found under a cgroup2 mount of this mount namespace that shows the whole hierarchy
     * (root "/" in /proc/self/mountinfo). Empty when no such mount is visible.
     */
    public static OptionalLong ownCgroupId() {
        try {
            String relative = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                    .filter(l -> l.startsWith("0::")).map(l -> l.substring(3)).findFirst().orElse(null);
            if (relative == null) {
                return OptionalLong.empty();
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] halves = line.split(" - ", 2);
                String[] fields = halves[0].split(" ");
                if (halves.length == 2 && halves[1].startsWith("cgroup2 ") && fields.length > 4 && fields[3].equals("/")) {
                    Path own = Path.of(fields[4].replace("\\040", " ")).resolve(relative.substring(1));
                    if (Files.isDirectory(own)) {
                        return OptionalLong.of((Long) Files.getAttribute(own, "unix:ino"));
                    }
                }
            }
            return OptionalLong.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("find the agent's own cgroup from /proc/self/cgroup and /proc/self/mountinfo: " + e.getMessage(), e);
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
