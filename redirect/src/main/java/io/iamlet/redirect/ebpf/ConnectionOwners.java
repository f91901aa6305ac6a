package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Asm;
import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Fd;
import io.iamlet.bpf.Insn;
import io.iamlet.bpf.ProgramSpec;
import io.iamlet.bpf.Reg;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The owners map the sock_ops program fills, read by the agent: which cgroup opened the connection whose
 * pod-side end is (address, port). Safe for concurrent use: each lookup is one bpf(2) call on the map's fd.
 */
public final class ConnectionOwners implements AutoCloseable {
    /** The map's pin, in the eBPF backend's pin directory. */
    static final String PIN = "owners";
    /** Connections to the agent open at once that the map can attribute; older entries are evicted (LRU). */
    static final int CAPACITY = 65536;
    static final int KEY_SIZE = 8;
    static final int VALUE_SIZE = 8;

    private final Fd map;

    private ConnectionOwners(Fd map) {
        this.map = map;
    }

    /** The map pinned in {@code pinDir}, or empty when the eBPF backend has not pinned one there. */
    public static Optional<ConnectionOwners> open(Path pinDir) {
        Path pin = pinDir.resolve(PIN);
        if (!Files.exists(pin)) {
            return Optional.empty();
        }
        return Bpf.get(pin).map(ConnectionOwners::new);
    }

    /** The cgroup id of the process that connected from {@code address}:{@code port}, if the kernel recorded one. */
    public OptionalLong cgroupOf(InetAddress address, int port) {
        if (!(address instanceof Inet4Address v4)) {
            return OptionalLong.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = key(arena, v4, port);
            return Bpf.mapLookup(map, key, arena, VALUE_SIZE).map(v -> OptionalLong.of(v.get(JAVA_LONG, 0))).orElse(OptionalLong.empty());
        }
    }

    /** How many connections the map holds now (a walk of its keys; for checks and metrics, not per request). */
    public int size() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(KEY_SIZE, 8);
            MemorySegment b = arena.allocate(KEY_SIZE, 8);
            int n = 0;
            MemorySegment previous = null;
            MemorySegment next = a;
            while (Bpf.mapNextKey(map, previous, next)) {
                n++;
                previous = next;
                next = next == a ? b : a;
                if (n > CAPACITY * 2) {
                    throw new IllegalStateException("the owners map lists more keys than it can hold");
                }
            }
            return n;
        }
    }

    /** Writes an entry as the kernel would: for tests of the agent's side without a connecting process. */
    public void record(InetAddress address, int port, long cgroupId) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(VALUE_SIZE, 8);
            value.set(JAVA_LONG, 0, cgroupId);
            Bpf.mapUpdate(map, key(arena, (Inet4Address) address, port), value);
        }
    }

    /** local_ip4 as the socket holds it (network order), then local_port in host order, as the program writes them. */
    private static MemorySegment key(Arena arena, Inet4Address address, int port) {
        MemorySegment key = arena.allocate(KEY_SIZE, 8);
        MemorySegment.copy(address.getAddress(), 0, key, JAVA_BYTE, 0, 4);
        key.set(JAVA_INT, 4, port);
        return key;
    }

    @Override
    public void close() {
        map.close();
    }
}
