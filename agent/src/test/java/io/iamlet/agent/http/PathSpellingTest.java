package io.iamlet.agent.http;

import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue #12 finding 4: the deny list must not be bypassed by spelling. Every spelling of a path to the node's
 * secrets (user-data, identity credentials, the node's role credentials, the instance profile) that the issue
 * found, and more, sent byte for byte: none reaches the fake IMDS and no answer holds a node secret.
 */
class PathSpellingTest {
    private static final String POD = "127.0.0.11";
    private static final String NODE_ROLE = "node-role";

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private ServerStack stack;

    @BeforeEach
    void start() throws Exception {
        aws.api().client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD)).create();
        stack = new ServerStack(aws, ImdsV2.OPTIONAL, ServerLimits.defaults(), Duration.ofMillis(200));
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    /** The spellings first, then ours. */
    static final List<String> SPELLINGS = List.of(
            "/latest/meta-data/iam/./security-credentials/" + NODE_ROLE,
            "/latest/./user-data",
            "/./latest/user-data",
            "/user-data",
            "/meta-data/iam/security-credentials/" + NODE_ROLE,
            "/latest/meta-data/./identity-credentials/ec2/security-credentials/ec2-instance",
            "/latest/USER-DATA",
            "/latest/meta-data/iam/info",
            "/latest/meta-data/iam/info/",
            "/LATEST/user-data",
            "/Latest/meta-data/iam/security-credentials/" + NODE_ROLE,
            "/latest/User-Data",
            "/latest/meta-data/IAM/security-credentials/" + NODE_ROLE,
            "/latest/meta-data/iam/INFO",
            "/latest/meta-data/Identity-Credentials/ec2/security-credentials/ec2-instance",
            "/2009-04-04/user-data",
            "/2021-07-15/meta-data/iam/info",
            "/2021-07-15/meta-data/iam/security-credentials/" + NODE_ROLE,
            "/1.0/user-data",
            "/latest/user-data;",
            "/latest/user-data;x=1",
            "/latest;/user-data",
            "/latest/meta-data/iam/security-credentials;/" + NODE_ROLE,
            "/latest/%75ser-data",
            "/latest/user%2ddata",
            "/latest/%2e/user-data",
            "/latest/%2E%2E/latest/user-data",
            "/latest/meta-data/%2e%2e/user-data",
            "/latest/meta-data/..%2fuser-data",
            "/latest/meta-data/../user-data",
            "/latest/meta-data/../../latest/user-data",
            "/latest/user-data.",
            "/latest/user-data..",
            "/latest./user-data",
            "/latest/meta-data./iam/info",
            "/latest/meta-data/iam/security-credentials./" + NODE_ROLE,
            "/latest\\user-data",
            "/latest/meta-data\\..\\user-data",
            "/latest//user-data",
            "//latest/user-data",
            "/latest/meta-data//iam/info",
            "/latest/user-data/",
            "/latest/user-data?x=1",
            "/latest/meta-data/iam/info?",
            "/latest/user-data%00",
            "/latest/user-data%20",
            "/latest/user-data ",
            "/latest/meta-data/iam/security-credentials/" + NODE_ROLE,
            "/latest/meta-data/iam/security-credentials/./" + NODE_ROLE,
            "/latest/meta-data/iam/security-credentials//" + NODE_ROLE,
            "/latest/meta-data/iam/security-credentials/reader/../" + NODE_ROLE,
            "/latest/meta-data/iam/security-credentials/%6eode-role",
            "/latest/meta-data/iam/security-credentials/" + NODE_ROLE.toUpperCase(),
            "/latest/meta-data/iam/security-credentials/" + NODE_ROLE + ".",
            "/latest/meta-data/iam/security-credentials/ec2-instance",
            "/latest/meta-data/identity-credentials/ec2/info",
            "http://169.254.169.254/latest/user-data",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/" + NODE_ROLE,
            "http://169.254.169.254/latest/./user-data",
            "HTTP://169.254.169.254/latest/meta-data/iam/info",
            "http://127.0.0.1:1/latest/user-data",
            "*",
            "user-data",
            "latest/user-data");

    @Test
    void noSpellingOfADeniedPathReachesTheNodesImds() throws Exception {
        aws.imds().clearReads();
        List<String> leaks = new ArrayList<>();
        int refused = 0;
        for (String target : SPELLINGS) {
            for (String method : List.of("GET", "HEAD")) {
                ServerStack.Reply reply = stack.raw(POD, method + " " + target
                        + " HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n");
                if (reply.text().contains(FakeImds.NODE_ACCESS_KEY) || reply.text().contains("NODE-SECRET")
                        || reply.text().contains(FakeImds.USER_DATA_SECRET) || reply.text().contains("instance-profile/")
                        || reply.text().contains(NODE_ROLE + "-profile")) {
                    leaks.add(method + " " + target + " -> " + reply.text());
                }
                if (reply.status() >= 400 && reply.status() < 500) {
                    refused++;
                }
            }
        }
        assertEquals(List.of(), leaks, "node secrets in answers");
        assertEquals(List.of(), aws.imds().reads(), "requests forwarded to the node's IMDS");
        assertEquals(2 * SPELLINGS.size(), refused, "every spelling gets a 4xx answer");
    }

    @Test
    void canonicalPathsStillWork() throws Exception {
        aws.imds().clearReads();
        assertEquals(200, stack.get(POD, "/latest/meta-data/instance-id").status());
        assertEquals(200, stack.get(POD, "/latest/meta-data/iam/security-credentials/").status());
        assertEquals(200, stack.get(POD, "/latest/meta-data/iam/security-credentials/reader").status());
        assertEquals(200, stack.get(POD, "/2021-07-15/meta-data/iam/security-credentials/reader").status());
        assertEquals(301, stack.get(POD, "/latest/meta-data/iam").status());
        assertEquals(404, stack.get(POD, "/latest/meta-data/no-such-thing").status(), "IMDS's own 404 passes through");
        assertEquals(List.of("GET /latest/meta-data/instance-id", "GET /latest/meta-data/iam", "GET /latest/meta-data/no-such-thing"),
                aws.imds().reads());
        ServerStack.Reply denied = stack.get(POD, "/latest/meta-data/iam/info");
        assertEquals(403, denied.status(), denied.text());
        ServerStack.Reply bad = stack.get(POD, "/latest/./user-data");
        assertEquals(400, bad.status(), bad.text());
        assertTrue(bad.text().contains("dot segment"), "the answer says why: " + bad.text());
    }
}
