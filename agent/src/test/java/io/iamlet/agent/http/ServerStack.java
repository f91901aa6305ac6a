package io.iamlet.agent.http;

import io.iamlet.agent.AgentStack;
import io.iamlet.agent.cli.FlagNames;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.log.LogFormat;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.control.aws.NodeMetadata;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.testing.FakeAws;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's metadata server over the control module's fakes, in-process, for the security tests: the
 * same wiring as the agent, with pods at loopback addresses 127.0.0.x, and raw requests written byte for
 * byte (an HTTP client library would tidy up exactly the spellings these tests are about).
 */
final class ServerStack implements AutoCloseable {
    static final String BASE = FakeAws.BASE_ARN;

    final PodIndex index;
    final CredentialCache cache;
    final MetadataServer server;
    private final AgentStack wired;
    final ByteArrayOutputStream logs = new ByteArrayOutputStream();
    private final List<Socket> opened = new CopyOnWriteArrayList<>();

    private final InetAddress bind;

    ServerStack(FakeAws aws, ImdsV2 mode, ServerLimits limits, Duration lookupBudget) throws Exception {
        this(aws, mode, limits, lookupBudget, InetAddress.getLoopbackAddress(), Clock.systemUTC());
    }

    /** @param bind where the app port listens (::1 for the IPv6 cases); @param tokenClock the IMDSv2 tokens' clock */
    ServerStack(FakeAws aws, ImdsV2 mode, ServerLimits limits, Duration lookupBudget, InetAddress bind, Clock tokenClock)
            throws Exception {
        this.bind = bind;
        NodeMetadata node = new NodeMetadata(aws.imds().url(), Duration.ofSeconds(2));
        wired = new AgentStack(new AgentStack.Settings(new PodIndex.Settings("node-a", Duration.ofMinutes(30), lookupBudget, true),
                RoleSettings.defaults().withBaseArn(BASE), CredentialCache.Settings.defaults(), Set.of(), mode, ContainerCredentialsEndpoint.DISABLED,
                Optional.empty(), FlagNames.FLAGS),
                new AgentStack.Parts(aws.api().client(), aws.stsSource(), node, aws.imds().url(), Clock.systemUTC(), tokenClock,
                        new RequestLog(new PrintStream(logs, true, StandardCharsets.UTF_8), LogFormat.JSON, Clock.systemUTC())),
                AgentStack.AgentState.READY, "test");
        index = wired.index();
        cache = wired.cache();
        index.start();
        index.awaitSynced(Duration.ofSeconds(10));
        server = wired.server(new AgentStack.Listen(bind, 0, 0, "10.0.0.1"), () -> "{}", limits).start();
    }

    /** Status line and body of one raw exchange from {@code from}; the request is sent exactly as given. */
    record Reply(String statusLine, String text) {
        int status() {
            String[] parts = statusLine.split(" ");
            return parts.length > 1 && parts[1].matches("\\d{3}") ? Integer.parseInt(parts[1]) : -1;
        }
    }

    Reply raw(String from, String request) throws IOException {
        return rawTo(server.appPort(), from, request);
    }

    Reply rawTo(int port, String from, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.ofLiteral(from), 0));
            s.connect(new InetSocketAddress(bind, port), 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return read(s.getInputStream(), request.startsWith("HEAD "));
        }
    }

    /** One response, its body by Content-Length: a server may keep the connection open whatever the client asked. */
    static Reply read(InputStream in, boolean head) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            all.write(b);
            if (all.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                break;
            }
        }
        String headText = all.toString(StandardCharsets.ISO_8859_1);
        Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(headText);
        if (!head && length.find()) {
            all.write(in.readNBytes(Integer.parseInt(length.group(1))));
        }
        String text = all.toString(StandardCharsets.ISO_8859_1);
        int eol = text.indexOf("\r\n");
        return new Reply(eol < 0 ? text : text.substring(0, eol), text);
    }

    /** A connection to the app port from {@code from}, left open for the test; closed with the stack. */
    Socket open(String from) throws IOException {
        Socket s = new Socket();
        opened.add(s);
        s.bind(new InetSocketAddress(InetAddress.ofLiteral(from), 0));
        s.connect(new InetSocketAddress(bind, server.appPort()), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    Reply get(String from, String target) throws IOException {
        return raw(from, "GET " + target + " HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n");
    }

    @Override
    public void close() {
        for (Socket s : opened) {
            try {
                s.close();
            } catch (IOException e) {
                // closing a test's socket: nothing to do about it
            }
        }
        server.close();
        wired.close();
    }
}
