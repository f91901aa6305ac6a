// Binding for <libnftnl/chain.h>, written by hand in the shape jextract emits (jextract cannot be downloaded on our
// build machines). netlink/jextract/regenerate.sh --check compares its functions with headers.txt and, where
// jextract is installed, with a real jextract run.
package io.iamlet.netlink.nftnl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static io.iamlet.netlink.nftnl.nftnl_lib.*;

@SuppressWarnings({"unused", "checkstyle:all"})
public final class chain_h {

    private chain_h() {
    }

    private static final class nftnl_chain_alloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_alloc");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_chain_alloc() {
        var mh$ = nftnl_chain_alloc.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_free");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_chain_free(MemorySegment c) {
        var mh$ = nftnl_chain_free.HANDLE;
        try {
            mh$.invokeExact(c);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_is_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_BOOL, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_is_set");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static boolean nftnl_chain_is_set(MemorySegment c, short attr) {
        var mh$ = nftnl_chain_is_set.HANDLE;
        try {
            return (boolean) mh$.invokeExact(c, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_set_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_set_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_chain_set_str(MemorySegment c, short attr, MemorySegment str) {
        var mh$ = nftnl_chain_set_str.HANDLE;
        try {
            return (int) mh$.invokeExact(c, attr, str);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_set_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_set_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_chain_set_u32(MemorySegment c, short attr, int data) {
        var mh$ = nftnl_chain_set_u32.HANDLE;
        try {
            mh$.invokeExact(c, attr, data);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_set_s32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_set_s32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_chain_set_s32(MemorySegment c, short attr, int data) {
        var mh$ = nftnl_chain_set_s32.HANDLE;
        try {
            mh$.invokeExact(c, attr, data);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_get_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_get_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_chain_get_str(MemorySegment c, short attr) {
        var mh$ = nftnl_chain_get_str.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(c, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_get_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_get_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_chain_get_u32(MemorySegment c, short attr) {
        var mh$ = nftnl_chain_get_u32.HANDLE;
        try {
            return (int) mh$.invokeExact(c, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_get_s32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_get_s32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_chain_get_s32(MemorySegment c, short attr) {
        var mh$ = nftnl_chain_get_s32.HANDLE;
        try {
            return (int) mh$.invokeExact(c, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_get_u64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG_LONG, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_get_u64");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static long nftnl_chain_get_u64(MemorySegment c, short attr) {
        var mh$ = nftnl_chain_get_u64.HANDLE;
        try {
            return (long) mh$.invokeExact(c, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_nlmsg_build_payload {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_nlmsg_build_payload");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_chain_nlmsg_build_payload(MemorySegment nlh, MemorySegment c) {
        var mh$ = nftnl_chain_nlmsg_build_payload.HANDLE;
        try {
            mh$.invokeExact(nlh, c);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_chain_nlmsg_parse {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_chain_nlmsg_parse");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_chain_nlmsg_parse(MemorySegment nlh, MemorySegment c) {
        var mh$ = nftnl_chain_nlmsg_parse.HANDLE;
        try {
            return (int) mh$.invokeExact(nlh, c);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
