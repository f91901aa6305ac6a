package io.iamlet.e2e.sandbox;

/**
 * Builds a sandbox with a running agent, says so, and waits to be interrupted or killed: the stand-in for a
 * demo or test run that Ctrl-C or a crash ends halfway. Run by {@link SandboxCleanupE2eTest}.
 */
public final class SandboxHolder {
    private SandboxHolder() {
    }

    public static void main(String[] args) throws Exception {
        Sandbox sandbox = Sandbox.start().closeOnExit();
        sandbox.namespace("team", "app-*");
        sandbox.addPod(InterfaceStyle.CALI, "team", "web", "app-web");
        sandbox.startAgent("--on-exit=block");
        System.out.println("held " + sandbox.node().name());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
