package io.iamlet.netlink.nft.expr;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HexFormat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** An immutable byte string with value equality, for register data and userdata. */
public record Bytes(byte[] value) {
    public static final Bytes EMPTY = new Bytes(new byte[0]);

    public Bytes {
        value = value.clone();
    }

    public static Bytes of(int... unsignedBytes) {
        byte[] b = new byte[unsignedBytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) unsignedBytes[i];
        }
        return new Bytes(b);
    }

    /** A copy of {@code length} bytes at {@code pointer} (native memory someone else owns); empty for NULL. */
    public static Bytes copyOf(MemorySegment pointer, int length) {
        if (pointer.equals(MemorySegment.NULL)) {
            return EMPTY;
        }
        return new Bytes(pointer.reinterpret(Integer.toUnsignedLong(length)).toArray(JAVA_BYTE));
    }

    /** A 16-bit value in network byte order, as ports travel in packets. */
    public static Bytes port(int port) {
        return of(port >>> 8, port & 0xff);
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    public int length() {
        return value.length;
    }

    public int unsignedAt(int index) {
        return Byte.toUnsignedInt(value[index]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes other && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "0x" + HexFormat.of().formatHex(value);
    }
}
