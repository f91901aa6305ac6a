package io.iamlet.netlink.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Makes a loopback server of the test JVM (in the root namespace) reachable on loopback inside a test
 * namespace: a listener bound in that namespace (on its loopback unless told otherwise) forwards each
 * connection to the target port on the root namespace's loopback.
 */
public final class Relay implements AutoCloseable {
    private final ServerSocket listener;

    private Relay(ServerSocket listener) {
        this.listener = listener;
    }

    public static Relay into(Netns ns, int targetPort) throws Exception {
        return into(ns, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), targetPort);
    }

    /** Listens on the given address inside the namespace (an address of one of its interfaces). */
    public static Relay into(Netns ns, InetSocketAddress listen, int targetPort) throws Exception {
        ServerSocket listener = ns.call(() -> new ServerSocket(listen.getPort(), 50, listen.getAddress()));
        Relay relay = new Relay(listener);
        // Started from the test's own thread: connections to the target are opened in the root namespace.
        Thread.ofPlatform().daemon().name("relay-" + listener.getLocalPort()).start(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket inside = listener.accept();
                    Socket outside = new Socket();
                    outside.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
                    Thread.ofVirtual().start(() -> pump(inside, outside));
                    Thread.ofVirtual().start(() -> pump(outside, inside));
                } catch (IOException e) {
                    if (listener.isClosed()) {
                        return;
                    }
                }
            }
        });
        return relay;
    }

    private static void pump(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException ignored) {
            // one side closed; the other pump ends too
        } finally {
            try {
                to.close();
                from.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
