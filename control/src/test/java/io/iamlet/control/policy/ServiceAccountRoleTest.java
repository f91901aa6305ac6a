package io.iamlet.control.policy;

import io.iamlet.control.pods.NamespaceInfo;
import io.iamlet.control.pods.PodInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The ServiceAccount's role annotation as a fallback, judged by the same policy as a pod's own. */
class ServiceAccountRoleTest {
    private static final String KEY = RoleSettings.DEFAULT_ROLE_KEY;
    private static final RolePolicy POLICY = new RolePolicy(RoleSettings.defaults().withBaseArn("arn:aws:iam::111122223333:role/")
            .withDefaultRole("fallback").withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.GLOB));
    private static final Optional<NamespaceInfo> TEAM = Optional.of(new NamespaceInfo("team",
            Map.of(RoleSettings.DEFAULT_NAMESPACE_KEY, "[\"app-*\"]")));

    private static PodInfo pod(Map<String, String> annotations) {
        return new PodInfo("team", "web", "uid-1", List.of("10.0.0.5"), "Running", false, false, annotations);
    }

    private static RoleDecision decide(PodInfo pod, Map<String, String> serviceAccount) {
        return POLICY.decide(ServiceAccountRole.apply(pod, serviceAccount, KEY), TEAM);
    }

    @Test
    void thePodsOwnAnnotationWins() {
        RoleDecision d = decide(pod(Map.of(KEY, "app-own")), Map.of(KEY, "app-account"));
        assertEquals("app-own", assertInstanceOf(RoleDecision.Allowed.class, d).annotation());
    }

    @Test
    void aPodWithoutOneTakesTheServiceAccountsOverTheDefault() {
        RoleDecision.Allowed a = assertInstanceOf(RoleDecision.Allowed.class, decide(pod(Map.of()), Map.of(KEY, "app-account")));
        assertEquals("app-account", a.annotation());
        assertFalse(a.viaDefault());
        assertEquals("team.web", a.sessionName(), "the same session name, so the same cache entry, as the IMDS path");
    }

    @Test
    void theServiceAccountsRoleIsHeldToTheNamespaceRestrictions() {
        RoleDecision.Denied d = assertInstanceOf(RoleDecision.Denied.class, decide(pod(Map.of()), Map.of(KEY, "admin")));
        assertEquals(403, d.httpStatus());
    }

    @Test
    void neitherMeansTheDefaultRole() {
        assertTrue(assertInstanceOf(RoleDecision.Allowed.class, decide(pod(Map.of(KEY, " ")), Map.of(KEY, ""))).viaDefault());
    }
}
