package io.iamlet.bpf;

import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.ffm.Libc;
import io.iamlet.netlink.ffm.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The bpf(2) commands iamlet uses. union bpf_attr has one struct per command (uapi linux/bpf.h); each is
 * written out below as a layout with the kernel's field names, and filled by name.
 */
public final class Bpf {
    public static final int PROG_TYPE_CGROUP_SOCK_ADDR = 18;
    public static final int PROG_TYPE_SOCK_OPS = 13;
    public static final int ATTACH_CGROUP_INET4_CONNECT = 10;
    public static final int ATTACH_CGROUP_INET6_CONNECT = 11;
    public static final int ATTACH_CGROUP_SOCK_OPS = 3;
    public static final int MAP_TYPE_LRU_HASH = 9;

    private static final int MAP_CREATE = 0;
    private static final int MAP_LOOKUP_ELEM = 1;
    private static final int MAP_UPDATE_ELEM = 2;
    private static final int MAP_DELETE_ELEM = 3;
    private static final int MAP_GET_NEXT_KEY = 4;
    private static final int PROG_LOAD = 5;
    private static final int OBJ_PIN = 6;
    private static final int OBJ_GET = 7;
    private static final int PROG_GET_FD_BY_ID = 13;
    private static final int OBJ_GET_INFO_BY_FD = 15;
    private static final int PROG_QUERY = 16;
    private static final int LINK_CREATE = 28;
    private static final int LINK_UPDATE = 29;
    private static final int LINK_DETACH = 34;

