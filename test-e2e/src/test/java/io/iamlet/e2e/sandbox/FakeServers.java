package io.iamlet.e2e.sandbox;

import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeSts;

import java.net.InetAddress;

/**
 * The sandbox's fake IMDS or fake STS as a program of its own, for clusters made elsewhere (test-e2e/kind):
 * {@code FakeServers imds|sts ADDRESS PORT}. Runs until killed.
 */
public final class FakeServers {
    private FakeServers() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !(args[0].equals("imds") || args[0].equals("sts"))) {
            System.err.println("usage: FakeServers imds|sts ADDRESS PORT");
            System.exit(64);
        }
        InetAddress address = InetAddress.ofLiteral(args[1]);
        int port = Integer.parseInt(args[2]);
        AutoCloseable server = args[0].equals("imds")
                ? FakeImds.start(address, port, Sandbox.ACCOUNT, Sandbox.NODE_ROLE)
                : knowingTheNode(FakeSts.start(address, port));
        System.out.println("fake " + args[0] + " listening on " + args[1] + ":" + port);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            try {
                server.close();
            } catch (Exception ignored) {
                // exiting anyway
            }
        }));
        Thread.sleep(Long.MAX_VALUE);
    }

    private static FakeSts knowingTheNode(FakeSts sts) {
        sts.knownCaller(FakeImds.NODE_ACCESS_KEY, Sandbox.ACCOUNT, Sandbox.NODE_ROLE, "i-0123456789abcdef0");
        return sts;
    }
}
