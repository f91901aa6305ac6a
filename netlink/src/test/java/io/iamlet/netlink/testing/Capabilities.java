package io.iamlet.netlink.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Drops every capability of the calling thread only (Linux credentials are per thread), for permission tests. */
public final class Capabilities {
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    private Capabilities() {
    }

    public static void dropAllForThisThread() {
        Linker linker = Linker.nativeLinker();
        MethodHandle capset = linker.downcallHandle(linker.defaultLookup().find("capset").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(8);
            header.set(JAVA_INT, 0, LINUX_CAPABILITY_VERSION_3);
            header.set(JAVA_INT, 4, 0);
            MemorySegment data = arena.allocate(24); // two __user_cap_data_struct, all zero
            int rc = (int) capset.invokeExact(header, data);
            if (rc != 0) {
                throw new AssertionError("capset failed");
            }
        } catch (Throwable t) {
            throw new AssertionError("cannot drop capabilities", t);
        }
    }
}
