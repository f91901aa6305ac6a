package io.iamlet.control.conformance;

import io.iamlet.control.pods.NamespaceInfo;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.policy.RoleSettings;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kube2iam's own policy tests, ported case by case (github jtblin/kube2iam; each case names its file and test):
 * mappings/mapper_test.go (TestExtractRoleARN, TestCheckRoleForNamespace), iam/arn_test.go (TestIsValidBaseARN,
 * TestIsValidBaseARNWithInvalid) and namespace_test.go (TestGetNamespaceRoleAnnotation). Expectations are kube2iam's
 * unless a case says it is one of the differences kept on purpose (docs/operations.md, "Differences from kube2iam").
 * Not ported: iam/iam_test.go's TestIsValidRegion* (iamlet does not check regions against EC2's DescribeRegions: the SDK's
 * own endpoint resolution decides) and TestAssumeRole (a mock STS client returning one credential: covered against
 * a real STS wire format by CredentialCacheTest and StsEndpointTest).
 */
class Kube2iamPolicyConformanceTest {
    private static final String BASE = "arn:aws:iam::123456789012:role/";
    private static final String ROLE_KEY = "roleKey";
    private static final String NAMESPACE_KEY = "namespaceKey";

    private static RoleSettings settings(String defaultRole, boolean restrictions, String format) {
        return new RoleSettings(ROLE_KEY, RoleSettings.DEFAULT_EXTERNAL_ID_KEY, Optional.empty(),
                Optional.ofNullable(defaultRole).filter(s -> !s.isEmpty()), true, restrictions, NAMESPACE_KEY,
                format == null || format.equals("glob") ? RoleSettings.RestrictionFormat.GLOB : RoleSettings.RestrictionFormat.REGEXP,
                RoleSettings.SessionNaming.POD).withBaseArn(BASE);
    }

    private static PodInfo pod(String namespace, Map<String, String> annotations) {
        return new PodInfo(namespace, "pod", "uid-1", List.of("10.0.0.1"), "Running", false, false, annotations);
    }

    // --- mappings/mapper_test.go TestExtractRoleARN ---

    static Stream<Arguments> extractRoleArn() {
        return Stream.of(
                Arguments.of("No default, no annotation", Map.of(), null, null),
                Arguments.of("No default, has annotation", Map.of(ROLE_KEY, "explicit-role"), null,
                        "arn:aws:iam::123456789012:role/explicit-role"),
                Arguments.of("Default present, no annotations", Map.of(), "explicit-default-role",
                        "arn:aws:iam::123456789012:role/explicit-default-role"),
                Arguments.of("Default present, has annotations", Map.of(ROLE_KEY, "something"), "explicit-default-role",
                        "arn:aws:iam::123456789012:role/something"),
                Arguments.of("Default present, has full arn annotations", Map.of(ROLE_KEY, "arn:aws:iam::999999999999:role/explicit-arn"),
                        "explicit-default-role", "arn:aws:iam::999999999999:role/explicit-arn"),
                Arguments.of("Default present, has different annotations", Map.of("nonMatchingAnnotation", "something"),
                        "explicit-default-role", "arn:aws:iam::123456789012:role/explicit-default-role"));
    }

    @DisplayName("mapper_test.go TestExtractRoleARN")
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void extractRoleArn(String test, Map<String, String> annotations, String defaultRole, String expectedArn) {
        RoleDecision d = new RolePolicy(settings(defaultRole, false, null)).decide(pod("default", annotations), Optional.empty());
        if (expectedArn == null) {
            // kube2iam: an error; iamlet: 404 with the reason, as for any pod without a usable role.
            assertEquals(404, assertInstanceOf(RoleDecision.Denied.class, d).httpStatus());
        } else {
            assertEquals(expectedArn, assertInstanceOf(RoleDecision.Allowed.class, d, d.toString()).arn().text());
        }
    }

    // --- mappings/mapper_test.go TestCheckRoleForNamespace ---

