package io.iamlet.control.policy;

import io.iamlet.control.credentials.CredentialKey;
import io.iamlet.control.pods.NamespaceInfo;
import io.iamlet.control.pods.PodInfo;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * EKS Pod Identity's role features as RolePolicy decides them: session tags (keys from the EKS User Guide,
 * pod-id-abac.html; limits from the STS API reference, data type Tag), the target role and the session policy.
 */
class EksRoleFeaturesTest {
    private static final String BASE = "arn:aws:iam::111122223333:role/";
    private static final SessionTagSettings TAGS = new SessionTagSettings(true, Optional.of("prod"),
            Optional.of("arn:aws:eks:eu-west-1:111122223333:cluster/prod"));

    private static PodInfo pod(String name, String serviceAccount, Map<String, String> annotations) {
        return new PodInfo("team", name, "uid-" + name, List.of("10.1.0.5"), "Running", false, false, annotations, serviceAccount);
    }

    private static Map<String, String> role(String role, String... more) {
        Map<String, String> a = new HashMap<>(Map.of("iam.amazonaws.com/role", role));
        for (int i = 0; i < more.length; i += 2) {
            a.put(more[i], more[i + 1]);
        }
        return a;
    }

    private static RolePolicy policy(SessionTagSettings tags) {
        return new RolePolicy(RoleSettings.defaults().withBaseArn(BASE).withSessionTags(tags));
    }

    private static RoleDecision.Allowed allowed(RoleDecision d) {
        return assertInstanceOf(RoleDecision.Allowed.class, d, d.toString());
    }

    private static RoleDecision.Denied denied(RoleDecision d) {
        return assertInstanceOf(RoleDecision.Denied.class, d, d.toString());
    }

    private static Map<String, String> asMap(List<SessionTag> tags) {
        Map<String, String> m = new LinkedHashMap<>();
        tags.forEach(t -> m.put(t.key(), t.value()));
        return m;
    }

    @Test
    void theSixEksTagsWithThePodsValues() {
        RoleDecision.Allowed a = allowed(policy(TAGS).decide(pod("web-1", "deployer", role("reader")), Optional.empty()));
        assertEquals(List.of("eks-cluster-arn", "eks-cluster-name", "kubernetes-namespace", "kubernetes-service-account",
                "kubernetes-pod-name", "kubernetes-pod-uid"), a.tags().stream().map(SessionTag::key).toList());
        assertEquals(Map.of("eks-cluster-arn", "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "eks-cluster-name", "prod",
                "kubernetes-namespace", "team", "kubernetes-service-account", "deployer", "kubernetes-pod-name", "web-1",
                "kubernetes-pod-uid", "uid-web-1"), asMap(a.tags()));
    }

    @Test
    void clusterTagsOnlyWhenTheFlagsGiveThemAndTheDefaultServiceAccount() {
        RolePolicy noCluster = policy(new SessionTagSettings(true, Optional.empty(), Optional.empty()));
        RoleDecision.Allowed a = allowed(noCluster.decide(pod("web-1", null, role("reader")), Optional.empty()));
        assertEquals(Map.of("kubernetes-namespace", "team", "kubernetes-service-account", "default", "kubernetes-pod-name", "web-1",
                "kubernetes-pod-uid", "uid-web-1"), asMap(a.tags()));
        assertEquals("default", pod("x", "", Map.of()).serviceAccount(), "an empty spec.serviceAccountName is Kubernetes' default");
    }

    @Test
    void offByDefault() {
        RoleDecision.Allowed a = allowed(new RolePolicy(RoleSettings.defaults().withBaseArn(BASE))
                .decide(pod("web-1", "deployer", role("reader")), Optional.empty()));
        assertTrue(a.tags().isEmpty());
    }

    @Test
    void aPodOrItsNamespaceOptsOut() {
        RolePolicy p = policy(TAGS);
        assertTrue(allowed(p.decide(pod("a", "sa", role("reader", RoleSettings.SESSION_TAGS_KEY, "false")), Optional.empty())).tags().isEmpty());
        NamespaceInfo optedOut = new NamespaceInfo("team", Map.of(RoleSettings.SESSION_TAGS_KEY, "false"));
        assertTrue(allowed(p.decide(pod("b", "sa", role("reader")), Optional.of(optedOut))).tags().isEmpty());
        assertTrue(allowed(p.decide(pod("c", "sa", role("reader", RoleSettings.SESSION_TAGS_KEY, "true")), Optional.of(optedOut))).tags()
                .isEmpty(), "a namespace's opt-out holds for all its pods");
        assertEquals(6, allowed(p.decide(pod("d", "sa", role("reader", RoleSettings.SESSION_TAGS_KEY, "true")), Optional.empty())).tags().size());
        RoleDecision.Denied bad = denied(p.decide(pod("e", "sa", role("reader", RoleSettings.SESSION_TAGS_KEY, "no")), Optional.empty()));
        assertEquals(400, bad.httpStatus());
        assertEquals(Optional.of(RoleSettings.SESSION_TAGS_KEY), bad.annotation());
    }

