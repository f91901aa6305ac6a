// Binding for <libnftnl/udata.h>, written by hand in the shape jextract emits (jextract cannot be downloaded on our
// build machines). netlink/jextract/regenerate.sh --check compares its functions with headers.txt and, where
// jextract is installed, with a real jextract run.
package io.iamlet.netlink.nftnl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static io.iamlet.netlink.nftnl.nftnl_lib.*;

@SuppressWarnings({"unused", "checkstyle:all"})
public final class udata_h {

    private udata_h() {
    }

    private static final class nftnl_udata_buf_alloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_udata_buf_alloc");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_udata_buf_alloc(int data_size) {
        var mh$ = nftnl_udata_buf_alloc.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(data_size);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_udata_buf_free {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_udata_buf_free");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static void nftnl_udata_buf_free(MemorySegment buf) {
        var mh$ = nftnl_udata_buf_free.HANDLE;
        try {
            mh$.invokeExact(buf);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_udata_buf_len {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_udata_buf_len");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static int nftnl_udata_buf_len(MemorySegment buf) {
        var mh$ = nftnl_udata_buf_len.HANDLE;
        try {
            return (int) mh$.invokeExact(buf);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_udata_buf_data {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_udata_buf_data");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_udata_buf_data(MemorySegment buf) {
        var mh$ = nftnl_udata_buf_data.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(buf);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_udata_put_strz {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_BOOL, C_POINTER, C_CHAR, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("nftnl_udata_put_strz");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static boolean nftnl_udata_put_strz(MemorySegment buf, byte type, MemorySegment strz) {
        var mh$ = nftnl_udata_put_strz.HANDLE;
        try {
            return (boolean) mh$.invokeExact(buf, type, strz);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
