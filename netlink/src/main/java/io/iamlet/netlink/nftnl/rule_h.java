// Binding for <libnftnl/rule.h>, written by hand in the shape jextract emits (jextract cannot be downloaded on our
// build machines). netlink/jextract/regenerate.sh --check compares its functions with headers.txt and, where
// jextract is installed, with a real jextract run.
package io.iamlet.netlink.nftnl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static io.iamlet.netlink.nftnl.nftnl_lib.*;

@SuppressWarnings({"unused", "checkstyle:all"})
public final class rule_h {

    private rule_h() {
    }

    private static final class nftnl_rule_alloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_alloc");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_rule_alloc() {
        var mh$ = nftnl_rule_alloc.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_free");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_rule_free(MemorySegment r) {
        var mh$ = nftnl_rule_free.HANDLE;
        try {
            mh$.invokeExact(r);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_is_set {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_BOOL, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_is_set");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static boolean nftnl_rule_is_set(MemorySegment r, short attr) {
        var mh$ = nftnl_rule_is_set.HANDLE;
        try {
            return (boolean) mh$.invokeExact(r, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_set_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_set_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_rule_set_str(MemorySegment r, short attr, MemorySegment str) {
        var mh$ = nftnl_rule_set_str.HANDLE;
        try {
            return (int) mh$.invokeExact(r, attr, str);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_set_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_set_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_rule_set_u32(MemorySegment r, short attr, int val) {
        var mh$ = nftnl_rule_set_u32.HANDLE;
        try {
            mh$.invokeExact(r, attr, val);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_set_u64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_SHORT, C_LONG_LONG);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_set_u64");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_rule_set_u64(MemorySegment r, short attr, long val) {
        var mh$ = nftnl_rule_set_u64.HANDLE;
        try {
            mh$.invokeExact(r, attr, val);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_set_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_set_data");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_rule_set_data(MemorySegment r, short attr, MemorySegment data, int data_len) {
        var mh$ = nftnl_rule_set_data.HANDLE;
        try {
            return (int) mh$.invokeExact(r, attr, data, data_len);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_get_str {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_get_str");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_rule_get_str(MemorySegment r, short attr) {
        var mh$ = nftnl_rule_get_str.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(r, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_get_u32 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_get_u32");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_rule_get_u32(MemorySegment r, short attr) {
        var mh$ = nftnl_rule_get_u32.HANDLE;
        try {
            return (int) mh$.invokeExact(r, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_get_u64 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG_LONG, C_POINTER, C_SHORT);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_get_u64");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static long nftnl_rule_get_u64(MemorySegment r, short attr) {
        var mh$ = nftnl_rule_get_u64.HANDLE;
        try {
            return (long) mh$.invokeExact(r, attr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_get_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_get_data");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_rule_get_data(MemorySegment r, short attr, MemorySegment data_len) {
        var mh$ = nftnl_rule_get_data.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(r, attr, data_len);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_add_expr {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_add_expr");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_rule_add_expr(MemorySegment r, MemorySegment expr) {
        var mh$ = nftnl_rule_add_expr.HANDLE;
        try {
            mh$.invokeExact(r, expr);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_nlmsg_build_payload {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_nlmsg_build_payload");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_rule_nlmsg_build_payload(MemorySegment nlh, MemorySegment r) {
        var mh$ = nftnl_rule_nlmsg_build_payload.HANDLE;
        try {
            mh$.invokeExact(nlh, r);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_rule_nlmsg_parse {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_rule_nlmsg_parse");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_rule_nlmsg_parse(MemorySegment nlh, MemorySegment r) {
        var mh$ = nftnl_rule_nlmsg_parse.HANDLE;
        try {
            return (int) mh$.invokeExact(nlh, r);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_iter_create {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_iter_create");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_expr_iter_create(MemorySegment r) {
        var mh$ = nftnl_expr_iter_create.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(r);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_iter_next {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_iter_next");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_expr_iter_next(MemorySegment iter) {
        var mh$ = nftnl_expr_iter_next.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(iter);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_expr_iter_destroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_expr_iter_destroy");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_expr_iter_destroy(MemorySegment iter) {
        var mh$ = nftnl_expr_iter_destroy.HANDLE;
        try {
            mh$.invokeExact(iter);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
