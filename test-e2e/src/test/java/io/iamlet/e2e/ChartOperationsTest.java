package io.iamlet.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The chart's operations side: its values schema (bad values refused, the reference in docs generated from it),
 * each value of #23 changing the render as values.yaml says, the monitoring objects, the alert rules checked and
 * unit-tested by Debian's promtool, the dashboard's queries parsed by promtool, and `helm test`'s pod.
 */
class ChartOperationsTest {
    private static final Path ROOT = Launcher.repositoryRoot();
    private static final Path RULES = Chart.DIR.resolve("rules/iamlet.rules.yaml");
    private static final Path RULE_TESTS = ROOT.resolve("test-e2e/src/test/resources/prometheus/iamlet.rules.test.yaml");
    private static final Path DASHBOARD = Chart.DIR.resolve("dashboards/iamlet.json");
    private static final Path VALUES_REFERENCE = ROOT.resolve("docs/chart-values.md");
    private static final Path RUNBOOKS = ROOT.resolve("docs/runbooks.md");
    private static final YAMLMapper YAML = new YAMLMapper();

    private static DaemonSet daemonSet(Map<String, String> values) throws IOException {
        return Chart.one(Chart.objects(Chart.render(values)), DaemonSet.class);
    }

    private static <T> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static GenericKubernetesResource custom(List<HasMetadata> objects, String kind) {
        List<GenericKubernetesResource> found = all(objects, GenericKubernetesResource.class).stream().filter(r -> r.getKind().equals(kind)).toList();
        assertEquals(1, found.size(), kind + " in " + objects);
        return found.getFirst();
    }

    @Test
    void theSchemaRefusesBadValuesNamingThem() {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("backend", "bpf");
        bad.put("appPort", "70000");
        bad.put("hostInterfce", "eni+");
        bad.put("imdsV2", "maybe");
        bad.put("onExit", "\"sometimes\"");
        bad.put("metrics", "{podMonitor: {enabled: \"yes\"}}");
        bad.put("imagePullSecrets", "[regcred]");
        bad.put("extraArgs", "[\"iam-role-error-ttl=30s\"]");
        bad.put("livenessProbe", "{periodSeconds: 0}");
        bad.put("sessionDuration", "one hour");
        for (var e : bad.entrySet()) {
            Exception refused = assertThrows(Exception.class, () -> Chart.render(Map.of(e.getKey(), e.getValue())), e.toString());
            assertTrue(refused.getMessage().contains("values don't meet the specifications of the schema"), e + ": " + refused.getMessage());
            assertTrue(refused.getMessage().contains(e.getKey()), e + " is named: " + refused.getMessage());
        }
    }

    @Test
    void eachOperationsValueChangesTheRenderAsDocumented() throws Exception {
        PodSpec defaults = daemonSet(Map.of()).getSpec().getTemplate().getSpec();
        assertEquals("RuntimeDefault", defaults.getSecurityContext().getSeccompProfile().getType());
        assertTrue(defaults.getImagePullSecrets().isEmpty());
        Container dc = defaults.getContainers().getFirst();
        assertEquals(10, dc.getLivenessProbe().getPeriodSeconds());
        assertEquals(6, dc.getLivenessProbe().getFailureThreshold());
        assertEquals(5, dc.getReadinessProbe().getPeriodSeconds());

        Map<String, String> values = new LinkedHashMap<>();
        values.put("imagePullSecrets", "[{name: regcred}]");
        values.put("podLabels", "{team: platform}");
        values.put("podAnnotations", "{cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"}");
        values.put("extraEnv", "[{name: HTTPS_PROXY, value: \"http://proxy:3128\"}]");
        values.put("extraArgs", "[\"--iam-role-error-ttl=30s\"]");
        values.put("livenessProbe", "{periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 4, initialDelaySeconds: 5}");
        values.put("readinessProbe", "{periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 7, initialDelaySeconds: 1}");
        DaemonSet ds = daemonSet(values);
        var template = ds.getSpec().getTemplate();
        assertEquals("regcred", template.getSpec().getImagePullSecrets().getFirst().getName());
        assertEquals("platform", template.getMetadata().getLabels().get("team"));
        assertFalse(ds.getSpec().getSelector().getMatchLabels().containsKey("team"), "the selector stays the chart's: it cannot change on upgrade");
        assertEquals("false", template.getMetadata().getAnnotations().get("cluster-autoscaler.kubernetes.io/safe-to-evict"));
        Container c = template.getSpec().getContainers().getFirst();
        assertTrue(c.getEnv().stream().anyMatch(e -> e.getName().equals("HTTPS_PROXY") && e.getValue().equals("http://proxy:3128")), c.getEnv().toString());
        assertEquals("--iam-role-error-ttl=30s", c.getArgs().getLast());
        var live = c.getLivenessProbe();
        assertEquals(List.of(20, 3, 4, 5), List.of(live.getPeriodSeconds(), live.getTimeoutSeconds(), live.getFailureThreshold(), live.getInitialDelaySeconds()));
        assertEquals("/healthz", live.getHttpGet().getPath(), "timing only: the path stays the agent's");
        var ready = c.getReadinessProbe();
        assertEquals(List.of(2, 2, 7, 1), List.of(ready.getPeriodSeconds(), ready.getTimeoutSeconds(), ready.getFailureThreshold(), ready.getInitialDelaySeconds()));
        assertEquals("/readyz", ready.getHttpGet().getPath());
    }

