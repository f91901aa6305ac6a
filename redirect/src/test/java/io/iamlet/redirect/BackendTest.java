package io.iamlet.redirect;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class BackendTest {
    @Test
    void parsedOnceByLabelAndTheMessageNamesTheChoices() {
        for (Backend b : Backend.values()) {
            assertEquals(b, Backend.parse(b.label()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.parse("bpf"));
        assertEquals("must be nftables, iptables or ebpf, not 'bpf'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backend.parse("NFTABLES"), "labels are exact, as on the command line");
        assertTrue(Backend.NFTABLES.netfilter() && Backend.IPTABLES.netfilter() && !Backend.EBPF.netfilter());
    }
}