    /** BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG are not used; only root opens the pins (mode 0600 on bpffs). */
    private static final StructLayout MAP_CREATE_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("map_type"), JAVA_INT.withName("key_size"), JAVA_INT.withName("value_size"),
            JAVA_INT.withName("max_entries"), JAVA_INT.withName("map_flags"), JAVA_INT.withName("inner_map_fd"),
            JAVA_INT.withName("numa_node"), MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("map_name"));
    private static final StructLayout MAP_ELEM_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("map_fd"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("key"),
            JAVA_LONG.withName("value"), JAVA_LONG.withName("flags"));
    private static final StructLayout PROG_LOAD_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_type"), JAVA_INT.withName("insn_cnt"), JAVA_LONG.withName("insns"),
            JAVA_LONG.withName("license"), JAVA_INT.withName("log_level"), JAVA_INT.withName("log_size"),
            JAVA_LONG.withName("log_buf"), JAVA_INT.withName("kern_version"), JAVA_INT.withName("prog_flags"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("prog_name"), JAVA_INT.withName("prog_ifindex"),
            JAVA_INT.withName("expected_attach_type"));
    private static final StructLayout OBJ_ATTR = MemoryLayout.structLayout(
            JAVA_LONG.withName("pathname"), JAVA_INT.withName("bpf_fd"), JAVA_INT.withName("file_flags"));
    private static final StructLayout ID_ATTR = MemoryLayout.structLayout(JAVA_INT.withName("prog_id"));
    private static final StructLayout INFO_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("bpf_fd"), JAVA_INT.withName("info_len"), JAVA_LONG.withName("info"));
    private static final StructLayout QUERY_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("target_fd"), JAVA_INT.withName("attach_type"), JAVA_INT.withName("query_flags"),
            JAVA_INT.withName("attach_flags"), JAVA_LONG.withName("prog_ids"), JAVA_INT.withName("prog_cnt"));
    private static final StructLayout LINK_CREATE_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_fd"), JAVA_INT.withName("target_fd"), JAVA_INT.withName("attach_type"),
            JAVA_INT.withName("flags"));
    private static final StructLayout LINK_UPDATE_ATTR = MemoryLayout.structLayout(
            JAVA_INT.withName("link_fd"), JAVA_INT.withName("new_prog_fd"), JAVA_INT.withName("flags"),
            JAVA_INT.withName("old_prog_fd"));
    private static final StructLayout LINK_DETACH_ATTR = MemoryLayout.structLayout(JAVA_INT.withName("link_fd"));

    private static final int LOG_SIZE = 64 * 1024;
    private static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 321;
        case "aarch64", "arm64" -> 280;
        default -> -1;
    };

    private Bpf() {
    }

    /** One command's bpf_attr, filled by field name. */
    private record Attr(MemorySegment segment, StructLayout layout) {
        static Attr of(Arena arena, StructLayout layout) {
            return new Attr(arena.allocate(layout), layout);
        }

        Attr set(String field, int value) {
            segment.set(JAVA_INT, layout.byteOffset(groupElement(field)), value);
            return this;
        }

        Attr set(String field, long value) {
            segment.set(JAVA_LONG, layout.byteOffset(groupElement(field)), value);
            return this;
        }

        Attr set(String field, MemorySegment pointer) {
            return set(field, pointer.address());
        }

        Attr name(String field, String name) {
            byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(bytes, 0, segment, JAVA_BYTE, layout.byteOffset(groupElement(field)), bytes.length);
            return this;
        }

        int getInt(String field) {
            return segment.get(JAVA_INT, layout.byteOffset(groupElement(field)));
        }
    }

    public static String hint(int errno) {
        return switch (errno) {
            case Errno.EPERM, Errno.EACCES -> "Loading and attaching eBPF programs needs CAP_BPF and CAP_NET_ADMIN"
                    + " (CAP_SYS_ADMIN on kernels before 5.8) in the node's user namespace; run the agent with them";
            default -> null;
        };
    }

    private static long call(int command, Attr attr, String what) {
        if (SYS_BPF < 0) {
            throw new UnsupportedOperationException("the eBPF backend supports x86_64 and arm64, not " + System.getProperty("os.arch"));
        }
        try {
            return Libc.syscall(SYS_BPF, command, attr.segment(), (int) attr.segment().byteSize(), what);
        } catch (NativeException e) {
            throw new NativeException(what, e.errno(), null, hint(e.errno()));
        }
    }

    public static Fd progLoad(ProgramSpec program) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment log = arena.allocate(LOG_SIZE);
            Attr attr = Attr.of(arena, PROG_LOAD_ATTR)
                    .set("prog_type", program.type())
                    .set("insn_cnt", program.instructions().length / Insn.SIZE)
                    .set("insns", arena.allocateFrom(JAVA_BYTE, program.instructions()))
                    .set("license", arena.allocateFrom(program.license()))
                    .set("log_level", 1)
                    .set("log_size", LOG_SIZE)
                    .set("log_buf", log)
                    .name("prog_name", program.name())
                    .set("expected_attach_type", program.attachType());
            try {
                return new Fd((int) Libc.syscall(SYS_BPF, PROG_LOAD, attr.segment(), (int) attr.segment().byteSize(), "load " + program.name()));
            } catch (NativeException e) {
                String verifier = log.getString(0).strip();
                throw new NativeException("load the eBPF program " + program.name() + " (BPF_PROG_LOAD)", e.errno(),
                        verifier.isEmpty() ? null : "verifier: " + verifier, hint(e.errno()));
            }
        }
    }

    public static Fd mapCreate(int type, int keySize, int valueSize, int maxEntries, String name) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, MAP_CREATE_ATTR).set("map_type", type).set("key_size", keySize)
                    .set("value_size", valueSize).set("max_entries", maxEntries).name("map_name", name);
            return new Fd((int) call(MAP_CREATE, attr, "create the eBPF map " + name + " (BPF_MAP_CREATE)"));
        }
    }

    /** The value at {@code key}, or empty when the map has none. */
    public static Optional<MemorySegment> mapLookup(Fd map, MemorySegment key, Arena arena, long valueSize) {
        MemorySegment value = arena.allocate(valueSize, 8);
        Attr attr = Attr.of(arena, MAP_ELEM_ATTR).set("map_fd", map.value()).set("key", key).set("value", value);
        try {
            call(MAP_LOOKUP_ELEM, attr, "look up an entry of an eBPF map (BPF_MAP_LOOKUP_ELEM)");
            return Optional.of(value);
        } catch (NativeException e) {
            if (e.errno() == Errno.ENOENT) {
                return Optional.empty();
            }
            throw e;
        }
    }

    public static void mapUpdate(Fd map, MemorySegment key, MemorySegment value) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, MAP_ELEM_ATTR).set("map_fd", map.value()).set("key", key).set("value", value);
            call(MAP_UPDATE_ELEM, attr, "write an entry of an eBPF map (BPF_MAP_UPDATE_ELEM)");
        }
    }

    public static void mapDelete(Fd map, MemorySegment key) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, MAP_ELEM_ATTR).set("map_fd", map.value()).set("key", key);
            try {
                call(MAP_DELETE_ELEM, attr, "delete an entry of an eBPF map (BPF_MAP_DELETE_ELEM)");
            } catch (NativeException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
            }
        }
    }

    /** The key after {@code key} (the first one when {@code key} is null), or false at the end: the map's keys one by one. */
    public static boolean mapNextKey(Fd map, MemorySegment key, MemorySegment next) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, MAP_ELEM_ATTR).set("map_fd", map.value()).set("key", key == null ? 0L : key.address())
                    .set("value", next);
            call(MAP_GET_NEXT_KEY, attr, "list the keys of an eBPF map (BPF_MAP_GET_NEXT_KEY)");
            return true;
        } catch (NativeException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    public static Fd linkCreate(Fd prog, Fd cgroup, int attachType, Path cgroupPath) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, LINK_CREATE_ATTR).set("prog_fd", prog.value()).set("target_fd", cgroup.value())
                    .set("attach_type", attachType);
            return new Fd((int) call(LINK_CREATE, attr, "attach an eBPF program to cgroup " + cgroupPath + " (BPF_LINK_CREATE)"));
        }
    }

    /** Swaps the program behind a link in one step: no moment without either program. */
    public static void linkUpdate(Fd link, Fd prog) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, LINK_UPDATE_ATTR).set("link_fd", link.value()).set("new_prog_fd", prog.value());
            call(LINK_UPDATE, attr, "replace the program of the pinned link (BPF_LINK_UPDATE)");
        }
    }

    /**
     * Detaches a link from its cgroup at once. Unpinning alone frees the link only when the kernel gets to
     * it (deferred work), so a remove that returned could still leave the program attached for a moment.
     */
    public static void linkDetach(Fd link, Path pin) {
        try (Arena arena = Arena.ofConfined()) {
            call(LINK_DETACH, Attr.of(arena, LINK_DETACH_ATTR).set("link_fd", link.value()),
                    "detach the link pinned at " + pin + " (BPF_LINK_DETACH)");
        }
    }

    public static void pin(Fd fd, Path path) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, OBJ_ATTR).set("pathname", arena.allocateFrom(path.toString())).set("bpf_fd", fd.value());
            call(OBJ_PIN, attr, "pin an eBPF object at " + path + " (BPF_OBJ_PIN)");
        }
    }

    /** The object pinned at {@code path}, or empty when nothing is. */
    public static Optional<Fd> get(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, OBJ_ATTR).set("pathname", arena.allocateFrom(path.toString()));
            return Optional.of(new Fd((int) call(OBJ_GET, attr, "open the pinned eBPF object " + path + " (BPF_OBJ_GET)")));
        } catch (NativeException e) {
            if (e.errno() == Errno.ENOENT) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** struct bpf_link_info for a cgroup link. */
    public record LinkInfo(int type, int id, int programId, long cgroupId, int attachType) {
    }

    public static LinkInfo linkInfo(Fd link) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(64, 8);
            infoByFd(arena, link, info, "read the pinned link (BPF_OBJ_GET_INFO_BY_FD)");
            return new LinkInfo(info.get(JAVA_INT, 0), info.get(JAVA_INT, 4), info.get(JAVA_INT, 8),
                    info.get(JAVA_LONG, 16), info.get(JAVA_INT, 24));
        }
    }

    /** The parts of struct bpf_prog_info iamlet checks. */
    public record ProgramInfo(int id, String tag, String name) {
    }

    public static ProgramInfo programInfo(int programId) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, ID_ATTR).set("prog_id", programId);
            try (Fd fd = new Fd((int) call(PROG_GET_FD_BY_ID, attr, "open eBPF program " + programId + " (BPF_PROG_GET_FD_BY_ID)"))) {
                MemorySegment info = arena.allocate(96, 8);
                infoByFd(arena, fd, info, "read eBPF program " + programId + " (BPF_OBJ_GET_INFO_BY_FD)");
                byte[] tag = info.asSlice(8, 8).toArray(JAVA_BYTE);
                return new ProgramInfo(info.get(JAVA_INT, 4), HexFormat.of().formatHex(tag), info.asSlice(64, 16).getString(0));
            }
        }
    }

    private static void infoByFd(Arena arena, Fd fd, MemorySegment info, String what) {
        Attr attr = Attr.of(arena, INFO_ATTR).set("bpf_fd", fd.value()).set("info_len", (int) info.byteSize()).set("info", info);
        call(OBJ_GET_INFO_BY_FD, attr, what);
    }

    /** How many programs are attached to the cgroup at {@code attachType}, whoever attached them. */
    public static int attachedCount(Fd cgroup, int attachType, Path cgroupPath) {
        try (Arena arena = Arena.ofConfined()) {
            Attr attr = Attr.of(arena, QUERY_ATTR).set("target_fd", cgroup.value()).set("attach_type", attachType);
            call(PROG_QUERY, attr, "list the programs of cgroup " + cgroupPath + " at attach type " + attachType + " (BPF_PROG_QUERY)");
            return attr.getInt("prog_cnt");
        }
    }
}
