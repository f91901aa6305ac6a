package io.iamlet.netlink.testing;

import io.iamlet.netlink.ffm.Libc;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs code inside another network namespace. setns(2) moves only the calling thread, so the code runs
 * on a fresh platform thread of its own (never a virtual thread, whose carrier is shared); sockets it
 * opens stay in that namespace for their whole life.
 */
public final class NetworkNamespace {
    private NetworkNamespace() {
    }

    /** The bind mount `ip netns add NAME` creates. */
    public static Path named(String name) {
        return Path.of("/var/run/netns", name);
    }

    public static <T> T call(Path namespace, Callable<T> body) throws Exception {
        FutureTask<T> task = new FutureTask<>(() -> {
            int fd = Libc.open(namespace.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            try {
                Libc.setns(fd, Libc.CLONE_NEWNET, "network namespace " + namespace);
            } finally {
                Libc.close(fd);
            }
            return body.call();
        });
        Thread thread = Thread.ofPlatform().name("netns-" + namespace.getFileName()).start(task);
        try {
            return task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        } finally {
            thread.join();
        }
    }

    public static void run(Path namespace, Runnable body) throws Exception {
        call(namespace, () -> {
            body.run();
            return null;
        });
    }
}
