package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;

import java.util.Map;

/**
 * The README's first command (bin/demo): builds the sandbox, starts the real agent, and shows what it does
 * for pods, checking each step as it goes. Exits 1 with the reason when something does not behave.
 */
public final class SandboxDemo {
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/";

    private SandboxDemo() {
    }

    public static void main(String[] args) {
        try {
            run();
            System.exit(0);
        } catch (DemoFailure e) {
            System.out.println();
            System.out.println("demo FAILED: " + e.getMessage());
            System.exit(1);
        } catch (Exception | AssertionError e) {
            System.out.println();
            System.out.println("demo FAILED: " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }

    private static final class DemoFailure extends RuntimeException {
        DemoFailure(String message) {
            super(message);
        }
    }

    private static void expect(boolean ok, String what, String detail) {
        if (!ok) {
            throw new DemoFailure(what + "\n" + detail);
        }
    }

    private static void step(String title) {
        System.out.println();
        System.out.println("==> " + title);
    }

    private static void show(String text) {
        text.strip().lines().forEach(l -> System.out.println("    " + (l.startsWith("\t") ? "  " + l.strip() : l)));
    }

    private static void run() throws Exception {
        step("Building a small cluster out of network namespaces");
        try (Sandbox sandbox = Sandbox.start().closeOnExit()) {
            show("""
                    world  fake instance metadata service at 169.254.169.254 (node role %s, IMDSv2, user-data)
                           fake STS at http://%s, fake Kubernetes API at http://%s:6443
                    node   host IP %s, forwards for its pods""".formatted(Sandbox.NODE_ROLE, Sandbox.STS_IP, Sandbox.API_IP, Sandbox.HOST_IP));
            sandbox.namespace("shop", "app-*");
            sandbox.namespace("locked", "app-report");
            SandboxPod web = sandbox.addPod(InterfaceStyle.CALI, "shop", "web", "app-web");
            SandboxPod batch = sandbox.addPod(InterfaceStyle.ENI, "locked", "batch", "app-admin");
            SandboxPod legacy = sandbox.addPod(InterfaceStyle.DOCKER0, "shop", "legacy", null);
            show("""
                    pod shop/web      %s   role app-web
                    pod locked/batch  %s   role app-admin (namespace locked allows only app-report)
                    pod shop/legacy   %s   no role annotation""".formatted(web, batch, legacy));

            step("Starting the agent in the node: bin/iamlet run");
            show(String.join(" ", sandbox.agentFlags()) + " --on-exit=block");
            long started = System.nanoTime();
            AgentProcess agent = sandbox.startAgent("--on-exit=block");
            show("ready after %.1f s; the node's kernel now holds:".formatted((System.nanoTime() - started) / 1e9));
            show(String.join("\n", sandbox.nodeRuleset().lines().filter(l -> l.contains("dnat") || l.contains("table")).toList()));

            step("1. A pod gets its own role: aws sts get-caller-identity in shop/web (" + web.style().cni() + ")");
            Command.Result cli = PodClients.awsCli(sandbox, web, "sts", "get-caller-identity");
            show("$ aws sts get-caller-identity\n" + cli.output());
            expect(cli.exitCode() == 0 && cli.stdout().contains("assumed-role/app-web/shop.web"),
                    "the AWS CLI in shop/web did not get role app-web", cli.output());

            step("2. A role its namespace does not allow is refused: locked/batch (" + batch.style().cni() + ")");
            RawHttp.Response refused = RawHttp.get(batch.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH, Map.of());
            show("$ GET http://169.254.169.254" + ROLE_PATH + "\n" + refused.status() + " " + refused.body());
            Command.Result denied = PodClients.awsCli(sandbox, batch, "sts", "get-caller-identity");
            show("$ aws sts get-caller-identity\n" + denied.output());
            expect(refused.status() == 403 && denied.exitCode() != 0, "locked/batch was not refused", refused + "\n" + denied.output());

            step("3. A pod without annotation gets the default role: shop/legacy (" + legacy.style().cni() + ")");
            Command.Result fallback = PodClients.awsCli(sandbox, legacy, "sts", "get-caller-identity");
            show("$ aws sts get-caller-identity\n" + fallback.output());
            expect(fallback.stdout().contains("assumed-role/" + Sandbox.DEFAULT_ROLE + "/"), "shop/legacy did not get the default role",
                    fallback.output());

            step("4. The node's secrets stay on the node");
            RawHttp.Response userData = RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, "/latest/user-data", Map.of());
            show("$ GET http://169.254.169.254/latest/user-data from shop/web\n" + userData.status() + " " + userData.body());
            expect(userData.status() == 403, "user-data reached a pod", userData.toString());
            long stsCalls = sandbox.sts().assumeRoleCalls();
            show("the fake STS saw " + stsCalls + " AssumeRole calls, each signed with the node's own credentials");

            step("5. Stopping the agent (SIGTERM, --on-exit=block): pods are reset, never passed to the node's IMDS");
            agent.stop();
            show(String.join("\n", sandbox.nodeRuleset().lines().filter(l -> l.contains("reject")).map(String::strip).toList()));
            try {
                RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH, Map.of());
                throw new DemoFailure("a pod got an answer while no agent ran");
            } catch (java.net.ConnectException expected) {
                show("shop/web: " + expected.getMessage());
            }

            step("6. iamlet uninstall gives the node its metadata access back");
            Command.Result uninstall = sandbox.iamlet("uninstall");
            show("$ iamlet uninstall\n" + uninstall.output());
            String ruleset = sandbox.nodeRuleset();
            show("$ nft list ruleset\n" + (ruleset.isBlank() ? "(empty)" : ruleset));
            RawHttp.Response token = RawHttp.exchange(legacy.ns(), Sandbox.IMDS_IP, 80, "PUT", "/latest/api/token",
                    Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60"));
            RawHttp.Response instance = RawHttp.get(legacy.ns(), Sandbox.IMDS_IP, 80, "/latest/meta-data/instance-id",
                    Map.of("X-aws-ec2-metadata-token", token.body()));
            show("shop/legacy reads the instance's own IMDS again: instance-id " + instance.body());
            expect(uninstall.exitCode() == 0 && ruleset.isBlank() && instance.status() == 200,
                    "uninstall did not restore the node's metadata access", uninstall.output() + ruleset + instance);

            step("Tearing the sandbox down");
        }
        show("every namespace, process and temporary file of the sandbox is gone");
        System.out.println();
        System.out.println("demo OK: each pod got its own role, never the node's");
    }
}
