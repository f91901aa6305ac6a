package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Real AWS clients run inside a pod's namespace with a clean environment, so the only way they can find
 * credentials is the one a pod has: the instance metadata service at 169.254.169.254.
 */
public final class PodClients {
    private static final String BOTOCORE = """
            import botocore.session, sys
            session = botocore.session.get_session()
            credentials = session.get_credentials()
            if credentials is None:
                sys.exit("botocore found no credentials")
            sts = session.create_client("sts", region_name="eu-west-1", endpoint_url=sys.argv[1])
            print("AccessKeyId=" + credentials.access_key)
            print("Method=" + credentials.method)
            print("Arn=" + sts.get_caller_identity()["Arn"])
            """;

    private PodClients() {
    }

    /** `aws ARGS` (Debian's AWS CLI v2) in the pod, pointed at the sandbox's STS. */
    public static Command.Result awsCli(Sandbox sandbox, SandboxPod pod, String... args) {
        List<String> command = new ArrayList<>(List.of("/usr/bin/aws"));
        command.addAll(List.of(args));
        command.addAll(List.of("--endpoint-url", "http://" + Sandbox.STS_IP, "--output", "json"));
        return inPod(sandbox, pod, command);
    }

    /** botocore's own credential chain in the pod, then GetCallerIdentity with what it found. */
    public static Command.Result botocore(Sandbox sandbox, SandboxPod pod) {
        return inPod(sandbox, pod, List.of("/usr/bin/python3", "-c", BOTOCORE, "http://" + Sandbox.STS_IP));
    }

    /** {@link SdkClient}: the AWS SDK for Java v2's default chain in a JVM of its own inside the pod. */
    public static Command.Result javaSdk(Sandbox sandbox, SandboxPod pod) {
        return inPod(sandbox, pod, TestJvm.command(SdkClient.class, "http://" + Sandbox.STS_IP));
    }

    /** `aws sts get-caller-identity` with extra environment. */
    public static Command.Result awsCli(Sandbox sandbox, SandboxPod pod, Map<String, String> env) {
        return inPod(sandbox, pod, env, List.of("/usr/bin/aws", "sts", "get-caller-identity", "--endpoint-url", "http://" + Sandbox.STS_IP,
                "--output", "json"));
    }

    /** botocore's chain with extra environment, such as the two container-credentials variables. */
    public static Command.Result botocore(Sandbox sandbox, SandboxPod pod, Map<String, String> env) {
        return inPod(sandbox, pod, env, List.of("/usr/bin/python3", "-c", BOTOCORE, "http://" + Sandbox.STS_IP));
    }

    /** {@link SdkClient} with extra environment, such as the two container-credentials variables. */
    public static Command.Result javaSdk(Sandbox sandbox, SandboxPod pod, Map<String, String> env) {
        return inPod(sandbox, pod, env, TestJvm.command(SdkClient.class, "http://" + Sandbox.STS_IP));
    }

    /** The AWS SDK for JavaScript v3's default chain (test-e2e/src/test/js/container-client) in the pod, with node. */
    public static Command.Result nodeSdk(Sandbox sandbox, SandboxPod pod, Path client, Map<String, String> env) {
        return inPod(sandbox, pod, env, List.of("/usr/bin/node", client.toString(), "http://" + Sandbox.STS_IP));
    }

    /** A Go SDK client ({@link GoClients}: its default chain, then GetCallerIdentity) in the pod, with extra environment. */
    public static Command.Result goSdk(Sandbox sandbox, SandboxPod pod, Path client, Map<String, String> env) {
        return inPod(sandbox, pod, env, List.of(client.toString(), "http://" + Sandbox.STS_IP));
    }

    /** curl in the pod: what a shell script in a container would do. */
    public static Command.Result curl(Sandbox sandbox, SandboxPod pod, String... args) {
        List<String> command = new ArrayList<>(List.of("/usr/bin/curl", "-sS", "--max-time", "5"));
        command.addAll(List.of(args));
        return inPod(sandbox, pod, command);
    }

    private static Command.Result inPod(Sandbox sandbox, SandboxPod pod, List<String> command) {
        return inPod(sandbox, pod, Map.of(), command);
    }

    private static Command.Result inPod(Sandbox sandbox, SandboxPod pod, Map<String, String> env, List<String> command) {
        String home = sandbox.home().toString();
        List<String> full = new ArrayList<>(List.of("env", "-i",
                "HOME=" + home, "PATH=/usr/bin:/bin", "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1",
                "AWS_CONFIG_FILE=" + home + "/no-config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/no-credentials",
                "AWS_PAGER=", "AWS_METADATA_SERVICE_TIMEOUT=5", "AWS_METADATA_SERVICE_NUM_ATTEMPTS=2"));
        env.forEach((k, v) -> full.add(k + "=" + v));
        full.addAll(command);
        return Command.run(Duration.ofSeconds(90), sandbox.inPod(pod, full));
    }
}
