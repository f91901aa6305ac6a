// Binding for <libnftnl/table.h>, written by hand in the shape jextract emits (jextract cannot be downloaded on our
// build machines). netlink/jextract/regenerate.sh --check compares its functions with headers.txt and, where
// jextract is installed, with a real jextract run.
package io.iamlet.netlink.nftnl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static io.iamlet.netlink.nftnl.nftnl_lib.*;

@SuppressWarnings({"unused", "checkstyle:all"})
public final class table_h {

    private table_h() {
    }

    private static final class nftnl_table_alloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_alloc");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_table_alloc() {
        var mh$ = nftnl_table_alloc.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_free");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_table_free(MemorySegment t) {
        var mh$ = nftnl_table_free.HANDLE;
        try {
            mh$.invokeExact(t);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_is_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_BOOL, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_is_set");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static boolean nftnl_table_is_set(MemorySegment t, short attr) {
        var mh$ = nftnl_table_is_set.HANDLE;
        try {
            return (boolean) mh$.invokeExact(t, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_set_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_set_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_table_set_str(MemorySegment t, short attr, MemorySegment str) {
        var mh$ = nftnl_table_set_str.HANDLE;
        try {
            return (int) mh$.invokeExact(t, attr, str);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_set_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_set_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_table_set_u32(MemorySegment t, short attr, int data) {
        var mh$ = nftnl_table_set_u32.HANDLE;
        try {
            mh$.invokeExact(t, attr, data);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_set_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_set_data");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_table_set_data(MemorySegment t, short attr, MemorySegment data, int data_len) {
        var mh$ = nftnl_table_set_data.HANDLE;
        try {
            return (int) mh$.invokeExact(t, attr, data, data_len);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_get_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_get_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_table_get_str(MemorySegment t, short attr) {
        var mh$ = nftnl_table_get_str.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(t, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_get_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_get_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_table_get_u32(MemorySegment t, short attr) {
        var mh$ = nftnl_table_get_u32.HANDLE;
        try {
            return (int) mh$.invokeExact(t, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_get_u64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG_LONG, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_get_u64");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static long nftnl_table_get_u64(MemorySegment t, short attr) {
        var mh$ = nftnl_table_get_u64.HANDLE;
        try {
            return (long) mh$.invokeExact(t, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_get_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_get_data");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_table_get_data(MemorySegment t, short attr, MemorySegment data_len) {
        var mh$ = nftnl_table_get_data.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(t, attr, data_len);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_nlmsg_build_payload {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_nlmsg_build_payload");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_table_nlmsg_build_payload(MemorySegment nlh, MemorySegment t) {
        var mh$ = nftnl_table_nlmsg_build_payload.HANDLE;
        try {
            mh$.invokeExact(nlh, t);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_table_nlmsg_parse {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_table_nlmsg_parse");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_table_nlmsg_parse(MemorySegment nlh, MemorySegment t) {
        var mh$ = nftnl_table_nlmsg_parse.HANDLE;
        try {
            return (int) mh$.invokeExact(nlh, t);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
