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
 * The owners maps the sock_ops program fills, read by the agent: which cgroup opened the connection whose
 * pod-side end is (address, port). IPv4 ends (AF_INET sockets, and AF_INET6 ones with IPv4-mapped addresses,
 * which Java shows as IPv4) are in the first map; native IPv6 ends in the second, pinned only when the
 * redirect takes IPv6. Safe for concurrent use: each lookup is one bpf(2) call on a map's fd.
 */
public final class ConnectionOwners implements AutoCloseable {
    /** The IPv4 map's pin, in the eBPF backend's pin directory. */
    static final String PIN = "owners";
    /** The IPv6 map's pin. */
    static final String PIN6 = "owners6";
    /** Connections to the agent open at once that each map can attribute; older entries are evicted (LRU). */
    static final int CAPACITY = 65536;
    static final int KEY_SIZE = 8;
    /** 16 address bytes, then the port. */
    static final int KEY6_SIZE = 20;
    static final int VALUE_SIZE = 8;

    private final Fd map;
    private final Optional<Fd> map6;

    private ConnectionOwners(Fd map, Optional<Fd> map6) {
        this.map = map;
        this.map6 = map6;
    }

    /** The maps pinned in {@code pinDir}, or empty when the eBPF backend has not pinned the IPv4 one there. */
    public static Optional<ConnectionOwners> open(Path pinDir) {
        Path pin = pinDir.resolve(PIN);
        if (!Files.exists(pin)) {
            return Optional.empty();
        }
        Optional<Fd> map = Bpf.get(pin);
        if (map.isEmpty()) {
            return Optional.empty();
        }
        Path pin6 = pinDir.resolve(PIN6);
        try {
            return Optional.of(new ConnectionOwners(map.get(), Files.exists(pin6) ? Bpf.get(pin6) : Optional.empty()));
        } catch (RuntimeException e) {
            map.get().close();
            throw e;
        }
    }

    /** Whether native IPv6 connections are recorded (the redirect takes IPv6). */
    public boolean ipv6() {
        return map6.isPresent();
    }

    /** The cgroup id of the process that connected from {@code address}:{@code port}, if the kernel recorded one. */
    public OptionalLong cgroupOf(InetAddress address, int port) {
        Optional<Fd> in = address instanceof Inet4Address ? Optional.of(map) : map6;
        if (in.isEmpty()) {
            return OptionalLong.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = key(arena, address, port);
            return Bpf.mapLookup(in.get(), key, arena, VALUE_SIZE).map(v -> OptionalLong.of(v.get(JAVA_LONG, 0))).orElse(OptionalLong.empty());
        }
    }

    /** How many connections the maps hold now (a walk of their keys; for checks and metrics, not per request). */
    public int size() {
        return size(map, KEY_SIZE) + map6.map(m -> size(m, KEY6_SIZE)).orElse(0);
    }

    private static int size(Fd map, int keySize) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(keySize, 8);
            MemorySegment b = arena.allocate(keySize, 8);
            int n = 0;
            MemorySegment previous = null;
            MemorySegment next = a;
            while (Bpf.mapNextKey(map, previous, next)) {
                n++;
                previous = next;
                next = next == a ? b : a;
                if (n > CAPACITY * 2) {
                    throw new IllegalStateException("an owners map lists more keys than it can hold");
                }
            }
            return n;
        }
    }

    /** Writes an entry as the kernel would: for tests of the agent's side without a connecting process. */
    public void record(InetAddress address, int port, long cgroupId) {
        Fd in = address instanceof Inet4Address ? map : map6.orElseThrow(() -> new IllegalStateException(
                "record an IPv6 connection's owner: no IPv6 owners map is pinned (the redirect was installed without an IPv6 address)"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(VALUE_SIZE, 8);
            value.set(JAVA_LONG, 0, cgroupId);
            Bpf.mapUpdate(in, key(arena, address, port), value);
        }
    }

    /** The address as the socket holds it (network order), then the local port in host order, as the program writes them. */
    private static MemorySegment key(Arena arena, InetAddress address, int port) {
        byte[] bytes = address.getAddress();
        MemorySegment key = arena.allocate(bytes.length + 4, 8);
        MemorySegment.copy(bytes, 0, key, JAVA_BYTE, 0, bytes.length);
        key.set(JAVA_INT, bytes.length, port);
        return key;
    }

    @Override
    public void close() {
        map.close();
        map6.ifPresent(Fd::close);
    }
}