    @Test
    void monitoringIsOptInAndScrapesTheMetricsPortOrKube2iamsSinglePort() throws Exception {
        List<HasMetadata> plain = Chart.objects(Chart.render(Map.of()));
        assertTrue(all(plain, GenericKubernetesResource.class).isEmpty() && all(plain, Service.class).isEmpty() && all(plain, ConfigMap.class).isEmpty(),
                "nothing of monitoring by default: " + plain);

        String everything = "{podMonitor: {enabled: true, labels: {release: prom}}, serviceMonitor: {enabled: true, interval: 15s},"
                + " prometheusRule: {enabled: true}, dashboard: {enabled: true}}";
        List<HasMetadata> objects = Chart.objects(Chart.render(Map.of("metrics", everything)));
        GenericKubernetesResource podMonitor = custom(objects, "PodMonitor");
        assertEquals("prom", podMonitor.getMetadata().getLabels().get("release"));
        JsonNode pm = YAML.valueToTree(podMonitor.getAdditionalProperties().get("spec"));
        assertEquals("metrics", pm.at("/podMetricsEndpoints/0/port").asText());
        assertEquals("/metrics", pm.at("/podMetricsEndpoints/0/path").asText());
        DaemonSet ds = Chart.one(objects, DaemonSet.class);
        assertEquals(ds.getSpec().getSelector().getMatchLabels(), YAML.convertValue(pm.at("/selector/matchLabels"), Map.class));
        Container c = ds.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertEquals(8182, c.getPorts().stream().filter(p -> p.getName().equals("metrics")).findFirst().orElseThrow().getContainerPort());

        Service service = Chart.one(objects, Service.class);
        assertEquals("None", service.getSpec().getClusterIP());
        assertEquals(8182, service.getSpec().getPorts().getFirst().getTargetPort().getIntVal());
        assertEquals(ds.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector());
        JsonNode sm = YAML.valueToTree(custom(objects, "ServiceMonitor").getAdditionalProperties().get("spec"));
        assertEquals(service.getSpec().getPorts().getFirst().getName(), sm.at("/endpoints/0/port").asText());
        assertEquals("15s", sm.at("/endpoints/0/interval").asText());
        Map<?, ?> smSelector = YAML.convertValue(sm.at("/selector/matchLabels"), Map.class);
        assertTrue(service.getMetadata().getLabels().entrySet().containsAll(smSelector.entrySet()), "the ServiceMonitor selects the Service");

        // A kube2iam ServiceMonitor scraped 8181: with metricsPort = appPort the agent serves /metrics there again.
        List<HasMetadata> single = Chart.objects(Chart.render(Map.of("metricsPort", "8181", "metrics", everything)));
        JsonNode pmSingle = YAML.valueToTree(custom(single, "PodMonitor").getAdditionalProperties().get("spec"));
        Container sc = Chart.one(single, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertEquals(List.of("metadata"), sc.getPorts().stream().map(p -> p.getName()).toList());
        assertEquals("metadata", pmSingle.at("/podMetricsEndpoints/0/port").asText());
        assertEquals(8181, Chart.one(single, Service.class).getSpec().getPorts().getFirst().getPort());

        ConfigMap dashboard = Chart.one(objects, ConfigMap.class);
        assertEquals("1", dashboard.getMetadata().getLabels().get("grafana_dashboard"), "Grafana's sidecar picks up this label");
        assertEquals(new ObjectMapper().readTree(Files.readString(DASHBOARD)), new ObjectMapper().readTree(dashboard.getData().get("iamlet.json")));
    }

    /** The rendered PrometheusRule is the rule file's groups, each alert's runbook_url an anchor docs/runbooks.md has. */
    @Test
    void thePrometheusRuleIsTheRuleFileWithRunbooksThatExist() throws Exception {
        String base = "https://runbooks.example.com/iamlet.md";
        List<HasMetadata> objects = Chart.objects(Chart.render(Map.of("metrics", "{prometheusRule: {enabled: true, runbookBaseUrl: \"" + base + "\"}}")));
        JsonNode spec = YAML.valueToTree(custom(objects, "PrometheusRule").getAdditionalProperties().get("spec"));
        JsonNode file = YAML.readTree(RULES.toFile());
        String runbooks = Files.readString(RUNBOOKS);
        List<String> alerts = new ArrayList<>();
        for (int g = 0; g < file.get("groups").size(); g++) {
            JsonNode fileRules = file.get("groups").get(g).get("rules");
            JsonNode rendered = spec.get("groups").get(g).get("rules");
            assertEquals(fileRules.size(), rendered.size());
            for (int r = 0; r < fileRules.size(); r++) {
                ObjectNode expected = fileRules.get(r).deepCopy();
                String alert = expected.get("alert").asText();
                alerts.add(alert);
                String anchor = alert.toLowerCase();
                assertTrue(expected.at("/annotations/runbook_url").asText().endsWith("docs/runbooks.md#" + anchor), alert);
                assertTrue(runbooks.contains("<a id=\"" + anchor + "\"></a>"), "docs/runbooks.md has no anchor " + anchor);
                ((ObjectNode) expected.get("annotations")).put("runbook_url", base + "#" + anchor);
                assertEquals(expected, rendered.get(r), alert);
            }
        }
        assertEquals(List.of("IamletAgentDown", "IamletAgentNotReady", "IamletWatchDown", "IamletWatchStale", "IamletAssumeRoleFailures",
                "IamletHighErrorRate", "IamletConnectionCapsHit", "IamletRedirectMissing", "IamletRedirectUnexpected"), alerts);
        // What the operator's Prometheus would load, checked by Prometheus's own tool.
        Path renderedFile = Files.createTempFile("iamlet-rendered-rules", ".yaml");
        try {
            YAML.writeValue(renderedFile.toFile(), spec);
            promtool("check", "rules", renderedFile.toString());
        } finally {
            Files.deleteIfExists(renderedFile);
        }
    }

    /** Every alert fires in its test and is quiet before (the test file's cases), by promtool's own evaluation. */
    @Test
    void promtoolChecksTheRulesAndEveryAlertFiresAndStaysQuietInItsUnitTest() throws Exception {
        promtool("check", "rules", RULES.toString());
        JsonNode tests = YAML.readTree(RULE_TESTS.toFile());
        List<String> quiet = new ArrayList<>();
        List<String> firing = new ArrayList<>();
        for (JsonNode t : tests.get("tests")) {
            for (JsonNode a : t.get("alert_rule_test")) {
                (a.get("exp_alerts").isEmpty() ? quiet : firing).add(a.get("alertname").asText());
            }
        }
        List<String> alerts = new ArrayList<>();
        YAML.readTree(RULES.toFile()).get("groups").forEach(g -> g.get("rules").forEach(r -> alerts.add(r.get("alert").asText())));
        assertEquals(alerts, firing, "one firing case per alert");
        assertEquals(alerts, quiet, "one quiet case per alert");
        Command.Result r = promtool("test", "rules", RULE_TESTS.toString());
        assertTrue(r.stdout().contains("SUCCESS"), r.output());
    }

    /** Every panel's query is PromQL Prometheus accepts (as recording rules); ObservabilityE2eTest evaluates them on scraped data. */
    @Test
    void everyDashboardQueryParses() throws Exception {
        List<String> queries = Chart.dashboardQueries();
        assertTrue(queries.size() >= 12, queries.toString());
        StringBuilder file = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < queries.size(); i++) {
            file.append("      - record: dashboard:query").append(i).append("\n        expr: ").append(new ObjectMapper().writeValueAsString(queries.get(i))).append('\n');
        }
        Path rules = Files.createTempFile("iamlet-dashboard", ".yaml");
        try {
            Files.writeString(rules, file);
            promtool("check", "rules", rules.toString());
        } finally {
            Files.deleteIfExists(rules);
        }
    }

