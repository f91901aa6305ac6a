package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.testing.Netns;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.iptables.IptablesBackend;
import io.iamlet.redirect.nftables.NftablesBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Real packets: pods behind veth interfaces (cali…, docker0, lxc…) connect to the metadata address.
 * The node namespace holds both the "real" IMDS (169.254.169.254 / fd00:ec2::254 on its loopback)
 * and the agent's listener at the host IP; which one answers shows whether the redirect is in force.
 */
class RedirectTrafficKernelTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.30.0.1", "cali+,docker0", 8181, "fd30::1");
    private static final RedirectSpec WITH_CREDENTIALS = SPEC.withContainerCredentials(true);

    private Netns node;
    private Netns cali;
    private Netns docker;
    private Netns lxc;

    @BeforeEach
    void network() {
        node = Netns.create();
        cali = Netns.create();
        docker = Netns.create();
        lxc = Netns.create();
        // This kernel has no dummy driver; an address on lo is just as local.
        node.exec("ip", "addr", "add", "169.254.169.254/32", "dev", "lo").ok();
        node.exec("ip", "addr", "add", "fd00:ec2::254/128", "dev", "lo", "nodad").ok();
        pod(cali, "calitest0", "10.30.0.1", "10.30.0.2", "fd30::1", "fd30::2");
        pod(docker, "docker0", "10.31.0.1", "10.31.0.2", null, null);
        pod(lxc, "lxctest0", "10.32.0.1", "10.32.0.2", null, null);
    }

    private void pod(Netns pod, String nodeSide, String nodeIp, String podIp, String nodeIp6, String podIp6) {
        Netns.veth(node, nodeSide, pod, "eth0");
        node.exec("ip", "addr", "add", nodeIp + "/24", "dev", nodeSide).ok();
        pod.exec("ip", "addr", "add", podIp + "/24", "dev", "eth0").ok();
        pod.exec("ip", "route", "add", "default", "via", nodeIp).ok();
        if (nodeIp6 != null) {
            node.exec("ip", "addr", "add", nodeIp6 + "/64", "dev", nodeSide, "nodad").ok();
            pod.exec("ip", "addr", "add", podIp6 + "/64", "dev", "eth0", "nodad").ok();
            pod.exec("ip", "-6", "route", "add", "default", "via", nodeIp6).ok();
        }
    }

    @AfterEach
    void teardown() {
        for (Netns ns : new Netns[] {node, cali, docker, lxc}) {
            if (ns != null) {
                ns.close();
            }
        }
    }

    /** A listener in the node namespace that tells who connected. */
    private ServerSocket listen(String address, int port) throws Exception {
        return node.call(() -> {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.ofLiteral(address), port));
            server.setSoTimeout(5000);
            return server;
        });
    }

    private static String connectAndSay(Netns pod, String address, String word) throws Exception {
        return pod.call(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.ofLiteral(address), 80), 3000);
                OutputStream out = socket.getOutputStream();
                out.write(word.getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return socket.getLocalAddress().getHostAddress();
            }
        });
    }

    /** Accepts one connection and returns "remote-ip word". */
    private static String accept(ServerSocket server) throws IOException {
        try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
            return s.getInetAddress().getHostAddress() + " " + new String(in.readNBytes(4), StandardCharsets.US_ASCII);
        }
    }

    private static NetfilterRedirect backend(String name) {
        return name.equals("nftables") ? new NftablesBackend("test") : new IptablesBackend("test", false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nftables", "iptables"})
    void whileBlockedPodsAreResetAndNeverReachTheNodesMetadata(String backendName) throws Exception {
        NetfilterRedirect backend = backend(backendName);
        try (ServerSocket agent = listen("10.30.0.1", 8181); ServerSocket imds = listen("169.254.169.254", 80)) {
            node.run(() -> backend.installRules(SPEC));
            InstalledRules blocked = node.call(() -> backend.blockRules(SPEC));
            assertTrue(blocked.blocking(), blocked.describe());
            assertInstanceOf(RuleCheck.Unexpected.class, blocked.check(Optional.of(SPEC)));
            Exception refused = assertThrows(Exception.class, () -> connectAndSay(cali, "169.254.169.254", "blk1"));
            assertInstanceOf(ConnectException.class, refused, "a TCP reset, at once: " + refused);
            assertThrows(Exception.class, () -> connectAndSay(docker, "169.254.169.254", "blk2"));
            imds.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, imds::accept, "nothing reached the node's metadata service");
            connectAndSay(lxc, "169.254.169.254", "lxc1");
            imds.setSoTimeout(5000);
            assertEquals("10.32.0.2 lxc1", accept(imds), "interfaces not in the list are not blocked");

            node.run(() -> backend.installRules(SPEC));
            connectAndSay(cali, "169.254.169.254", "back");
            assertEquals("10.30.0.2 back", accept(agent), "the next install replaces the block with the redirect");
            assertFalse(node.call(backend::rules).blocking());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nftables", "iptables"})
    void podTrafficReachesTheAgentWithThePodsOwnAddressUntilRemoved(String backendName) throws Exception {
        NetfilterRedirect backend = backend(backendName);
        try (ServerSocket agent = listen("10.30.0.1", 8181);
             ServerSocket agent6 = listen("fd30::1", 8181);
             ServerSocket imds = listen("169.254.169.254", 80);
             ServerSocket imds6 = listen("fd00:ec2::254", 80)) {
            node.run(() -> backend.installRules(SPEC));

            connectAndSay(cali, "169.254.169.254", "cal4");
            assertEquals("10.30.0.2 cal4", accept(agent), "cali pod must reach the agent, seen with its own IP");
            connectAndSay(cali, "fd00:ec2::254", "cal6");
            assertEquals("fd30:0:0:0:0:0:0:2 cal6", accept(agent6), "IPv6 metadata traffic must reach the agent too");
            connectAndSay(docker, "169.254.169.254", "dock");
            assertEquals("10.31.0.2 dock", accept(agent), "exact interface docker0 is redirected");
            connectAndSay(lxc, "169.254.169.254", "lxc1");
            assertEquals("10.32.0.2 lxc1", accept(imds), "an interface not in the list is left alone");

            node.run(backend::remove);
            connectAndSay(cali, "169.254.169.254", "cal4");
            assertEquals("10.30.0.2 cal4", accept(imds), "after remove the node's metadata access is back");
            connectAndSay(cali, "fd00:ec2::254", "cal6");
            assertEquals("fd30:0:0:0:0:0:0:2 cal6", accept(imds6));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nftables", "iptables"})
    void containerCredentialsTrafficReachesTheAgentWithThePodsOwnAddressWhenAsked(String backendName) throws Exception {
        NetfilterRedirect backend = backend(backendName);
        node.exec("ip", "addr", "add", "169.254.170.23/32", "dev", "lo").ok();
        node.exec("ip", "addr", "add", "fd00:ec2::23/128", "dev", "lo", "nodad").ok();
        try (ServerSocket agent = listen("10.30.0.1", 8181);
             ServerSocket agent6 = listen("fd30::1", 8181);
             ServerSocket credentials = listen("169.254.170.23", 80);
             ServerSocket credentials6 = listen("fd00:ec2::23", 80)) {
            node.run(() -> {
                backend.installRules(WITH_CREDENTIALS);
                backend.installRules(WITH_CREDENTIALS);
            });
            InstalledRules shown = node.call(backend::rules);
            assertEquals(new RuleCheck.AsExpected(), shown.check(Optional.of(WITH_CREDENTIALS)), shown.describe());
            assertEquals(WITH_CREDENTIALS.rules(), shown.redirectRules(), "installing twice leaves one copy: " + shown.describe());

            connectAndSay(cali, "169.254.170.23", "pid4");
            assertEquals("10.30.0.2 pid4", accept(agent), "the container-credentials endpoint is redirected, pod IP kept");
            connectAndSay(cali, "fd00:ec2::23", "pid6");
            assertEquals("fd30:0:0:0:0:0:0:2 pid6", accept(agent6));
            connectAndSay(docker, "169.254.170.23", "dck4");
            assertEquals("10.31.0.2 dck4", accept(agent));
            connectAndSay(cali, "169.254.169.254", "imd4");
            assertEquals("10.30.0.2 imd4", accept(agent), "the metadata service is still redirected beside it");
            connectAndSay(lxc, "169.254.170.23", "lxc1");
            assertEquals("10.32.0.2 lxc1", accept(credentials), "an interface not in the list is left alone");

            assertTrue(node.call(() -> backend.blockRules(WITH_CREDENTIALS)).blocking());
            assertInstanceOf(ConnectException.class, assertThrows(Exception.class,
                    () -> connectAndSay(cali, "169.254.170.23", "blk1")), "the block resets it too");
            credentials.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, credentials::accept, "nothing reached the real endpoint");
            credentials.setSoTimeout(5000);

            node.run(() -> backend.installRules(SPEC));
            connectAndSay(cali, "169.254.170.23", "off4");
            assertEquals("10.30.0.2 off4", accept(credentials), "switched off, the endpoint is the node's own again");
            assertEquals(SPEC.rules(), node.call(backend::rules).redirectRules());

            node.run(() -> backend.installRules(WITH_CREDENTIALS));
            node.run(backend::remove);
            connectAndSay(cali, "169.254.170.23", "rem4");
            assertEquals("10.30.0.2 rem4", accept(credentials), "after remove the endpoint is reached directly");
            connectAndSay(cali, "fd00:ec2::23", "rem6");
            assertEquals("fd30:0:0:0:0:0:0:2 rem6", accept(credentials6));
            assertFalse(node.call(backend::rules).present(), "remove leaves nothing");
        }
    }
}
