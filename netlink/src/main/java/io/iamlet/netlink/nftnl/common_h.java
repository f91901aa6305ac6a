// Binding for <libnftnl/common.h>, written by hand in the shape jextract emits (jextract cannot be downloaded on our
// build machines). netlink/jextract/regenerate.sh --check compares its functions with headers.txt and, where
// jextract is installed, with a real jextract run.
package io.iamlet.netlink.nftnl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static io.iamlet.netlink.nftnl.nftnl_lib.*;

@SuppressWarnings({"unused", "checkstyle:all"})
public final class common_h {

    private common_h() {
    }

    private static final class nftnl_nlmsg_build_hdr {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_SHORT, C_SHORT, C_SHORT, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_nlmsg_build_hdr");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_nlmsg_build_hdr(MemorySegment buf, short type, short family, short flags, int seq) {
        var mh$ = nftnl_nlmsg_build_hdr.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(buf, type, family, flags, seq);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_batch_begin {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_batch_begin");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_batch_begin(MemorySegment buf, int seq) {
        var mh$ = nftnl_batch_begin.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(buf, seq);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class nftnl_batch_end {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("nftnl_batch_end");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    public static MemorySegment nftnl_batch_end(MemorySegment buf, int seq) {
        var mh$ = nftnl_batch_end.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(buf, seq);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }
}