    /**
     * `helm test` asks every node's agent: its pod runs `iamlet readiness` for the release's DaemonSet, with a
     * ServiceAccount that may get that DaemonSet and list pods in the release's namespace and nothing else (created
     * before the pod: lower hook weight). ImageE2eTest runs the pod's command from the image against the sandbox.
     */
    @Test
    void helmTestAsksTheAgentOnEveryNodeWithItsOwnNarrowRbac() throws Exception {
        Map<String, String> values = Map.of("metricsPort", "9102", "imagePullSecrets", "[{name: regcred}]", "nameOverride", "node-iam");
        assertFalse(Chart.render(values).contains(Chart.TESTS_SOURCE), "helm leaves the test hooks out of the release");
        String source = Files.readString(Chart.DIR.resolve("templates/tests/readiness.yaml"));
        List<HasMetadata> tests = Chart.tests(values);
        assertEquals(List.of("ServiceAccount", "Role", "RoleBinding", "Pod"), tests.stream().map(HasMetadata::getKind).toList());
        // Each document is a test hook; the pod's prerequisites come first (weight -1), all deleted once the test passed.
        List<String> docs = List.of(source.split("(?m)^---\\s*$"));
        assertEquals(4, docs.size());
        for (int i = 0; i < docs.size(); i++) {
            assertTrue(docs.get(i).contains("helm.sh/hook: test"), docs.get(i));
            assertTrue(docs.get(i).contains("helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded"), docs.get(i));
            assertEquals(i < 3, docs.get(i).contains("helm.sh/hook-weight: \"-1\""), docs.get(i));
        }
        for (HasMetadata o : tests) {
            assertEquals("kube-system", o.getMetadata().getNamespace(), o.getKind());
        }
        Role role = all(tests, Role.class).getFirst();
        assertEquals(2, role.getRules().size(), role.toString());
        assertEquals(List.of("apps"), role.getRules().get(0).getApiGroups());
        assertEquals(List.of("daemonsets"), role.getRules().get(0).getResources());
        assertEquals(List.of("iamlet-node-iam"), role.getRules().get(0).getResourceNames(), "only the release's DaemonSet");
        assertEquals(List.of("get"), role.getRules().get(0).getVerbs());
        assertEquals(List.of(""), role.getRules().get(1).getApiGroups());
        assertEquals(List.of("pods"), role.getRules().get(1).getResources());
        assertEquals(List.of("list"), role.getRules().get(1).getVerbs());
        RoleBinding binding = all(tests, RoleBinding.class).getFirst();
        ServiceAccount account = all(tests, ServiceAccount.class).getFirst();
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals(account.getMetadata().getName(), binding.getSubjects().getFirst().getName());
        assertEquals("kube-system", binding.getSubjects().getFirst().getNamespace());

        Pod pod = all(tests, Pod.class).getFirst();
        assertEquals(account.getMetadata().getName(), pod.getSpec().getServiceAccountName());
        assertNotEquals(Boolean.FALSE, pod.getSpec().getAutomountServiceAccountToken(), "the API token is mounted");
        assertTrue(pod.getSpec().getHostNetwork(), "the agent refuses its management port to pods of its node");
        assertEquals("regcred", pod.getSpec().getImagePullSecrets().getFirst().getName());
        Container c = pod.getSpec().getContainers().getFirst();
        DaemonSet ds = daemonSet(Map.of("nameOverride", "node-iam"));
        assertEquals(ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage(), c.getImage());
        assertEquals(List.of("/opt/iamlet/bin/iamlet", "readiness", "--daemonset=" + ds.getMetadata().getName(), "--namespace=kube-system",
                "--port=9102"), c.getCommand());
        assertEquals("iamlet-node-iam", ds.getMetadata().getName());
    }

