package io.iamlet.e2e;

import io.iamlet.agent.cli.Cli;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.netlink.testing.Netns;
import io.iamlet.netlink.testing.Relay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** `iamlet doctor` on a node namespace, with the fakes reachable there through relays. */
class DoctorE2eTest {
    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private MockApiServer api;
    private FakeSts sts;
    private FakeImds imds;
    private Netns node;
    private final List<Relay> relays = new ArrayList<>();

    record Run(int exit, String out) {
    }

    @BeforeEach
    void world() throws Exception {
        api = aws.api();
        sts = aws.sts();
        imds = aws.imds();
        node = Netns.create();
        // The SDK's default chain reads these; the doctor proves the agent's own credentials work.
        System.setProperty("aws.accessKeyId", "AKIANODE0000000000");
        System.setProperty("aws.secretAccessKey", "node-secret");
    }

    @AfterEach
    void teardown() throws Exception {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        for (Relay r : relays) {
            r.close();
        }
        node.close();
    }

    private int relay(int port) throws Exception {
        Relay r = Relay.into(node, port);
        relays.add(r);
        return r.port();
    }

    private Run doctor(String... args) throws Exception {
        return node.call(() -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
            List<String> all = new ArrayList<>(List.of("doctor"));
            all.addAll(List.of(args));
            int exit = new Cli(print, print, Map.of()).run(all.toArray(String[]::new));
            return new Run(exit, out.toString(StandardCharsets.UTF_8));
        });
    }

    @Test
    void aHealthyNodeHasOnlyWarnings() throws Exception {
        node.exec(Launcher.iamlet(), "rules", "install", "--host-ip=10.90.0.1", "--host-interface=cali+").ok();
        node.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-d", "169.254.169.254/32", "-i", "eni+", "-p", "tcp",
                "--dport", "80", "-j", "DNAT", "--to-destination", "10.90.0.1:8181").ok();
        Run r = doctor("--host-ip=10.90.0.1", "--host-interface=cali+", "--node=node-a",
                "--api-server=http://127.0.0.1:" + relay(java.net.URI.create(api.url()).getPort()),
                "--sts-endpoint=http://127.0.0.1:" + relay(sts.endpoint().getPort()),
                "--metadata-addr=127.0.0.1:" + relay(imds.url().getPort()));
        assertEquals(0, r.exit(), r.out());
        for (String line : List.of("ok   nf_tables", "ok   capabilities", "ok   rules", "warn kube2iam", "ok   imds", "ok   api", "ok   sts")) {
            assertTrue(r.out().contains(line), "'" + line + "' missing from:\n" + r.out());
        }
        assertTrue(r.out().contains("--adopt-kube2iam-rules"), r.out());
        assertTrue(r.out().contains("instance i-0123456789abcdef0"), r.out());
        assertTrue(r.out().contains("ok   issuer keys  issuer " + io.iamlet.control.testing.FakeTokenIssuer.ISSUER + ", 1 key(s)"), r.out());
    }

    @Test
    void problemsAreExplainedAndFail() throws Exception {
        Run r = doctor("--host-ip=10.90.0.1", "--host-interface=cali+", "--metadata-addr=127.0.0.1:9",
                "--api-server=http://127.0.0.1:9", "--sts-endpoint=http://127.0.0.1:9");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("fail rules        table inet iamlet: table inet iamlet is not installed"), r.out());
        assertTrue(r.out().contains("fail imds") && r.out().contains("does not answer"), r.out());
        assertTrue(r.out().contains("fail api") && r.out().contains("RBAC"), r.out());
        assertTrue(r.out().contains("fail sts") && r.out().contains("could not be reached"), r.out());
    }
}