    @Test
    void tagLimitsAreStssOwn() {
        assertThrows(IllegalArgumentException.class, () -> new SessionTag("k".repeat(129), "v"));
        assertThrows(IllegalArgumentException.class, () -> new SessionTag("", "v"));
        assertThrows(IllegalArgumentException.class, () -> new SessionTag("k", "v".repeat(257)));
        assertThrows(IllegalArgumentException.class, () -> new SessionTag("k", "semi;colon"));
        assertDoesNotThrow(() -> new SessionTag("k".repeat(128), "v".repeat(256)));
        assertDoesNotThrow(() -> new SessionTag("kubernetes-pod-uid", "arn:aws:eks:eu-west-1:1:cluster/a_b.c=d+e@f g"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SessionTagSettings(true, Optional.of("prod;drop"), Optional.empty()));
        assertTrue(e.getMessage().contains("cluster name"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SessionTagSettings(true, Optional.empty(), Optional.of("prod")));
    }

    @Test
    void perPodTagsMakePerPodKeys() {
        RolePolicy p = policy(TAGS);
        CredentialKey one = CredentialKey.of(allowed(p.decide(pod("web-1", "sa", role("reader")), Optional.empty())));
        CredentialKey two = CredentialKey.of(allowed(p.decide(pod("web-2", "sa", role("reader")), Optional.empty())));
        assertNotEquals(one, two);
        assertEquals(one, CredentialKey.of(allowed(p.decide(pod("web-1", "sa", role("reader")), Optional.empty()))));
        // Even with one session name per role, the tags keep pods apart.
        RolePolicy shared = new RolePolicy(RoleSettings.defaults().withBaseArn(BASE).withSessionTags(TAGS)
                .withSessionNaming(RoleSettings.SessionNaming.ROLE));
        CredentialKey a = CredentialKey.of(allowed(shared.decide(pod("web-1", "sa", role("reader")), Optional.empty())));
        CredentialKey b = CredentialKey.of(allowed(shared.decide(pod("web-2", "sa", role("reader")), Optional.empty())));
        assertEquals(a.sessionName(), b.sessionName());
        assertNotEquals(a, b);
        // Without tags, --session-name=role shares one session, as before.
        RolePolicy untagged = new RolePolicy(RoleSettings.defaults().withBaseArn(BASE).withSessionNaming(RoleSettings.SessionNaming.ROLE));
        assertEquals(CredentialKey.of(allowed(untagged.decide(pod("web-1", "sa", role("reader")), Optional.empty()))),
                CredentialKey.of(allowed(untagged.decide(pod("web-2", "sa", role("reader")), Optional.empty()))));
    }

    @Test
    void theChainIsPartOfTheKey() {
        RolePolicy p = policy(SessionTagSettings.off());
        CredentialKey plain = CredentialKey.of(allowed(p.decide(pod("w", "sa", role("reader")), Optional.empty())));
        CredentialKey chained = CredentialKey.of(allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.TARGET_ROLE_KEY,
                "arn:aws:iam::444455556666:role/data")), Optional.empty())));
        CredentialKey other = CredentialKey.of(allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.TARGET_ROLE_KEY,
                "arn:aws:iam::444455556666:role/logs")), Optional.empty())));
        CredentialKey scoped = CredentialKey.of(allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.SESSION_POLICY_KEY,
                "{\"Version\":\"2012-10-17\",\"Statement\":[]}")), Optional.empty())));
        assertEquals(4, Set.of(plain, chained, other, scoped).size(), "role, chain, other chain, scoped: four sessions");
        assertEquals(Optional.of(RoleArn.parse("arn:aws:iam::444455556666:role/data").orElseThrow()), chained.target());
    }

    @Test
    void theTargetIsABareNameOrAnArnAndTheExternalIdGoesWithIt() {
        RoleDecision.Allowed a = allowed(policy(SessionTagSettings.off()).decide(pod("w", "sa", role("reader",
                RoleSettings.TARGET_ROLE_KEY, "data-reader", "iam.amazonaws.com/external-id", "ext-42")), Optional.empty()));
        assertEquals(BASE + "data-reader", a.target().orElseThrow().text());
        assertEquals(Optional.of("ext-42"), a.externalId());
        RoleDecision.Denied bad = denied(policy(SessionTagSettings.off()).decide(pod("w", "sa", role("reader",
                RoleSettings.TARGET_ROLE_KEY, "arn:aws:iam::12:role/x")), Optional.empty()));
        assertEquals(404, bad.httpStatus());
        assertTrue(bad.reason().contains("target role"), bad.reason());
    }

    @Test
    void namespaceRestrictionsJudgeBothRoles() {
        RolePolicy p = new RolePolicy(RoleSettings.defaults().withBaseArn(BASE).withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.GLOB));
        NamespaceInfo ns = new NamespaceInfo("team", Map.of("iam.amazonaws.com/allowed-roles", "[\"reader\", \"team-*\"]"));
        allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.TARGET_ROLE_KEY, "team-data")), Optional.of(ns)));
        RoleDecision.Denied target = denied(p.decide(pod("w", "sa", role("reader", RoleSettings.TARGET_ROLE_KEY, "admin")), Optional.of(ns)));
        assertEquals(403, target.httpStatus());
        assertTrue(target.reason().contains("target role " + BASE + "admin"), target.reason());
        RoleDecision.Denied first = denied(p.decide(pod("w", "sa", role("admin", RoleSettings.TARGET_ROLE_KEY, "reader")), Optional.of(ns)));
        assertEquals(403, first.httpStatus());
        assertTrue(first.reason().contains("role " + BASE + "admin"), first.reason());
    }

    @Test
    void crossAccountRulesJudgeTheTargetToo() {
        RolePolicy p = new RolePolicy(RoleSettings.defaults().withBaseArn(BASE).withCrossAccount(false));
        RoleDecision.Denied d = denied(p.decide(pod("w", "sa", role("reader", RoleSettings.TARGET_ROLE_KEY,
                "arn:aws:iam::444455556666:role/data")), Optional.empty()));
        assertEquals(403, d.httpStatus());
        assertTrue(d.reason().contains("target role arn:aws:iam::444455556666:role/data is in another account"), d.reason());
    }

    @Test
    void sessionPoliciesAreCheckedByStssRules() {
        RolePolicy p = policy(SessionTagSettings.off());
        String good = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}";
        assertEquals(Optional.of(good), allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.SESSION_POLICY_KEY, "  " + good + "\n")),
                Optional.empty())).sessionPolicy());
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{\"Version\":\"2012-10-17\",\"Statement\":[}", "not well-formed JSON");
        bad.put("{\"Statement\":[]} trailing", "not well-formed JSON");
        bad.put("[1,2]", "not a JSON object");
        bad.put("{\"Version\":\"2012-10-17\"}", "no Statement");
        bad.put("{\"Statement\":[],\"Statement\":[]}", "not well-formed JSON");
        bad.put("{\"Statement\":[],\"Sid\":\"" + "x".repeat(2048) + "\"}", "STS takes at most 2048");
        bad.put("{\"Statement\":[],\"Sid\":\"\u20ac\"}", "U+20AC");
        for (var c : bad.entrySet()) {
            RoleDecision.Denied d = denied(p.decide(pod("w", "sa", role("reader", RoleSettings.SESSION_POLICY_KEY, c.getKey())), Optional.empty()));
            assertEquals(400, d.httpStatus(), c.getKey());
            assertTrue(d.reason().contains(c.getValue()) && d.reason().contains(RoleSettings.SESSION_POLICY_KEY), d.reason());
            assertEquals(Optional.of(RoleSettings.SESSION_POLICY_KEY), d.annotation());
        }
        assertTrue(allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.SESSION_POLICY_KEY, "  ")), Optional.empty()))
                .sessionPolicy().isEmpty(), "a blank annotation is no policy, as for every other annotation");
        String exactly = "{\"Statement\":[],\"Sid\":\"" + "x".repeat(2048 - 25) + "\"}";
        assertEquals(2048, exactly.length());
        allowed(p.decide(pod("w", "sa", role("reader", RoleSettings.SESSION_POLICY_KEY, exactly)), Optional.empty()));
    }

    @Test
    void aServiceAccountsAnnotationsStandInForThePods() {
        RoleSettings settings = RoleSettings.defaults().withBaseArn(BASE);
        Map<String, String> sa = Map.of("iam.amazonaws.com/role", "reader", RoleSettings.TARGET_ROLE_KEY, "data",
                "iam.amazonaws.com/external-id", "ext-1", RoleSettings.SESSION_POLICY_KEY, "{\"Statement\":[]}",
                RoleSettings.SESSION_TAGS_KEY, "false");
        PodInfo judged = ServiceAccountRole.apply(pod("w", "sa", Map.of()), sa, settings.roleKey(), settings.roleAnnotationKeys());
        assertEquals(sa, judged.annotations());
        PodInfo own = ServiceAccountRole.apply(pod("w", "sa", role("writer")), sa, settings.roleKey(), settings.roleAnnotationKeys());
        assertEquals(Map.of("iam.amazonaws.com/role", "writer"), own.annotations(), "a pod naming its own role takes nothing of the ServiceAccount's");
    }
}
