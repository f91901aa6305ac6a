package io.iamlet.netlink.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The few libc calls iamlet needs, as FFM downcalls. Every call that can fail captures errno
 * in the same native call (a later Java call could overwrite it) and raises {@link NativeException}
 * naming what was attempted.
 */
public final class Libc {
    public static final int AF_NETLINK = 16;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int NETLINK_NETFILTER = 12;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    public static final int SO_RCVTIMEO = 20;
    public static final int SOL_NETLINK = 270;
    public static final int NETLINK_CAP_ACK = 10;
    public static final int NETLINK_EXT_ACK = 11;
    public static final int O_RDONLY = 0;
    public static final int O_CLOEXEC = 0x80000;
    public static final int CLONE_NEWNET = 0x40000000;

    /** struct sockaddr_nl: family, pad, pid, groups. */
    public static final StructLayout SOCKADDR_NL = MemoryLayout.structLayout(
            JAVA_SHORT.withName("nl_family"),
            JAVA_SHORT.withName("nl_pad"),
            JAVA_INT.withName("nl_pid"),
            JAVA_INT.withName("nl_groups"));

    /** struct timeval on x86_64/aarch64 Linux. */
    public static final StructLayout TIMEVAL = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"),
            JAVA_LONG.withName("tv_usec"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle SOCKET = errnoCall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = errnoCall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SEND = errnoCall("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = errnoCall("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = errnoCall("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = errnoCall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // syscall(2) is variadic after the number; bpf(2) has no libc wrapper, so it goes through this.
    private static final MethodHandle SYSCALL3 = LINKER.downcallHandle(find("syscall"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SETNS = errnoCall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // open(2) is variadic; the mode argument is never passed because we never create files.
    private static final MethodHandle OPEN = LINKER.downcallHandle(find("open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MALLOC = LINKER.downcallHandle(find("malloc"), FunctionDescriptor.of(ADDRESS, JAVA_LONG));
    private static final MethodHandle STRERROR_R = LINKER.downcallHandle(find("strerror_r"),
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));

    private Libc() {
    }

    private static MemorySegment find(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(find(name), descriptor, CAPTURE_ERRNO);
    }

    /** The outcome of one call: its return value and, when that signals failure, the errno it set. */
    private record Outcome(long value, int errno) {
        boolean failed() {
            return value < 0;
        }
    }

    private static Outcome call(MethodHandle handle, Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(CAPTURE_LAYOUT);
            Object[] all = new Object[args.length + 1];
            all[0] = slot;
            System.arraycopy(args, 0, all, 1, args.length);
            long value = ((Number) handle.invokeWithArguments(all)).longValue();
            return new Outcome(value, value < 0 ? (int) ERRNO.get(slot, 0L) : 0);
        } catch (Throwable t) {
            throw new AssertionError("downcall " + handle.type() + " could not be invoked", t);
        }
    }

    private static long checked(String what, MethodHandle handle, Object... args) {
        Outcome outcome = call(handle, args);
        if (outcome.failed()) {
            throw new NativeException(what, outcome.errno());
        }
        return outcome.value();
    }

    public static int socket(int domain, int type, int protocol) {
        return (int) checked("socket(domain " + domain + ", type " + type + ", protocol " + protocol + ")",
                SOCKET, domain, type, protocol);
    }

    public static void bindNetlink(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SOCKADDR_NL);
            addr.set(JAVA_SHORT, 0, (short) AF_NETLINK);
            // nl_pid 0: the kernel assigns a unique port id, so several sockets per process are fine.
            checked("bind netlink socket " + fd, BIND, fd, addr, (int) SOCKADDR_NL.byteSize());
        }
    }

    public static long send(int fd, MemorySegment buffer, long length, String what) {
        return checked("send " + what, SEND, fd, buffer, length, 0);
    }

    /** Returns the byte count, or -errno for EAGAIN (receive timeout) and EINTR so the caller can decide. */
    public static long recv(int fd, MemorySegment buffer, String what) {
        Outcome outcome = call(RECV, fd, buffer, buffer.byteSize(), 0);
        if (!outcome.failed()) {
            return outcome.value();
        }
        if (outcome.errno() == Errno.EAGAIN || outcome.errno() == Errno.EINTR) {
            return -outcome.errno();
        }
        throw new NativeException("recv " + what, outcome.errno());
    }

    public static void setsockopt(int fd, int level, int option, MemorySegment value, String what) {
        checked("setsockopt " + what, SETSOCKOPT, fd, level, option, value, (int) value.byteSize());
    }

    public static void setsockoptInt(int fd, int level, int option, int value, String what) {
        try (Arena arena = Arena.ofConfined()) {
            setsockopt(fd, level, option, arena.allocateFrom(JAVA_INT, value), what);
        }
    }

    /** An 8-byte socket option, such as SO_NETNS_COOKIE. */
    public static long getsockoptLong(int fd, int level, int option, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_LONG);
            MemorySegment length = arena.allocateFrom(JAVA_INT, (int) JAVA_LONG.byteSize());
            checked("getsockopt " + what, GETSOCKOPT, fd, level, option, value, length);
            return value.get(JAVA_LONG, 0);
        }
    }

    /**
     * A raw system call with the (int, pointer, int) arguments bpf(2) takes. Returns the result, or throws
     * {@link NativeException} naming {@code what}; callers that want to add the kernel's words catch it.
     */
    public static long syscall(long number, int command, MemorySegment argument, int size, String what) {
        return checked(what, SYSCALL3, number, command, argument, size);
    }

    public static void close(int fd) {
        Outcome outcome = call(CLOSE, fd);
        // After EINTR the descriptor is already released on Linux; retrying could close someone else's.
        if (outcome.failed() && outcome.errno() != Errno.EINTR) {
            throw new NativeException("close fd " + fd, outcome.errno());
        }
    }

    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) checked("open " + path, OPEN, arena.allocateFrom(path), flags);
        }
    }

    /** Moves the calling thread (only it) into the namespace behind {@code fd}. */
    public static void setns(int fd, int nstype, String what) {
        checked("setns into " + what, SETNS, fd, nstype);
    }

    /**
     * Memory from the C heap, for the rare library call that takes ownership of a buffer and frees it
     * itself (libnftnl's compat target/match info). Anything else uses an Arena.
     */
    public static MemorySegment malloc(long size) {
        try {
            MemorySegment p = (MemorySegment) MALLOC.invokeExact(Math.max(1L, size));
            if (p.equals(MemorySegment.NULL)) {
                throw new OutOfMemoryError("malloc(" + size + ") returned NULL");
            }
            return p.reinterpret(size);
        } catch (Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall malloc could not be invoked", t);
        }
    }

    /** The C library's own text for an errno value (GNU strerror_r, which is thread-safe). */
    public static String strerror(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            MemorySegment text = (MemorySegment) STRERROR_R.invokeExact(errno, buf, 256L);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
