package io.iamlet.bpf;

import io.iamlet.netlink.ffm.Libc;

import java.nio.file.Path;

/** A file descriptor the holder owns and closes: a bpf program, map or link, or an open cgroup directory. */
public record Fd(int value) implements AutoCloseable {
    public static Fd open(Path path) {
        return new Fd(Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC));
    }

    @Override
    public void close() {
        Libc.close(value);
    }
}
