// Binding for <libnftnl/expr.h>, written by hand in the shape jextract emits (jextract cannot be downloaded on our
// build machines). netlink/jextract/regenerate.sh --check compares its functions with headers.txt and, where
// jextract is installed, with a real jextract run.
package io.iamlet.netlink.nftnl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static io.iamlet.netlink.nftnl.nftnl_lib.*;

@SuppressWarnings({"unused", "checkstyle:all"})
public final class expr_h {

    private expr_h() {
    }

    private static final class nftnl_expr_alloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_alloc");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_expr_alloc(MemorySegment name) {
        var mh$ = nftnl_expr_alloc.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(name);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_free");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_expr_free(MemorySegment expr) {
        var mh$ = nftnl_expr_free.HANDLE;
        try {
            mh$.invokeExact(expr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_is_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_BOOL, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_is_set");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static boolean nftnl_expr_is_set(MemorySegment expr, short type) {
        var mh$ = nftnl_expr_is_set.HANDLE;
        try {
            return (boolean) mh$.invokeExact(expr, type);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_set");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_expr_set(MemorySegment expr, short type, MemorySegment data, int data_len) {
        var mh$ = nftnl_expr_set.HANDLE;
        try {
            return (int) mh$.invokeExact(expr, type, data, data_len);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_set_u8 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_CHAR);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_set_u8");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_expr_set_u8(MemorySegment expr, short type, byte data) {
        var mh$ = nftnl_expr_set_u8.HANDLE;
        try {
            mh$.invokeExact(expr, type, data);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_set_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_set_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_expr_set_u32(MemorySegment expr, short type, int data) {
        var mh$ = nftnl_expr_set_u32.HANDLE;
        try {
            mh$.invokeExact(expr, type, data);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_set_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_set_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_expr_set_str(MemorySegment expr, short type, MemorySegment str) {
        var mh$ = nftnl_expr_set_str.HANDLE;
        try {
            return (int) mh$.invokeExact(expr, type, str);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_get {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_get");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_expr_get(MemorySegment expr, short type, MemorySegment data_len) {
        var mh$ = nftnl_expr_get.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(expr, type, data_len);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_get_u8 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_CHAR, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_get_u8");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static byte nftnl_expr_get_u8(MemorySegment expr, short type) {
        var mh$ = nftnl_expr_get_u8.HANDLE;
        try {
            return (byte) mh$.invokeExact(expr, type);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_get_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_get_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_expr_get_u32(MemorySegment expr, short type) {
        var mh$ = nftnl_expr_get_u32.HANDLE;
        try {
            return (int) mh$.invokeExact(expr, type);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_get_u64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG_LONG, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_get_u64");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static long nftnl_expr_get_u64(MemorySegment expr, short type) {
        var mh$ = nftnl_expr_get_u64.HANDLE;
        try {
            return (long) mh$.invokeExact(expr, type);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_get_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_get_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_expr_get_str(MemorySegment expr, short type) {
        var mh$ = nftnl_expr_get_str.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(expr, type);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