    /** NOTES.txt tells operators to run doctor with no flag: OperationsE2eTest runs it so and it checks the running agent. */
    @Test
    void notesTellOperatorsToRunDoctorAsTheTestsRunIt() throws Exception {
        String notes = Files.readString(Chart.DIR.resolve("templates/NOTES.txt"));
        assertTrue(notes.lines().anyMatch(l -> l.strip().endsWith("-- /opt/iamlet/bin/iamlet doctor")), notes);
        assertTrue(notes.contains("hostNetwork and NET_ADMIN"), "the Pod Security note: " + notes);
    }

    /** docs/chart-values.md is generated from values.schema.json and values.yaml (-Diamlet.writeChartValues=true rewrites it). */
    @Test
    void theValuesReferenceIsGeneratedFromTheSchema() throws Exception {
        String expected = valuesReference();
        if (Boolean.getBoolean("iamlet.writeChartValues")) {
            Files.writeString(VALUES_REFERENCE, expected);
        }
        assertEquals(expected, Files.readString(VALUES_REFERENCE),
                "docs/chart-values.md is out of date: run ChartOperationsTest with -Diamlet.writeChartValues=true");
        JsonNode values = YAML.readTree(Chart.DIR.resolve("values.yaml").toFile());
        JsonNode schema = new ObjectMapper().readTree(Chart.DIR.resolve("values.schema.json").toFile());
        for (Iterator<String> it = values.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            assertTrue(schema.get("properties").has(key), "values.yaml's " + key + " is not in values.schema.json");
        }
    }

