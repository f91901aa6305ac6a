package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.iamlet.control.testing.Pods;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A sandbox pod with its Pod object (on the sandbox's node, with a service account) and its projected token in a
 * file, as the kubelet writes it: what a pod that uses container credentials has.
 */
record TokenPod(SandboxPod net, Pod object, Path tokenFile) {
    static final String HOST = "169.254.170.23";
    static final String ENDPOINT = "http://" + HOST + "/v1/credentials";

    /** Plugs the pod, creates its Pod object (role annotation left out when null) and writes its token (audience iamlet). */
    static TokenPod create(Sandbox sandbox, InterfaceStyle style, String namespace, String name, String serviceAccount, String role)
            throws Exception {
        SandboxPod net = sandbox.plugPod(style);
        return create(sandbox, net, namespace, name, serviceAccount, role, net.ip());
    }

    /** The Pod object and token for a plugged pod whose status lists these addresses (an IPv6 one with its IPv4 one). */
    static TokenPod create(Sandbox sandbox, SandboxPod net, String namespace, String name, String serviceAccount, String role,
                           String... ips) throws Exception {
        Pod pod = new PodBuilder(Pods.pod(namespace, name, Sandbox.NODE_NAME, "Running",
                role == null ? Map.of() : Map.of("iam.amazonaws.com/role", role), ips))
                .editSpec().withServiceAccountName(serviceAccount).endSpec().build();
        pod = sandbox.createPodObject(net, pod);
        Path token = sandbox.home().resolve(name + ".token");
        Files.writeString(token, sandbox.api().tokens().token(pod, "iamlet"));
        return new TokenPod(net, pod, token);
    }

    /** The two variables EKS Pod Identity sets, and nothing else. */
    Map<String, String> env() {
        return Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI", ENDPOINT, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile.toString());
    }
}
