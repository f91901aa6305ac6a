package io.iamlet.bpf;

import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.ffm.Libc;
import io.iamlet.netlink.ffm.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.OptionalInt;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The bpf(2) commands iamlet uses, each with the union bpf_attr layout of its command (uapi linux/bpf.h). */
public final class Bpf {
    public static final int PROG_TYPE_CGROUP_SOCK_ADDR = 18;
    public static final int ATTACH_CGROUP_INET4_CONNECT = 10;
    public static final int LINK_TYPE_CGROUP = 3;

    private static final int PROG_LOAD = 5;
    private static final int OBJ_PIN = 6;
    private static final int OBJ_GET = 7;
    private static final int PROG_GET_FD_BY_ID = 13;
    private static final int OBJ_GET_INFO_BY_FD = 15;
    private static final int PROG_QUERY = 16;
    private static final int LINK_CREATE = 28;
    private static final int LINK_UPDATE = 29;
    private static final int LINK_DETACH = 34;
    /** Larger than every layout used here; the kernel requires the bytes it does not know to be zero. */
    private static final int ATTR_SIZE = 144;
    private static final int LOG_SIZE = 64 * 1024;
    private static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 321;
        case "aarch64", "arm64" -> 280;
        default -> -1;
    };

    private Bpf() {
    }

    public static String hint(int errno) {
        return switch (errno) {
            case Errno.EPERM, Errno.EACCES -> "Loading and attaching eBPF programs needs CAP_BPF and CAP_NET_ADMIN"
                    + " (CAP_SYS_ADMIN on kernels before 5.8) in the node's user namespace; run the agent with them";
            default -> null;
        };
    }

    private static long call(int command, MemorySegment attr, String what) {
        if (SYS_BPF < 0) {
            throw new UnsupportedOperationException("the eBPF backend supports x86_64 and arm64, not " + System.getProperty("os.arch"));
        }
        try {
            return Libc.syscall(SYS_BPF, command, attr, ATTR_SIZE, what);
        } catch (NativeException e) {
            throw new NativeException(what, e.errno(), null, hint(e.errno()));
        }
    }

    public static int progLoad(ProgramSpec program) {
        try (Arena arena = Arena.ofConfined()) {
            byte[] code = program.instructions();
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            MemorySegment insns = arena.allocateFrom(JAVA_BYTE, code);
            MemorySegment log = arena.allocate(LOG_SIZE);
            attr.set(JAVA_INT, 0, program.type());
            attr.set(JAVA_INT, 4, code.length / Insn.SIZE);
            attr.set(JAVA_LONG, 8, insns.address());
            attr.set(JAVA_LONG, 16, arena.allocateFrom(program.license()).address());
            attr.set(JAVA_INT, 24, 1);
            attr.set(JAVA_INT, 28, LOG_SIZE);
            attr.set(JAVA_LONG, 32, log.address());
            byte[] name = program.name().getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(name, 0, attr, JAVA_BYTE, 48, name.length);
            attr.set(JAVA_INT, 68, program.attachType());
            try {
                return (int) Libc.syscall(SYS_BPF, PROG_LOAD, attr, ATTR_SIZE, "load " + program.name());
            } catch (NativeException e) {
                String verifier = log.getString(0).strip();
                throw new NativeException("load the eBPF program " + program.name() + " (BPF_PROG_LOAD)", e.errno(),
                        verifier.isEmpty() ? null : "verifier: " + verifier, hint(e.errno()));
            }
        }
    }

    public static int linkCreate(int progFd, int cgroupFd, Path cgroup) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, cgroupFd);
            attr.set(JAVA_INT, 8, ATTACH_CGROUP_INET4_CONNECT);
            return (int) call(LINK_CREATE, attr, "attach the connect program to cgroup " + cgroup + " (BPF_LINK_CREATE)");
        }
    }

    /** Swaps the program behind a link in one step: no moment without either program. */
    public static void linkUpdate(int linkFd, int progFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, linkFd);
            attr.set(JAVA_INT, 4, progFd);
            call(LINK_UPDATE, attr, "replace the program of the pinned link (BPF_LINK_UPDATE)");
        }
    }

    /**
     * Detaches a link from its cgroup at once. Unpinning alone frees the link only when the kernel gets to
     * it (deferred work), so a remove that returned could still leave the program attached for a moment.
     */
    public static void linkDetach(int linkFd, Path pin) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, linkFd);
            call(LINK_DETACH, attr, "detach the link pinned at " + pin + " (BPF_LINK_DETACH)");
        }
    }

    public static void pin(int fd, Path path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_LONG, 0, arena.allocateFrom(path.toString()).address());
            attr.set(JAVA_INT, 8, fd);
            call(OBJ_PIN, attr, "pin the link at " + path + " (BPF_OBJ_PIN)");
        }
    }

    /** The object pinned at {@code path}, or empty when nothing is. */
    public static OptionalInt get(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_LONG, 0, arena.allocateFrom(path.toString()).address());
            return OptionalInt.of((int) call(OBJ_GET, attr, "open the pinned link " + path + " (BPF_OBJ_GET)"));
        } catch (NativeException e) {
            if (e.errno() == Errno.ENOENT) {
                return OptionalInt.empty();
            }
            throw e;
        }
    }

    /** struct bpf_link_info for a cgroup link. */
    public record LinkInfo(int type, int id, int programId, long cgroupId, int attachType) {
    }

    public static LinkInfo linkInfo(int linkFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(64, 8);
            infoByFd(arena, linkFd, info, "read the pinned link (BPF_OBJ_GET_INFO_BY_FD)");
            return new LinkInfo(info.get(JAVA_INT, 0), info.get(JAVA_INT, 4), info.get(JAVA_INT, 8),
                    info.get(JAVA_LONG, 16), info.get(JAVA_INT, 24));
        }
    }

    /** The parts of struct bpf_prog_info iamlet checks. */
    public record ProgramInfo(int id, String tag, String name) {
    }

    public static ProgramInfo programInfo(int programId) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, programId);
            int fd = (int) call(PROG_GET_FD_BY_ID, attr, "open eBPF program " + programId + " (BPF_PROG_GET_FD_BY_ID)");
            try {
                MemorySegment info = arena.allocate(96, 8);
                infoByFd(arena, fd, info, "read eBPF program " + programId + " (BPF_OBJ_GET_INFO_BY_FD)");
                byte[] tag = info.asSlice(8, 8).toArray(JAVA_BYTE);
                return new ProgramInfo(info.get(JAVA_INT, 4), HexFormat.of().formatHex(tag), info.asSlice(64, 16).getString(0));
            } finally {
                Libc.close(fd);
            }
        }
    }

    private static void infoByFd(Arena arena, int fd, MemorySegment info, String what) {
        MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
        attr.set(JAVA_INT, 0, fd);
        attr.set(JAVA_INT, 4, (int) info.byteSize());
        attr.set(JAVA_LONG, 8, info.address());
        call(OBJ_GET_INFO_BY_FD, attr, what);
    }

    /** How many programs are attached to the cgroup for connect4, whoever attached them. */
    public static int attachedCount(int cgroupFd, Path cgroup) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, cgroupFd);
            attr.set(JAVA_INT, 4, ATTACH_CGROUP_INET4_CONNECT);
            call(PROG_QUERY, attr, "list the connect programs of cgroup " + cgroup + " (BPF_PROG_QUERY)");
            return attr.get(JAVA_INT, 24);
        }
    }
}
