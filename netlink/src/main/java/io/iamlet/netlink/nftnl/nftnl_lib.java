// Shared part of the libnftnl bindings (jextract puts this in the header class's "$shared" base).
package io.iamlet.netlink.nftnl;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;

@SuppressWarnings("unused")
public final class nftnl_lib {
    /** The Debian package libnftnl11 ships this soname; the -dev symlink is not needed at run time. */
    public static final String SONAME = "libnftnl.so.11";

    public static final ValueLayout.OfBoolean C_BOOL = ValueLayout.JAVA_BOOLEAN;
    public static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort C_SHORT = ValueLayout.JAVA_SHORT;
    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS
            .withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    // The library stays loaded for the life of the JVM: downcall handles point into it.
    static final SymbolLookup SYMBOL_LOOKUP = load();

    private nftnl_lib() {
    }

    private static SymbolLookup load() {
        try {
            return SymbolLookup.libraryLookup(SONAME, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UnsatisfiedLinkError("cannot load " + SONAME
                    + ": install the libnftnl11 package (Debian/Ubuntu: apt-get install libnftnl11)");
        }
    }

    static MemorySegment findOrThrow(String symbol) {
        return SYMBOL_LOOKUP.find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError(SONAME + " has no symbol " + symbol
                        + ": libnftnl 1.2 or newer is required"));
    }
}
