package io.iamlet.redirect.ebpf;

import io.iamlet.netlink.testing.Command;
import io.iamlet.netlink.testing.Netns;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The connect program in the kernel: a node namespace with the "agent" at its host IP and a "real IMDS" at
 * 169.254.169.254 on its loopback, a pod namespace behind a cali veth, a cgroup standing for the pods'
 * cgroup, and a BPF filesystem of the test's own. Clients are curl processes placed in the cgroup (or not)
 * before they enter a namespace.
 */
class CgroupRedirectTest {
    private static final String HOST_IP = "10.81.0.1";
    private static final String POD_IP = "10.81.0.2";
    /** How curl reaches 169.254.169.254 through an AF_INET6 socket, as a JVM does. */
    private static final String MAPPED_IMDS = "[::ffff:169.254.169.254]";

    private Netns node;
    private Netns pod;
    private Path bpffs;
    private Path cgroup;
    private CgroupRedirect redirect;
    private final List<ServerSocket> servers = new ArrayList<>();
    private final List<Thread> acceptors = new ArrayList<>();

    @BeforeEach
    void world() throws Exception {
        node = Netns.create("node");
        pod = Netns.create("pod");
        Netns.veth(node, "calibpf0", pod, "eth0");
        node.exec("ip", "addr", "add", HOST_IP + "/24", "dev", "calibpf0").ok();
        node.exec("ip", "addr", "add", "169.254.169.254/32", "dev", "lo").ok();
        pod.exec("ip", "addr", "add", POD_IP + "/24", "dev", "eth0").ok();
        pod.exec("ip", "route", "add", "default", "via", HOST_IP).ok();
        serve(HOST_IP, 8181, "agent");
        serve(HOST_IP, 9999, "other-agent");
        serve("169.254.169.254", 80, "real-imds");
        node.exec("ip", "addr", "add", "169.254.170.23/32", "dev", "lo").ok();
        serve("169.254.170.23", 80, "real-credentials");

        bpffs = Files.createTempDirectory("iamlet-bpffs");
        Command.run("mount", "-t", "bpf", "bpf", bpffs.toString()).ok();
        cgroup = cgroup2Root().resolve("iamlet-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Files.createDirectory(cgroup);
        redirect = new CgroupRedirect(bpffs.resolve("iamlet"));
    }

    @AfterEach
    void teardown() throws Exception {
        closeServers();
        redirect.remove();
        Command.run("umount", bpffs.toString());
        Files.deleteIfExists(bpffs);
        if (cgroup != null) {
            Files.deleteIfExists(cgroup);
        }
        pod.close();
        node.close();
    }

    private static Path cgroup2Root() throws IOException {
        for (Path root : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))) {
            if (Files.isDirectory(root) && Files.getFileStore(root).type().equals("cgroup2")) {
                return root;
            }
        }
        throw new AssertionError("no cgroup v2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified: the eBPF backend needs one");
    }

    /** An HTTP server in the node that answers with its name and the client address it saw. */
    private void serve(String address, int port, String name) throws Exception {
        ServerSocket server = node.call(() -> new ServerSocket(port, 50, InetAddress.ofLiteral(address)));
        servers.add(server);
        acceptors.add(Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(2000);
                    s.getInputStream().read(new byte[4096]);
                    String body = name + " saw " + ((InetSocketAddress) s.getRemoteSocketAddress()).getAddress().getHostAddress();
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                            .getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // closed at teardown, or a client that went away
                }
            }
        }));
    }

    /** curl to the metadata address from a namespace, in the test cgroup or not. */
    private Command.Result curl(Netns ns, boolean inCgroup) {
        return curl(ns, inCgroup, "169.254.169.254");
    }

    private Command.Result curl(Netns ns, boolean inCgroup, String address) {
        String enter = inCgroup ? "echo $$ > " + cgroup.resolve("cgroup.procs") + " && " : "";
        // The cgroup move comes first: `ip netns exec` remounts /sys.
        return Command.run("sh", "-c", enter + "exec ip netns exec " + ns.name()
                + " curl -sS --max-time 3 http://" + address + "/latest/meta-data/");
    }

    private CgroupRedirect.Target target(String hostIp, int port) {
        return new CgroupRedirect.Target(cgroup, (Inet4Address) InetAddress.ofLiteral(hostIp), port);
    }

    /** Installs from the node's namespace, as the agent does: that namespace keeps the real IMDS. */
    private CgroupRedirect.Attached install(String hostIp, int port) throws Exception {
        return node.call(() -> redirect.install(target(hostIp, port)));
    }

    @Test
    void podConnectsInTheCgroupReachTheAgentWithTheirOwnAddressAndNothingElseChanges() throws Exception {
        assertEquals("real-imds saw " + POD_IP, curl(pod, true).ok().stdout(), "before install");
        CgroupRedirect.Attached attached = install(HOST_IP, 8181);
        assertFalse(attached.blocking());
        assertEquals(CgroupRedirect.cgroupId(cgroup), attached.cgroupId());
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup));

        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup, ConnectProgram.Hook.CONNECT6));

        assertEquals("agent saw " + POD_IP, curl(pod, true).ok().stdout(), "a pod in the cgroup reaches the agent");
        assertEquals("agent saw " + POD_IP, curl(pod, true, MAPPED_IMDS).ok().stdout(),
                "a dual-stack (AF_INET6) socket's IPv4-mapped connect is redirected too, and arrives as IPv4");
        assertEquals("real-imds saw " + POD_IP, curl(pod, false).ok().stdout(), "outside the cgroup nothing changes");
        assertEquals("real-imds saw " + POD_IP, curl(pod, false, MAPPED_IMDS).ok().stdout(), "for dual-stack sockets neither");
        assertEquals("real-imds saw 169.254.169.254", curl(node, true).ok().stdout(),
                "the node's own namespace keeps the real IMDS even inside the cgroup");
        assertEquals("real-imds saw 169.254.169.254", curl(node, true, MAPPED_IMDS).ok().stdout(), "over a dual-stack socket too");
        assertEquals(attached, redirect.show().orElseThrow(), "the link outlives the installing call: it is pinned");
    }

    @Test
    void installingAHundredTimesLeavesOneProgramAndFollowsTheLatestTarget() throws Exception {
        for (int i = 0; i < 100; i++) {
            install(HOST_IP, 8181);
        }
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup));
        assertEquals("agent saw " + POD_IP, curl(pod, true).ok().stdout());
        CgroupRedirect.Attached moved = install(HOST_IP, 9999);
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup), "a changed port swaps the program behind the same link");
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup, ConnectProgram.Hook.CONNECT6), "the connect6 one too");
        assertEquals("other-agent saw " + POD_IP, curl(pod, true, MAPPED_IMDS).ok().stdout());
        assertTrue(new ConnectProgram(ConnectProgram.Kind.REDIRECT, (Inet4Address) InetAddress.ofLiteral(HOST_IP), 9999,
                node.call(CgroupRedirect::currentNetnsCookie)).tags().contains(moved.tag()), "the kernel runs exactly the program asked for");
        assertEquals("other-agent saw " + POD_IP, curl(pod, true).ok().stdout());
        try (var pins = Files.list(bpffs.resolve("iamlet"))) {
            assertEquals(Set.of(bpffs.resolve("iamlet/connect4"), bpffs.resolve("iamlet/connect6"), bpffs.resolve("iamlet/sockops"),
                    bpffs.resolve("iamlet/owners")), Set.copyOf(pins.toList()), "one link per connect hook, one sock_ops link, one owners map");
        }
    }

    @Test
    void blockRefusesPodConnectsUntilTheNextInstallAndRemoveDetachesEverything() throws Exception {
        install(HOST_IP, 8181);
        CgroupRedirect.Attached blocked = node.call(() -> redirect.block(target(HOST_IP, 8181)));
        assertTrue(blocked.blocking());
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup));
        Command.Result refused = curl(pod, true);
        assertEquals(7, refused.exitCode(), "curl cannot connect: " + refused.output());
        Command.Result refused6 = curl(pod, true, MAPPED_IMDS);
        assertEquals(7, refused6.exitCode(), "nor over a dual-stack socket: " + refused6.output());
        assertTrue(redirect.show(ConnectProgram.Hook.CONNECT6).orElseThrow().blocking());
        assertEquals("real-imds saw 169.254.169.254", curl(node, true).ok().stdout(), "the node is not blocked");

        install(HOST_IP, 8181);
        assertEquals("agent saw " + POD_IP, curl(pod, true).ok().stdout());

        node.run(redirect::remove);
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup));
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup, ConnectProgram.Hook.CONNECT6));
        assertFalse(Files.exists(bpffs.resolve("iamlet")), "no pin left");
        assertTrue(redirect.show().isEmpty());
        assertEquals("real-imds saw " + POD_IP, curl(pod, true).ok().stdout(), "pods reach the node's metadata service again");
        assertEquals("real-imds saw " + POD_IP, curl(pod, true, MAPPED_IMDS).ok().stdout(), "over dual-stack sockets too");
        node.run(redirect::remove);
    }

    @Test
    void containerCredentialsConnectsAreRedirectedBlockedAndReleasedWithTheMetadataOnes() throws Exception {
        CgroupRedirect.Target both = new CgroupRedirect.Target(cgroup, (Inet4Address) InetAddress.ofLiteral(HOST_IP), 8181, true);
        assertEquals("real-credentials saw " + POD_IP, curl(pod, true, "169.254.170.23").ok().stdout(), "before install");
        node.call(() -> redirect.install(target(HOST_IP, 8181)));
        assertEquals("real-credentials saw " + POD_IP, curl(pod, true, "169.254.170.23").ok().stdout(), "off unless asked");

        node.call(() -> redirect.install(both));
        CgroupRedirect.Attached attached = node.call(() -> redirect.install(both));
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup), "installing again swaps the program behind the same link");
        assertTrue(new ConnectProgram(ConnectProgram.Kind.REDIRECT, both.hostIp(), 8181, node.call(CgroupRedirect::currentNetnsCookie), true)
                .tags().contains(attached.tag()), "the kernel runs the program that rewrites both addresses");
        assertEquals("agent saw " + POD_IP, curl(pod, true, "169.254.170.23").ok().stdout(), "a pod's credentials connect reaches the agent");
        assertEquals("agent saw " + POD_IP, curl(pod, true, "[::ffff:169.254.170.23]").ok().stdout(), "over a dual-stack socket too");
        assertEquals("agent saw " + POD_IP, curl(pod, true).ok().stdout(), "and its metadata connect still does");
        assertEquals("real-credentials saw 169.254.170.23", curl(node, true, "169.254.170.23").ok().stdout(), "the node is not redirected");

        node.call(() -> redirect.block(both));
        assertEquals(7, curl(pod, true, "169.254.170.23").exitCode(), "the block refuses it too");
        assertEquals(7, curl(pod, true, "[::ffff:169.254.170.23]").exitCode(), "over a dual-stack socket too");
        node.run(redirect::remove);
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup));
        assertEquals("real-credentials saw " + POD_IP, curl(pod, true, "169.254.170.23").ok().stdout(), "after remove it is reached directly");
    }

    /**
     * Closes the servers and waits for their accept threads: a socket closed while a thread is blocked in
     * accept() keeps its port until that thread wakes up, so a server bound again at once could find it taken.
     */
    private void closeServers() throws Exception {
        for (ServerSocket s : servers) {
            s.close();
        }
        for (Thread t : acceptors) {
            if (!t.join(java.time.Duration.ofSeconds(10))) {
                throw new AssertionError("an accept thread did not end within 10 s of its server's close");
            }
        }
        servers.clear();
        acceptors.clear();
    }

    /** An "agent" that answers with the cgroup id the owners map holds for the connection's pod-side end. */
    private void serveOwners(ConnectionOwners owners, int port) throws Exception {
        serveOwners(owners, HOST_IP, port);
    }

    private void serveOwners(ConnectionOwners owners, String address, int port) throws Exception {
        ServerSocket server = node.call(() -> new ServerSocket(port, 512, InetAddress.ofLiteral(address)));
        servers.add(server);
        acceptors.add(Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    InetSocketAddress peer = (InetSocketAddress) s.getRemoteSocketAddress();
                    String body = "owner " + owners.cgroupOf(peer.getAddress(), peer.getPort()).orElse(-1);
                    s.setSoTimeout(2000);
                    s.getInputStream().read(new byte[4096]);
                    s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                            .getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // closed at teardown, or a client that went away
                }
            }
        }));
    }

    private Command.Result curlIn(Netns ns, Path group, String address) {
        return Command.run("sh", "-c", "echo $$ > " + group.resolve("cgroup.procs") + " && exec ip netns exec " + ns.name()
                + " curl -sS --max-time 3 http://" + address + "/latest/meta-data/");
    }

    @Test
    void theOwnersMapNamesEachConnectionsCgroupHostNetworkPodsAreRedirectedAndTheAgentsCgroupIsNot() throws Exception {
        closeServers();
        serve("169.254.169.254", 80, "real-imds");
        // The kubelet's layout under the pods' cgroup: a pod slice with a container scope; the agent is a pod too.
        Path container = Files.createDirectories(cgroup.resolve("kubepods-besteffort-podaaaa.slice/cri-containerd-1.scope"));
        Path agentCgroup = Files.createDirectories(cgroup.resolve("kubepods-besteffort-podbbbb.slice/cri-containerd-2.scope"));
        try {
            CgroupRedirect.Target target = new CgroupRedirect.Target(cgroup, (Inet4Address) InetAddress.ofLiteral(HOST_IP), 8181, false,
                    CgroupRedirect.cgroupId(agentCgroup));
            node.call(() -> redirect.install(target));
            node.call(() -> redirect.install(target));
            assertEquals(1, CgroupRedirect.attachedSockOpsPrograms(cgroup), "installing twice keeps one sock_ops program");
            assertEquals("rwx------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(bpffs.resolve("iamlet"))), "only root reaches the pins");
            try (ConnectionOwners owners = ConnectionOwners.open(bpffs.resolve("iamlet")).orElseThrow()) {
                serveOwners(owners, 8181);
                long containerId = CgroupRedirect.cgroupId(container);
                assertEquals("owner " + containerId, curlIn(pod, container, "169.254.169.254").ok().stdout(),
                        "a pod's redirected connection is attributed to its container's cgroup");
                assertEquals("owner " + containerId, curlIn(pod, container, MAPPED_IMDS).ok().stdout(),
                        "a dual-stack socket's connection is attributed too: the agent sees its IPv4 end");
                assertEquals("owner " + containerId, curlIn(node, container, "169.254.169.254").ok().stdout(),
                        "a hostNetwork pod (the node's namespace, a pod's cgroup) is redirected and attributed");
                assertEquals("owner " + containerId, curlIn(node, container, MAPPED_IMDS).ok().stdout(),
                        "a hostNetwork pod's dual-stack socket too");
                assertEquals("owner " + containerId, curlIn(node, container, HOST_IP + ":8181").ok().stdout(),
                        "a direct connection to the agent is attributed too");
                assertEquals("real-imds saw 169.254.169.254", curlIn(node, agentCgroup, "169.254.169.254").ok().stdout(),
                        "the agent's own cgroup keeps the real IMDS");
                assertEquals("real-imds saw 169.254.169.254", curlIn(node, agentCgroup, MAPPED_IMDS).ok().stdout(),
                        "over a dual-stack socket too (the agent is a JVM)");
                assertEquals("real-imds saw 169.254.169.254", curl(node, false).ok().stdout(), "the node outside the pods' cgroup too");
                assertEquals("owner -1", Command.run("sh", "-c", "exec ip netns exec " + pod.name() + " curl -sS --max-time 3 http://"
                        + HOST_IP + ":8181/").ok().stdout(), "a process outside the pods' cgroup has no entry");
                awaitEmpty(owners);

                // 100,000 connections from a pod, each closed by the agent's side first: none stays in the map.
                closedConnectionsLeaveNoEntry(owners, container, HOST_IP, 8181);
            }
        } finally {
            node.run(redirect::remove);
            Files.deleteIfExists(container);
            Files.deleteIfExists(container.getParent());
            Files.deleteIfExists(agentCgroup);
            Files.deleteIfExists(agentCgroup.getParent());
        }
        assertFalse(Files.exists(bpffs.resolve("iamlet")), "remove unpins the map and both links");
        assertEquals(0, CgroupRedirect.attachedSockOpsPrograms(cgroup));
    }

    private static final String HOST_IP6 = "fd00:81::1";
    private static final String POD_IP6 = "fd00:81::2";

    /** An address as the servers here print it (Java's uncompressed IPv6 form). */
    private static String full(String address) {
        return InetAddress.ofLiteral(address).getHostAddress();
    }

    /** curl to a native IPv6 address from a namespace, as a process of {@code group} (or of the test's own cgroup when null). */
    private Command.Result curl6(Netns ns, Path group, String address) {
        String enter = group == null ? "" : "echo $$ > " + group.resolve("cgroup.procs") + " && ";
        return Command.run("sh", "-c", enter + "exec ip netns exec " + ns.name()
                + " curl -g -sS --max-time 3 http://" + address + "/latest/meta-data/");
    }

    /**
     * Native IPv6 (EKS IPv6 pods): with the agent's IPv6 address, connect6 sends [fd00:ec2::254]:80 and
     * [fd00:ec2::23]:80 to [host IPv6]:port, and the sock_ops program records each such connection in the IPv6
     * owners map while it is open; a close deletes its entry, so 100,000 connections leave none.
     */
    @Test
    void nativeIpv6ConnectsAreRedirectedAttributedAndForgottenAtClose() throws Exception {
        Path container = Files.createDirectories(cgroup.resolve("kubepods-besteffort-podcccc.slice/cri-containerd-3.scope"));
        Path agentCgroup = Files.createDirectories(cgroup.resolve("kubepods-besteffort-poddddd.slice/cri-containerd-4.scope"));
        try {
            node.exec("ip", "-6", "addr", "add", HOST_IP6 + "/64", "dev", "calibpf0", "nodad").ok();
            pod.exec("ip", "-6", "addr", "add", POD_IP6 + "/64", "dev", "eth0", "nodad").ok();
            pod.exec("ip", "-6", "route", "add", "default", "via", HOST_IP6).ok();
            for (String service : List.of("fd00:ec2::254", "fd00:ec2::23")) {
                node.exec("ip", "-6", "addr", "add", service + "/128", "dev", "lo", "nodad").ok();
            }
            serve("fd00:ec2::254", 80, "real-imds6");
            serve("fd00:ec2::23", 80, "real-credentials6");
            assertEquals("real-imds6 saw " + full(POD_IP6), curl6(pod, container, "[fd00:ec2::254]").ok().stdout(), "before install");

            CgroupRedirect.Target target = new CgroupRedirect.Target(cgroup, (Inet4Address) InetAddress.ofLiteral(HOST_IP), 8181, true,
                    CgroupRedirect.cgroupId(agentCgroup), Optional.of((Inet6Address) InetAddress.ofLiteral(HOST_IP6)));
            node.call(() -> redirect.install(target));
            CgroupRedirect.Attached six = node.call(() -> redirect.install(target));
            assertEquals(1, CgroupRedirect.attachedPrograms(cgroup, ConnectProgram.Hook.CONNECT6), "installing twice keeps one connect6 program");
            assertEquals(1, CgroupRedirect.attachedSockOpsPrograms(cgroup));
            assertEquals(six, redirect.show().orElseThrow());
            assertTrue(new ConnectProgram(ConnectProgram.Kind.REDIRECT, target.hostIp(), 8181, node.call(CgroupRedirect::currentNetnsCookie), true,
                    target.agentCgroupId(), target.hostIpv6()).tags(ConnectProgram.Hook.CONNECT6)
                    .contains(redirect.show(ConnectProgram.Hook.CONNECT6).orElseThrow().tag()), "the kernel runs the connect6 program with the IPv6 rewrite");
            try (var pins = Files.list(bpffs.resolve("iamlet"))) {
                assertEquals(Set.of("connect4", "connect6", "sockops", "owners", "owners6"),
                        Set.copyOf(pins.map(p -> p.getFileName().toString()).toList()), "one more pin: the IPv6 owners map");
            }

            try (ConnectionOwners owners = ConnectionOwners.open(bpffs.resolve("iamlet")).orElseThrow()) {
                assertTrue(owners.ipv6());
                serveOwners(owners, HOST_IP6, 8181);
                long containerId = CgroupRedirect.cgroupId(container);
                assertEquals("owner " + containerId, curl6(pod, container, "[fd00:ec2::254]").ok().stdout(),
                        "a pod's native IPv6 connect reaches the agent's IPv6 address and is attributed to its cgroup while open");
                assertEquals("owner " + containerId, curl6(pod, container, "[fd00:ec2::23]").ok().stdout(),
                        "the container-credentials endpoint's IPv6 address too");
                assertEquals("agent saw " + POD_IP, curl6(pod, container, "169.254.169.254").ok().stdout(),
                        "IPv4 from the same pod still goes to the agent's IPv4 address");
                assertEquals("agent saw " + POD_IP, curl6(pod, container, MAPPED_IMDS).ok().stdout(),
                        "so does an IPv4-mapped connect on an AF_INET6 socket (its entry, in the IPv4 map, is gone after close: awaitEmpty below)");
                assertEquals("owner " + containerId, curl6(node, container, "[fd00:ec2::254]").ok().stdout(),
                        "a hostNetwork pod's native IPv6 connect is redirected and attributed");
                assertEquals("owner " + containerId, curl6(pod, container, "[" + HOST_IP6 + "]:8181").ok().stdout(),
                        "a direct IPv6 connection to the agent is attributed too");
                assertEquals("real-imds6 saw " + full(POD_IP6), curl6(pod, null, "[fd00:ec2::254]").ok().stdout(),
                        "a process outside the pods' cgroup is not redirected");
                assertEquals("real-imds6 saw " + full("fd00:ec2::254"), curl6(node, agentCgroup, "[fd00:ec2::254]").ok().stdout(),
                        "the agent's own cgroup keeps the real IMDS over IPv6");
                assertEquals("real-credentials6 saw " + full("fd00:ec2::23"), curl6(node, agentCgroup, "[fd00:ec2::23]").ok().stdout());
                assertEquals("owner -1", curl6(pod, null, "[" + HOST_IP6 + "]:8181").ok().stdout(),
                        "a process outside the pods' cgroup has no entry");
                awaitEmpty(owners);

                // An entry exists exactly while its connection is open: held open by a pod process, read from outside.
                Process held = new ProcessBuilder("sh", "-c", "echo $$ > " + container.resolve("cgroup.procs") + " && exec ip netns exec "
                        + pod.name() + " python3 -c 'import socket, sys\n"
                        + "s = socket.create_connection((\"fd00:ec2::254\", 80))\n"
                        + "print(s.getsockname()[1], flush=True)\n"
                        + "sys.stdin.readline()\n"
                        + "s.close()'").redirectErrorStream(true).start();
                try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(held.getInputStream(), StandardCharsets.UTF_8))) {
                    int port = Integer.parseInt(out.readLine().strip());
                    assertEquals(containerId, owners.cgroupOf(InetAddress.ofLiteral(POD_IP6), port).orElseThrow(),
                            "the open connection's entry, keyed by the pod's IPv6 address and port");
                    assertTrue(owners.cgroupOf(InetAddress.ofLiteral(POD_IP), port).isEmpty(), "and not in the IPv4 map");
                    held.getOutputStream().write('\n');
                    held.getOutputStream().flush();
                    assertEquals(0, held.waitFor());
                } finally {
                    held.destroy();
                }
                awaitEmpty(owners);

                // 100,000 native IPv6 connections from a pod: none stays in the map.
                closedConnectionsLeaveNoEntry(owners, container, "fd00:ec2::254", 80);
            }

            node.call(() -> redirect.block(target));
            assertEquals(7, curl6(pod, container, "[fd00:ec2::254]").exitCode(), "the block refuses native IPv6 connects too");
            assertEquals(7, curl6(pod, container, "[fd00:ec2::23]").exitCode());

            // Installed again without an IPv6 address: native IPv6 passes, and the IPv6 map's pin is gone.
            node.call(() -> redirect.install(new CgroupRedirect.Target(cgroup, target.hostIp(), 8181, true, target.agentCgroupId())));
            assertFalse(Files.exists(bpffs.resolve("iamlet/owners6")), "no IPv6 owners map without the IPv6 redirect");
            assertEquals("real-imds6 saw " + full(POD_IP6), curl6(pod, container, "[fd00:ec2::254]").ok().stdout());
            node.call(() -> redirect.install(target));
            assertTrue(Files.exists(bpffs.resolve("iamlet/owners6")));
            node.run(redirect::remove);
            assertFalse(Files.exists(bpffs.resolve("iamlet")), "remove unpins both maps and every link");
            assertEquals(0, CgroupRedirect.attachedPrograms(cgroup, ConnectProgram.Hook.CONNECT6));
            assertEquals(0, CgroupRedirect.attachedSockOpsPrograms(cgroup));
            assertEquals("real-imds6 saw " + full(POD_IP6), curl6(pod, container, "[fd00:ec2::254]").ok().stdout(), "pods reach the node's IMDS again");
        } finally {
            node.run(redirect::remove);
            for (Path p : List.of(container, container.getParent(), agentCgroup, agentCgroup.getParent())) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** 100,000 connections from a process of {@code group} in the pod, each closed by the agent's side first: none stays in the maps. */
    private void closedConnectionsLeaveNoEntry(ConnectionOwners owners, Path group, String host, int port) throws InterruptedException {
        Command.Result churn = Command.run(Duration.ofMinutes(3), List.of("sh", "-c", "echo $$ > "
                + group.resolve("cgroup.procs") + " && exec ip netns exec " + pod.name() + " python3 -c '"
                + "import socket\n"
                + "for i in range(100000):\n"
                + "    s = socket.create_connection((\"" + host + "\", " + port + "))\n"
                + "    s.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\")\n"
                + "    while s.recv(4096):\n"
                + "        pass\n"
                + "    s.close()\n"
                + "print(\"done\")'"));
        assertEquals("done", churn.ok().stdout().strip(), churn.output());
        awaitEmpty(owners);
    }

    /** The last closes finish in the kernel's own time (the final ACK): wait for them, boundedly. */
    private static void awaitEmpty(ConnectionOwners owners) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (owners.size() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, owners.size(), "the map holds no entry for a closed connection");
    }

    @Test
    void aPinDirectoryOutsideABpfFilesystemIsRefusedWithTheFix() throws Exception {
        CgroupRedirect elsewhere = new CgroupRedirect(Files.createTempDirectory("not-bpffs").resolve("iamlet"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> elsewhere.install(target(HOST_IP, 8181)));
        assertTrue(e.getMessage().contains("mount -t bpf bpf"), e.getMessage());
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup));
    }
}
