package io.iamlet.agent.cli;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.KubeClients;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * `iamlet readiness`: asks the agent on every node of its DaemonSet for /readyz, as `helm test` runs it. It lives in
 * the agent because the image holds no other HTTPS or Kubernetes client (bash, coreutils and sed only).
 */
final class ReadinessCommand implements Subcommand {
    private static final List<Flags.Spec> FLAGS = List.of(
            Flags.Spec.string("daemonset", null, "the agent's DaemonSet (required)"),
            Flags.Spec.string("namespace", null, "its namespace (default: POD_NAMESPACE)"),
            Flags.Spec.string("port", "8182", "the agents' metrics port, where /readyz answers"),
            Flags.Spec.string("timeout", "5s", "how long each agent may take to answer"),
            Flags.Spec.string("kubeconfig", null, "a kubeconfig file (default: the pod's service account)"),
            Flags.Spec.string("api-server", null, "the API server's URL, with --api-token"),
            Flags.Spec.string("api-token", null, "a bearer token for --api-server"),
            Flags.Spec.bool("insecure", "do not check the API server's certificate"));

    private final PrintStream out;
    private final Map<String, String> env;

    ReadinessCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    public String name() {
        return "readiness";
    }

    public String summary() {
        return "ask the agent on every node of its DaemonSet for /readyz (helm test)";
    }

    public String usage() {
        return "Usage: iamlet readiness --daemonset=NAME [flags]\n\nLists the DaemonSet's pods through the API (RBAC: get daemonsets, list pods in its namespace),\n"
                + "asks each pod's node (hostIP:port) for /readyz, and prints one line per node. Exit 0 when the DaemonSet\n"
                + "has a pod on every node it should and every agent answers 200; 1 otherwise.\n\n" + Flags.describe(FLAGS);
    }

    public int run(List<String> args) {
        Flags f = Flags.parse(FLAGS, args);
        if (!f.positional().isEmpty()) {
            throw new UsageException("readiness takes no arguments, only flags");
        }
        String name = f.get("daemonset").orElseThrow(() -> new UsageException("--daemonset is required"));
        String namespace = f.get("namespace").or(() -> Optional.ofNullable(env.get("POD_NAMESPACE")))
                .orElseThrow(() -> new UsageException("--namespace (or POD_NAMESPACE) is required"));
        int port = f.integer("port");
        Duration timeout = Durations.parse(f.require("timeout"), "timeout");
        try (KubernetesClient kube = KubeClients.create(RunCommand.apiSettings(f));
             HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build()) {
            DaemonSet ds = kube.apps().daemonSets().inNamespace(namespace).withName(name).get();
            if (ds == null) {
                throw new CommandFailure(ExitCode.FAILED, "no DaemonSet " + namespace + "/" + name + " (check --daemonset and --namespace)", null);
            }
            List<Pod> pods = podsOf(kube, ds);
            List<String> problems = new ArrayList<>();
            Set<String> nodes = new TreeSet<>();
            for (Pod pod : pods) {
                String node = Optional.ofNullable(pod.getSpec().getNodeName()).orElse("(unscheduled)");
                String hostIp = pod.getStatus() == null ? null : pod.getStatus().getHostIP();
                if (hostIp == null || hostIp.isEmpty()) {
                    problems.add(node);
                    out.printf("fail %s pod %s has no host IP yet (phase %s)%n", node, pod.getMetadata().getName(),
                            pod.getStatus() == null ? "unknown" : pod.getStatus().getPhase());
                    continue;
                }
                nodes.add(node);
                if (!ready(http, node, hostIp, port, timeout)) {
                    problems.add(node);
                }
            }
            problems.addAll(daemonSetProblems(ds, pods));
            out.println(problems.isEmpty()
                    ? "readiness: " + nodes.size() + " of " + nodes.size() + " agents ready (" + String.join(", ", nodes) + ")"
                    : "readiness: not ready: " + problems.stream().distinct().collect(Collectors.joining(", ")));
            return problems.isEmpty() ? ExitCode.OK : ExitCode.FAILED;
        }
    }

    /** The DaemonSet's pods that are not being deleted, by node name. */
    private static List<Pod> podsOf(KubernetesClient kube, DaemonSet ds) {
        return kube.pods().inNamespace(ds.getMetadata().getNamespace()).withLabels(ds.getSpec().getSelector().getMatchLabels()).list()
                .getItems().stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .sorted(Comparator.comparing(p -> String.valueOf(p.getSpec().getNodeName()))).toList();
    }

    /** Asks the agent on one node for /readyz and prints the node's line. */
    private boolean ready(HttpClient http, String node, String hostIp, int port, Duration timeout) {
        String host = hostIp.contains(":") ? "[" + hostIp + "]" : hostIp;
        URI uri = URI.create("http://" + host + ":" + port + "/readyz");
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                out.printf("ok   %s %s /readyz 200%n", node, hostIp);
                return true;
            }
            out.printf("fail %s %s /readyz %d: %s%n", node, hostIp, r.statusCode(), r.body().strip());
            return false;
        } catch (IOException e) {
            out.printf("fail %s %s /readyz: %s (is the agent running, and port %d open between nodes?)%n", node, hostIp,
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), port);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure(ExitCode.FAILED, "interrupted", e);
        }
    }

    /** Pods the DaemonSet lacks (printed), as problems. */
    private List<String> daemonSetProblems(DaemonSet ds, List<Pod> pods) {
        String namespace = ds.getMetadata().getNamespace();
        String name = ds.getMetadata().getName();
        List<String> problems = new ArrayList<>();
        Integer desired = ds.getStatus() == null ? null : ds.getStatus().getDesiredNumberScheduled();
        if (desired != null && pods.size() < desired) {
            problems.add("missing pods");
            out.printf("fail the DaemonSet should run on %d nodes, it has %d pods (kubectl -n %s describe ds/%s)%n", desired, pods.size(), namespace, name);
        }
        if (pods.isEmpty()) {
            problems.add("no pods");
            out.printf("fail the DaemonSet %s/%s has no pods%n", namespace, name);
        }
        return problems;
    }
}
