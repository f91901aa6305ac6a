package io.iamlet.agent.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The http_proxy workaround in kube2iam's README makes clients send absolute-form request lines. */
class AbsoluteFormTest {
    @Test
    void absoluteFormIsReducedToItsPath() {
        assertEquals("/latest/meta-data/iam/security-credentials/", Exchange.originForm(
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/"));
        assertEquals("/latest/meta-data/", Exchange.originForm("HTTP://169.254.169.254:80/latest/meta-data/"));
        assertEquals("/", Exchange.originForm("http://169.254.169.254"));
        assertEquals("/latest/user-data", Exchange.originForm("/latest/user-data"), "origin form is left alone");
        // What follows the authority is checked like any path: a smuggled "//" or ".." is still refused later.
        assertEquals("//latest/user-data", Exchange.originForm("http://169.254.169.254//latest/user-data"));
    }
}
