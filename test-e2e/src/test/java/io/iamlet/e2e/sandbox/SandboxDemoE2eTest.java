package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What bin/demo runs after building, as a program of its own: every step behaves and it says so. */
class SandboxDemoE2eTest {
    @Test
    void theDemoShowsEachStepAndExitsZero() {
        Command.Result demo = Command.run(Duration.ofMinutes(3), TestJvm.command(SandboxDemo.class));
        assertEquals(0, demo.exitCode(), demo.output());
        String out = demo.stdout();
        for (String expected : List.of("\"Arn\": \"arn:aws:sts::111122223333:assumed-role/app-web/shop.web\"",
                "403 pod locked/batch: role arn:aws:iam::111122223333:role/app-admin is not allowed in namespace locked",
                "Unable to locate credentials", "assumed-role/sandbox-default/shop.legacy", "$ nft list ruleset\n    (empty)",
                "instance-id i-0123456789abcdef0", "demo OK")) {
            assertTrue(out.contains(expected), "the demo shows '" + expected + "':\n" + out);
        }
        assertFalse(out.contains("FAILED"), out);
    }
}