    private static String valuesReference() throws IOException {
        JsonNode schema = new ObjectMapper().readTree(Chart.DIR.resolve("values.schema.json").toFile());
        JsonNode values = YAML.readTree(Chart.DIR.resolve("values.yaml").toFile());
        StringBuilder out = new StringBuilder("""
                # Chart values

                Generated from `deploy/helm/iamlet/values.schema.json` and the defaults in `values.yaml` by
                ChartOperationsTest; edit those, not this. Helm refuses values the schema does not allow (an unknown key,
                a wrong type, a value outside its list) and names them.

                | value | type | default | description |
                | --- | --- | --- | --- |
                """);
        walk(schema, values, "", out);
        return out.toString();
    }

    private static void walk(JsonNode schema, JsonNode values, String prefix, StringBuilder out) throws IOException {
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.get("properties").fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode s = e.getValue();
            JsonNode v = values == null ? null : values.get(e.getKey());
            String type = s.get("type").isArray() ? String.join(" or ", YAML.convertValue(s.get("type"), List.class)) : s.get("type").asText();
            String allowed = s.has("enum") ? " One of: " + String.join(", ", YAML.convertValue(s.get("enum"), List.class)) + "." : "";
            String shown = v == null || v.isNull() ? "" : "`" + new ObjectMapper().writeValueAsString(v).replace("|", "\\|") + "`";
            if (s.has("properties") && v != null && v.isObject()) {
                shown = "";
            }
            out.append("| `").append(prefix).append(e.getKey()).append("` | ").append(type).append(" | ").append(shown).append(" | ")
                    .append(s.get("description").asText().replace("|", "\\|")).append(allowed).append(" |\n");
            if (s.has("properties")) {
                walk(s, v, prefix + e.getKey() + ".", out);
            }
        }
    }

    private static Command.Result promtool(String... args) {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Command.Result r = Command.run(command.toArray(String[]::new));
        assertEquals(0, r.exitCode(), "promtool " + String.join(" ", args) + " (Debian's prometheus package, bin/install-deps):\n" + r.output());
        return r;
    }
}