    static Stream<Arguments> checkRoleForNamespace() {
        String explicit = "arn:aws:iam::123456789012:role/explicit-role";
        String pathRole = "arn:aws:iam::123456789012:role/path/explicit-role";
        String defaultFull = "arn:aws:iam::123456789012:role/default-role";
        return Stream.of(
                Arguments.of("No restrictions", false, null, "default", null, explicit, null, true),
                Arguments.of("Restrictions enabled, default partial", true, "default-role", "", null, defaultFull, "glob", true),
                Arguments.of("Restrictions enabled, default full arn", true, defaultFull, "", null, defaultFull, "glob", true),
                Arguments.of("Restrictions enabled, partial arn in annotation", true, defaultFull, "default", "[\"explicit-role\"]", explicit, "glob", true),
                Arguments.of("Restrictions enabled, partial glob in annotation", true, defaultFull, "default", "[\"path/*\"]", pathRole, "glob", true),
                Arguments.of("Restrictions enabled, full arn in annotation", true, defaultFull, "default", "[\"" + explicit + "\"]", explicit, "glob", true),
                Arguments.of("Restrictions enabled, full arn with glob in annotation", true, defaultFull, "default",
                        "[\"arn:aws:iam::123456789012:role/path/*-role\"]", pathRole, "glob", true),
                Arguments.of("Restrictions enabled, full arn not in annotation", true, defaultFull, "default", "[\"" + explicit + "\"]",
                        "arn:aws:iam::123456789012:role/test-role", "glob", false),
                Arguments.of("Restrictions enabled, no annotations", true, null, "default", "", explicit, "glob", false),
                Arguments.of("Restrictions enabled, multiple annotations, no match", true, null, "default", "[\"explicit-role\", \"explicit-role2\"]",
                        "arn:aws:iam::123456789012:role/test-role", "glob", false),
                Arguments.of("Restrictions enabled, multiple annotations, matches exact 1st", true, null, "default",
                        "[\"explicit-role\", \"explicit-role2\"]", explicit, "glob", true),
                Arguments.of("Restrictions enabled, multiple annotations, matches exact 2nd", true, null, "default",
                        "[\"explicit-role2\", \"explicit-role\"]", explicit, "glob", true),
                Arguments.of("Restrictions enabled, multiple annotations, matches glob 1st", true, null, "default",
                        "[\"glob-*\", \"explicit-role\"]", "arn:aws:iam::123456789012:role/glob-role", "glob", true),
                Arguments.of("Restrictions enabled, multiple annotations, matches glob 2nd", true, null, "default",
                        "[\"explicit-role\", \"glob-*\"]", "arn:aws:iam::123456789012:role/glob-role", "glob", true),
                Arguments.of("Restrictions enabled (regexp), default partial", true, "default-role", "", null, defaultFull, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), default full arn", true, defaultFull, "", null, defaultFull, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), partial arn in annotation", true, defaultFull, "default", "[\"explicit-role\"]", explicit, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), partial regexp in annotation", true, defaultFull, "default", "[\"path/.*\"]", pathRole, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), full arn in annotation", true, defaultFull, "default", "[\"" + explicit + "\"]", explicit, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), full arn with regexp in annotation", true, defaultFull, "default",
                        "[\"arn:aws:iam::123456789012:role/path/.*-role\"]", pathRole, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), full arn not in annotation", true, defaultFull, "default", "[\"" + explicit + "\"]",
                        "arn:aws:iam::123456789012:role/test-role", "regexp", false),
                Arguments.of("Restrictions enabled (regexp), no annotations", true, null, "default", "", explicit, "regexp", false),
                Arguments.of("Restrictions enabled (regexp), multiple annotations, no match", true, null, "default",
                        "[\"explicit-role\", \"explicit-role2\"]", "arn:aws:iam::123456789012:role/test-role", "regexp", false),
                Arguments.of("Restrictions enabled (regexp), multiple annotations, matches exact 1st", true, null, "default",
                        "[\"explicit-role\", \"explicit-role2\"]", explicit, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), multiple annotations, matches exact 2nd", true, null, "default",
                        "[\"explicit-role2\", \"explicit-role\"]", explicit, "regexp", true),
                Arguments.of("Restrictions enabled (regexp), multiple annotations, matches regexp 1st", true, null, "default",
                        "[\"glob-.*\", \"explicit-role\"]", "arn:aws:iam::123456789012:role/glob-role", "regexp", true),
                Arguments.of("Restrictions enabled (regexp), multiple annotations, matches regexp 2nd", true, null, "default",
                        "[\"explicit-role\", \"glob-.*\"]", "arn:aws:iam::123456789012:role/glob-role", "regexp", true));
    }

    /**
     * kube2iam asks checkRoleForNamespace(roleARN, namespace); iamlet decides for a pod annotated with that role in that
     * namespace. A namespace kube2iam's store does not know ("") is one the index does not hold: Optional.empty().
     * Allowed is kube2iam's true; a refusal is 403 (kube2iam answers 403 too, from its handler).
     */
    @DisplayName("mapper_test.go TestCheckRoleForNamespace")
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void checkRoleForNamespace(String test, boolean restrictions, String defaultArn, String namespace, String namespaceAnnotation,
                               String roleArn, String format, boolean expected) {
        Map<String, String> nsAnnotations = new HashMap<>();
        if (namespaceAnnotation != null) {
            nsAnnotations.put(NAMESPACE_KEY, namespaceAnnotation);
        }
        Optional<NamespaceInfo> ns = namespace.isEmpty() ? Optional.empty() : Optional.of(new NamespaceInfo(namespace, nsAnnotations));
        RoleDecision d = new RolePolicy(settings(defaultArn, restrictions, format))
                .decide(pod(namespace.isEmpty() ? "elsewhere" : namespace, Map.of(ROLE_KEY, roleArn)), ns);
        if (expected) {
            assertEquals(roleArn, assertInstanceOf(RoleDecision.Allowed.class, d, d.toString()).arn().text());
        } else {
            assertEquals(403, assertInstanceOf(RoleDecision.Denied.class, d, d.toString()).httpStatus());
        }
    }

    // --- iam/arn_test.go TestIsValidBaseARN / TestIsValidBaseARNWithInvalid ---

    @DisplayName("arn_test.go TestIsValidBaseARN: accepted as kube2iam does")
    @ParameterizedTest
    @ValueSource(strings = {"arn:aws:iam::123456789012:role/path", "arn:aws:iam::123456789012:role/path/",
            "arn:aws:iam::123456789012:role/path/sub-path", "arn:aws:iam::123456789012:role/path/sub_path",
            "arn:aws:iam::123456789012:role", "arn:aws:iam::123456789012:role/", "arn:aws-us-gov:iam::123456789012:role"})
    void validBaseArns(String base) {
        RoleArn.Base parsed = RoleArn.Base.parse(base);
        assertTrue(parsed.text().endsWith("/"), "a base always ends in '/': " + parsed);
        assertEquals(parsed.text() + "x", parsed.withName("x").text());
    }

    /**
     * Difference kept on purpose: kube2iam's regexp also accepts these three, which are no prefix of any role ARN
     * ("...:role-partNAME"); iamlet refuses them at start-up, naming the expected form.
     */
    @DisplayName("arn_test.go TestIsValidBaseARN: 'role-part', 'role_part', 'role_123' refused (difference)")
    @ParameterizedTest
    @ValueSource(strings = {"arn:aws:iam::123456789012:role-part", "arn:aws:iam::123456789012:role_part", "arn:aws:iam::123456789012:role_123"})
    void basesThatAreNoRolePrefixAreRefused(String base) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RoleArn.Base.parse(base));
        assertTrue(e.getMessage().contains("arn:aws:iam::ACCOUNT_ID:role/"), e.getMessage());
    }

    @DisplayName("arn_test.go TestIsValidBaseARNWithInvalid")
    @ParameterizedTest
    @ValueSource(strings = {"arn:aws:iam::123456789012::role/path", "arn:aws:iam:us-east-1:123456789012:role/path",
            "arn:aws:s3::123456789012:role/path", "arn:aws:iam::123456789012:role/$", "arn:aws:iam::12345-6789012:role/",
            "arn:aws:iam::abcdef:role/", "arn:aws:iam:::role"})
    void invalidBaseArns(String base) {
        assertThrows(IllegalArgumentException.class, () -> RoleArn.Base.parse(base));
    }

    /** iam/arn.go RoleARN(): the "arn:" prefix is compared case-insensitively. */
    @DisplayName("arn.go RoleARN: an upper-case ARN: prefix is a full ARN")
    @ParameterizedTest
    @ValueSource(strings = {"ARN:aws:iam::999999999999:role/upper", "Arn:aws:iam::999999999999:role/upper"})
    void upperCaseArnPrefix(String annotation) {
        RoleDecision d = new RolePolicy(settings(null, false, null)).decide(pod("default", Map.of(ROLE_KEY, annotation)), Optional.empty());
        assertEquals("arn:aws:iam::999999999999:role/upper", assertInstanceOf(RoleDecision.Allowed.class, d, d.toString()).arn().text());
    }

    // --- namespace_test.go TestGetNamespaceRoleAnnotation ---

    /**
     * kube2iam reads an empty or malformed annotation as an empty list, so nothing but the default role is allowed.
     * iamlet refuses the same roles and says why (malformed annotation named in the 403's reason).
     */
    @DisplayName("namespace_test.go TestGetNamespaceRoleAnnotation")
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void namespaceRoleAnnotation(String test, String annotation, List<String> expected) {
        RolePolicy policy = new RolePolicy(settings(null, true, "glob"));
        Optional<NamespaceInfo> ns = Optional.of(new NamespaceInfo("team", Map.of(NAMESPACE_KEY, annotation)));
        for (String role : List.of("test-something", "test-another", "unlisted")) {
            RoleDecision d = policy.decide(pod("team", Map.of(ROLE_KEY, role)), ns);
            assertEquals(expected.contains(role), d instanceof RoleDecision.Allowed, role + ": " + d);
        }
    }

    static Stream<Arguments> namespaceRoleAnnotation() {
        return Stream.of(
                Arguments.of("Empty string", "", List.of()),
                Arguments.of("Malformed string", "something maleformed here", List.of()),
                Arguments.of("Single entity array", "[\"test-something\"]", List.of("test-something")),
                Arguments.of("Multi-element array", "[\"test-something\",\"test-another\"]", List.of("test-something", "test-another")));
    }

    // --- the route's comparison (server.go: RoleARN(wanted) == pod's role ARN) ---

    @DisplayName("server.go roleHandler: the wanted role is compared after making it an ARN")
    @ParameterizedTest
    @ValueSource(strings = {"reader", "arn:aws:iam::123456789012:role/reader", "ARN:aws:iam::123456789012:role/reader"})
    void wantedRoleIsNormalised(String wanted) {
        RolePolicy policy = new RolePolicy(settings(null, false, null));
        assertEquals(Optional.of("arn:aws:iam::123456789012:role/reader"), policy.normalise(wanted).map(RoleArn::text));
    }
}
