package io.iamlet.control.policy;

import io.iamlet.control.pods.NamespaceInfo;
import io.iamlet.control.pods.PodInfo;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class RolePolicyTest {
    private static final String BASE = "arn:aws:iam::111122223333:role/";
    private static final RoleSettings SETTINGS = RoleSettings.defaults().withBaseArn(BASE);

    static PodInfo pod(String namespace, String name, String role, String externalId) {
        Map<String, String> annotations = new HashMap<>();
        if (role != null) {
            annotations.put("iam.amazonaws.com/role", role);
        }
        if (externalId != null) {
            annotations.put("iam.amazonaws.com/external-id", externalId);
        }
        return new PodInfo(namespace, name, "uid-" + name, List.of("10.1.0.5"), "Running", false, false, annotations);
    }

    static Optional<NamespaceInfo> ns(String name, Map<String, String> annotations) {
        return Optional.of(new NamespaceInfo(name, annotations));
    }

    private static RoleDecision.Allowed allowed(RoleDecision d) {
        return assertInstanceOf(RoleDecision.Allowed.class, d, d.toString());
    }

    private static RoleDecision.Denied denied(RoleDecision d, int status, String text) {
        RoleDecision.Denied denied = assertInstanceOf(RoleDecision.Denied.class, d, d.toString());
        assertEquals(status, denied.httpStatus(), denied.reason());
        assertTrue(denied.reason().contains(text), denied.reason());
        return denied;
    }

    @Test
    void bareNamesGetTheBaseArnAndListBackWithoutIt() {
        RoleDecision.Allowed a = allowed(new RolePolicy(SETTINGS).decide(pod("team", "web-1", "reader", null), Optional.empty()));
        assertEquals("arn:aws:iam::111122223333:role/reader", a.arn().text());
        assertEquals("reader", a.annotation());
        assertEquals("team.web-1", a.sessionName());
        assertFalse(a.viaDefault());
        RoleDecision.Allowed path = allowed(new RolePolicy(SETTINGS).decide(pod("team", "web-1", "apps/reader", null), Optional.empty()));
        assertEquals("arn:aws:iam::111122223333:role/apps/reader", path.arn().text());
        assertEquals("reader", path.arn().name());
    }

    @Test
    void fullArnsFromOtherAccountsUnlessForbidden() {
        String other = "arn:aws:iam::999988887777:role/partner";
        RoleDecision.Allowed a = allowed(new RolePolicy(SETTINGS).decide(pod("team", "p", other, null), Optional.empty()));
        assertEquals(other, a.annotation(), "a role outside the base is listed as its full ARN");
        denied(new RolePolicy(SETTINGS.withCrossAccount(false)).decide(pod("team", "p", other, null), Optional.empty()),
                403, "cross-account roles are not allowed");
        denied(new RolePolicy(SETTINGS.withCrossAccount(false)).decide(pod("team", "p", "arn:aws-cn:iam::111122223333:role/x", null),
                Optional.empty()), 403, "another account or partition");
        allowed(new RolePolicy(SETTINGS.withCrossAccount(false)).decide(pod("team", "p", BASE + "mine", null), Optional.empty()));
    }

    @Test
    void defaultRoleForUnannotatedPods() {
        denied(new RolePolicy(SETTINGS).decide(pod("team", "p", null, null), Optional.empty()), 404,
                "has no iam.amazonaws.com/role annotation and no default role");
        RoleDecision.Allowed a = allowed(new RolePolicy(SETTINGS.withDefaultRole("basic")).decide(pod("team", "p", "  ", null), Optional.empty()));
        assertTrue(a.viaDefault());
        assertEquals(BASE + "basic", a.arn().text());
    }

    @Test
    void malformedAnnotationsAreRefusedWithAReason() {
        RolePolicy policy = new RolePolicy(SETTINGS);
        denied(policy.decide(pod("t", "p", "arn:aws:iam::12:role/x", null), Optional.empty()), 404, "not a valid IAM role ARN");
        denied(policy.decide(pod("t", "p", "arn:aws:s3:::bucket", null), Optional.empty()), 404, "not a valid IAM role ARN");
        denied(policy.decide(pod("t", "p", "role with spaces", null), Optional.empty()), 404, "not a valid IAM role name");
        denied(policy.decide(pod("t", "p", "x".repeat(65), null), Optional.empty()), 404, "not a valid IAM role name");
        denied(policy.decide(pod("t", "p", "reader", "bad id!"), Optional.empty()), 404, "external-id");
        denied(new RolePolicy(RoleSettings.defaults()).decide(pod("t", "p", "reader", null), Optional.empty()), 500,
                "set baseArn or autoDiscoverBaseArn");
        assertEquals(Optional.of("ext-42"), allowed(policy.decide(pod("t", "p", "reader", "ext-42"), Optional.empty())).externalId());
    }

    @Test
    void namespaceRestrictionsGlob() {
        RolePolicy policy = new RolePolicy(SETTINGS.withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.GLOB).withDefaultRole("basic"));
        var team = ns("team", Map.of("iam.amazonaws.com/allowed-roles", "[\"reader\", \"apps/*\", \"arn:aws:iam::999988887777:role/partner-*\"]"));
        allowed(policy.decide(pod("team", "p", "reader", null), team));
        allowed(policy.decide(pod("team", "p", "apps/deep/writer", null), team));
        allowed(policy.decide(pod("team", "p", "arn:aws:iam::999988887777:role/partner-x", null), team));
        denied(policy.decide(pod("team", "p", "admin", null), team), 403, "matches none of");
        denied(policy.decide(pod("team", "p", "reader-admin", null), team), 403, "is not allowed in namespace team");
        denied(policy.decide(pod("other", "p", "reader", null), ns("other", Map.of())), 403, "has no iam.amazonaws.com/allowed-roles");
        denied(policy.decide(pod("team", "p", "reader", null), ns("team", Map.of("iam.amazonaws.com/allowed-roles", "reader"))),
                403, "malformed");
        assertTrue(allowed(policy.decide(pod("other", "p", null, null), ns("other", Map.of()))).viaDefault(),
                "the default role is always allowed");
    }

    @Test
    void namespaceRestrictionsRegexpAreAnchored() {
        RolePolicy policy = new RolePolicy(SETTINGS.withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.REGEXP));
        var team = ns("team", Map.of("iam.amazonaws.com/allowed-roles", "[\"team-[a-z]+\"]"));
        allowed(policy.decide(pod("team", "p", "team-web", null), team));
        denied(policy.decide(pod("team", "p", "team-web-admin2", null), team), 403, "matches none of");
        denied(policy.decide(pod("team", "p", "team-web", null), ns("team", Map.of("iam.amazonaws.com/allowed-roles", "[\"(\"]"))),
                403, "not a valid regular expression");
    }

    @Test
    void kiamPermittedAnnotationRestrictsEvenWithoutTheFlag() {
        RolePolicy policy = new RolePolicy(SETTINGS);
        var ns = ns("team", Map.of("iam.amazonaws.com/permitted", "team-.*"));
        allowed(policy.decide(pod("team", "p", "team-web", null), ns));
        denied(policy.decide(pod("team", "p", "admin", null), ns), 403, "does not match iam.amazonaws.com/permitted");
        RolePolicy restricted = new RolePolicy(SETTINGS.withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.GLOB));
        allowed(restricted.decide(pod("team", "p", "team-web", null), ns));
    }

    @Test
    void sessionNamesFitStsLimits() {
        String longName = "very-long-pod-name-" + "x".repeat(80);
        String session = SessionNames.forPod("namespace", longName);
        assertEquals(64, session.length());
        assertTrue(session.matches("[\\w+=,.@-]+"), session);
        assertNotEquals(session, SessionNames.forPod("namespace", longName + "y"), "truncated names stay unique");
        RoleDecision.Allowed shared = allowed(new RolePolicy(SETTINGS.withSessionNaming(RoleSettings.SessionNaming.ROLE))
                .decide(pod("t", "p", "reader", null), Optional.empty()));
        assertEquals("iamlet-reader", shared.sessionName());
    }

    @Test
    void globMatchesLikeKube2iam() {
        assertTrue(RolePolicy.globToRegex("*").matcher("anything/at/all").matches());
        assertTrue(RolePolicy.globToRegex("a*c").matcher("abbbc").matches());
        assertFalse(RolePolicy.globToRegex("a.c").matcher("abc").matches(), "dots are literal");
    }
}
