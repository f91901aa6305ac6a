package io.iamlet.netlink.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.concurrent.Callable;

/**
 * A fresh network namespace for each test, deleted afterwards also when the test fails:
 * {@code @RegisterExtension final TestNamespace ns = new TestNamespace();}
 */
public final class TestNamespace implements BeforeEachCallback, AfterEachCallback {
    private Netns ns;

    @Override
    public void beforeEach(ExtensionContext context) {
        ns = Netns.create();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (ns != null) {
            ns.close();
            ns = null;
        }
    }

    public Netns get() {
        if (ns == null) {
            throw new IllegalStateException("the namespace exists only while a test runs");
        }
        return ns;
    }

    public String name() {
        return get().name();
    }

    public Command.Result exec(String... command) {
        return get().exec(command);
    }

    public <T> T call(Callable<T> body) throws Exception {
        return get().call(body);
    }

    public void run(Netns.ThrowingRunnable body) throws Exception {
        get().run(body);
    }
}
