package io.iamlet.netlink;

import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The hand-written libnftnl bindings bind exactly the functions headers.txt lists (jextract/regenerate.sh --check). */
class BindingsCheckTest {
    @Test
    void theBindingsMatchTheListOfFunctions() {
        Command.Result check = Command.run("bash", "jextract/regenerate.sh", "--check");
        assertEquals(0, check.exitCode(), check.output());
        assertTrue(check.stdout().contains("functions of headers.txt, no more"), check.output());
    }
}
