package io.iamlet.agent;

import io.iamlet.control.pods.PodInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** /debug/store shows each pod's role under the annotation the agent reads, --iam-role-key's, not a fixed one. */
class DebugStoreTest {
    private static final PodInfo POD = new PodInfo("team-a", "web", "uid-1", List.of("10.1.0.5"), "Running", false, false,
            Map.of("example.com/role", "reader", "iam.amazonaws.com/role", "other"));

    @Test
    void theRoleIsReadUnderTheConfiguredKey() {
        assertEquals("[{\"namespace\":\"team-a\",\"name\":\"web\",\"ips\":[\"10.1.0.5\"],\"phase\":\"Running\",\"role\":\"reader\"}]",
                Agent.debugStore(List.of(POD), "example.com/role"));
        assertEquals("[{\"namespace\":\"team-a\",\"name\":\"web\",\"ips\":[\"10.1.0.5\"],\"phase\":\"Running\",\"role\":\"\"}]",
                Agent.debugStore(List.of(POD.withAnnotations(Map.of())), "example.com/role"));
    }
}
