package io.iamlet.control.aws;

import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.testing.FakeImds;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class NodeMetadataTest {
    @Test
    void discoversBaseArnRoleAndRegionWithAnImdsV2Session() throws Exception {
        try (FakeImds imds = FakeImds.start("444455556666", "node-role")) {
            NodeMetadata metadata = new NodeMetadata(imds.url(), Duration.ofSeconds(2));
            assertEquals("arn:aws:iam::444455556666:role/", metadata.discoverBaseArn().text());
            assertEquals("node-role", metadata.discoverNodeRole());
            assertEquals("eu-west-1", metadata.region());
            assertEquals(metadata.token(), metadata.token(), "one session is reused");
        }
    }

    /** iam/info as EC2 documents it (instancedata-data-categories: Code, LastUpdated, InstanceProfileArn, InstanceProfileId). */
    @Test
    void iamInfoIsReadAsJson() throws Exception {
        String info = """
                {
                  "Code" : "Success",
                  "LastUpdated" : "2026-12-03T08:50:27Z",
                  "InstanceProfileArn" : "arn:aws-us-gov:iam::123456789012:instance-profile/eks\\/nodes",
                  "InstanceProfileId" : "AIPAEXAMPLE"
                }""";
        RoleArn.Base base = NodeMetadata.baseArnOf(info);
        assertEquals("arn:aws-us-gov:iam::123456789012:role/", base.text());
        // Key order and spacing are the document's business; a regular expression depended on both.
        assertEquals("arn:aws:iam::444455556666:role/", NodeMetadata.baseArnOf(
                "{\"InstanceProfileId\":\"x\",\"InstanceProfileArn\":\"arn:aws:iam::444455556666:instance-profile/p\"}").text());
        for (String bad : List.of("{\"Code\":\"Success\"}", "not json", "{\"InstanceProfileArn\":42}",
                "{\"InstanceProfileArn\":\"arn:aws:iam::444455556666:role/p\"}", "{\"Other\":{\"InstanceProfileArn\":\"arn:aws:iam::444455556666:instance-profile/p\"}}")) {
            IOException e = assertThrows(IOException.class, () -> NodeMetadata.baseArnOf(bad), bad);
            assertTrue(e.getMessage().startsWith("meta-data/iam/info"), e.getMessage());
        }
    }

    @Test
    void anUnreachableMetadataServiceIsNamed() {
        NodeMetadata metadata = new NodeMetadata(URI.create("http://127.0.0.1:9"), Duration.ofMillis(500));
        IOException e = assertThrows(IOException.class, metadata::discoverBaseArn);
        assertNotNull(e);
    }

    @Test
    void stsRegionIsGlobalUnlessRegionalIsAsked() {
        assertEquals(Region.AWS_GLOBAL, StsRegion.choose(false, Optional.of("eu-west-1"), Map.of(), () -> "x"));
        assertEquals(Region.of("eu-west-2"), StsRegion.choose(true, Optional.of("eu-west-2"), Map.of("AWS_REGION", "us-east-2"), () -> "x"));
        assertEquals(Region.of("us-east-2"), StsRegion.choose(true, Optional.empty(), Map.of("AWS_REGION", "us-east-2"), () -> "x"));
        assertEquals(Region.of("ap-south-1"), StsRegion.choose(true, Optional.empty(), Map.of(), () -> "ap-south-1"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> StsRegion.choose(true, Optional.empty(), Map.of(), () -> {
                    throw new IOException("no metadata");
                }));
        assertTrue(e.getMessage().contains("regionalSts needs a region: set region or AWS_REGION"), e.getMessage());
    }
}
