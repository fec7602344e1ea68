// The lab's Message Processor: a real JVM (so jstack, jmap and jcmd work on it) that behaves like
// an Apigee Edge MP where the runbooks can see it: it reads message-processor.properties in both
// key styles, listens for Router traffic (plain, or TLS from a keytool keystore), answers the
// management API, proxies to the backend, writes system.log in Apigee's format and its pid file,
// and registers its port/protocol where the Routers' config generator finds it.
//
// Started by the host's apigee-service script with -D settings (see lab/host/apigee-service).
// The main class name ends in MicroKernel so `pgrep -f MicroKernel` behaves as on a real MP.
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

public final class LabMicroKernel {
  static final String API = "hello";
  static final String REVISION = "1";
  static final String BASEPATH = "/";
  static final String COMMS = "message-processor-communication";

  final String host = required("lab.host");
  /** The region's group (the registry directory) and Apigee's name for it (dc_1, dc-1). */
  final String region = required("lab.region");
  final String regionName = System.getProperty("lab.regionName", region);
  final String org = required("lab.org");
  final String env = required("lab.env");
  final String uuid = System.getProperty("lab.uuid", java.util.UUID.randomUUID().toString());
  final Path apigeeRoot = Path.of(required("lab.apigeeRoot"));
  final int plainPort = Integer.parseInt(required("lab.plainPort"));
  final int mgmtPort = Integer.parseInt(required("lab.mgmtPort"));
  final Path registry = Path.of(required("lab.registry"));
  final String target = required("lab.target");
  final Path logDir = apigeeRoot.resolve("var/log/edge-message-processor/logs");
  final Path pidFile = apigeeRoot.resolve("var/run/edge-message-processor/edge-message-processor.pid");
  final AtomicInteger threadIds = new AtomicInteger();
  final AtomicLong messageCount = new AtomicLong();
  final String messageIdPrefix = "rrt-" + Long.toHexString(Double.doubleToLongBits(Math.random())).substring(0, 12);

  /** Epoch millis until which the MP is "busy" (spinning and stalling); 0 when healthy. */
  volatile long busyUntil;
  /** Epoch millis until which Router traffic is answered only after slowDelayMs (the mp-slow fault). */
  volatile long slowUntil;
  volatile long slowDelayMs;
  final Object busyLock = new Object();
  MpConfig config;

  public static void main(String[] args) throws Exception {
    if (args.length >= 1 && args[0].equals("--print-config")) {
      // Used by the unit tests: resolve the settings from a defaults file and a customer file.
      MpConfig c = MpConfig.resolve(LabProperties.read(Path.of(args[1])).merge(LabProperties.read(Path.of(args[2]))), Integer.parseInt(args[3]));
      System.out.println(c.toJson());
      return;
    }
    new LabMicroKernel().start();
  }

  static String required(String name) {
    String v = System.getProperty(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("missing -D" + name);
    return v;
  }

  // ---- lifecycle ----

  void start() throws Exception {
    Files.createDirectories(logDir);
    log(null, "INFO", "KERNEL", "MicroKernel.start()", "Starting message-processor " + host + " (region " + regionName + ", pod gateway, uuid " + uuid + ")");
    try {
      LabProperties props = LabProperties.read(apigeeRoot.resolve("edge-message-processor/token/default.properties"))
          .merge(LabProperties.read(apigeeRoot.resolve("customer/application/message-processor.properties")));
      config = MpConfig.resolve(props, plainPort);
      ServerSocket traffic = config.tls ? tlsListener(config) : LabHttp.listenLoopback(config.port);
      ServerSocket mgmt = LabHttp.listenLoopback(mgmtPort);
      log(null, "INFO", "HTTP.SERVICE", "HTTPServer.start()", "Listening for Router traffic on 127.0.0.1:" + config.port
          + " (local.http.ssl=" + config.ssl + ", " + (config.tls ? "TLS with keystore " + config.keystorePath : "plain text") + ")");
      log(null, "INFO", "MANAGEMENT.SERVICE", "ManagementServer.start()", "Management API listening on 127.0.0.1:" + mgmtPort);
      LabHttp.serve(traffic, "HTTPServer-acceptor", this::handleTraffic, threadIds);
      LabHttp.serve(mgmt, "ManagementServer-acceptor", this::handleManagement, threadIds);
      register();
      LabHttp.writePidFile(pidFile);
      LabHttp.removePidFileOnExit(pidFile);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> log(null, "INFO", "KERNEL", "MicroKernel.stop()", "Stopping message-processor " + host)));
      log(null, "INFO", "KERNEL", "MicroKernel.start()", "message-processor is up");
    } catch (Exception e) {
      String msg = e.getClass().getName() + ": " + e.getMessage();
      log(null, "ERROR", "KERNEL", "MicroKernel.start()", "Startup failed: " + msg);
      Files.writeString(logDir.resolve("startupruntimeerrors.log"), LabHttp.now() + " " + msg + "\n",
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      System.exit(1);
    }
    Thread.currentThread().join(); // serve until killed
  }

  ServerSocket tlsListener(MpConfig c) throws Exception {
    KeyStore ks = KeyStore.getInstance(c.keystoreType.toUpperCase(java.util.Locale.ROOT));
    try (InputStream in = Files.newInputStream(Path.of(c.keystorePath))) {
      ks.load(in, c.keystorePassword.toCharArray());
    }
    if (!ks.containsAlias(c.keyAlias)) throw new IllegalStateException("keystore " + c.keystorePath + " has no alias " + c.keyAlias);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, c.keystorePassword.toCharArray());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    ServerSocket s = ctx.getServerSocketFactory().createServerSocket();
    s.setReuseAddress(true);
    s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.1"), c.port), 128);
    return s;
  }

  /** Publishes host, port and protocol in the lab's registry (the ZooKeeper role). */
  void register() throws IOException {
    Path dir = registry.resolve(region);
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + host + ".tmp");
    Files.writeString(tmp, "127.0.0.1 " + config.port + " " + (config.ssl ? "https" : "http") + "\n");
    Files.move(tmp, dir.resolve(host), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  // ---- Router traffic ----

  void handleTraffic(Socket socket) throws Exception {
    socket.setSoTimeout(60_000);
    InputStream in = socket.getInputStream();
    if (!config.tls) {
      PushbackInputStream pin = new PushbackInputStream(in, 1);
      int first = pin.read();
      if (first < 0) return;
      if (first == 0x16) {
        closeAfterClientHello(socket, pin);
        return;
      }
      pin.unread(first);
      in = pin;
    }
    LabHttp.Request req = LabHttp.readRequest(in);
    req.remote = socket.getRemoteSocketAddress().toString();
    String messageId = messageIdPrefix + "-" + messageCount.incrementAndGet();
    stallWhileBusy();
    delayWhileSlow(messageId, req);
    LabHttp.Response res = proxyToTarget(req, messageId);
    LabHttp.writeResponse(socket.getOutputStream(), res, req.method.equals("HEAD"));
  }

  /**
   * A TLS ClientHello arrived on a plain-text listener. Read the whole record so nothing unread
   * remains (closing with unread bytes would send RST), then close the write side cleanly (FIN):
   * nginx then logs exactly "peer closed connection in SSL handshake while SSL handshaking to upstream".
   */
  void closeAfterClientHello(Socket socket, InputStream in) throws IOException {
    byte[] header = new byte[4];
    if (in.readNBytes(header, 0, 4) < 4) return;
    int length = ((header[2] & 0xff) << 8) | (header[3] & 0xff);
    in.readNBytes(length);
    log(null, "WARN", "HTTP.SERVICE", "HTTPServer$Connection.read()", "Received a TLS handshake on plain-text port " + config.port
        + " from " + socket.getRemoteSocketAddress() + "; closing the connection");
    socket.shutdownOutput();
    socket.setSoTimeout(2_000);
    try {
      while (in.read() >= 0) {
        // drain until the peer closes too
      }
    } catch (SocketTimeoutException ignored) {
      // the peer kept its side open; close anyway
    }
  }

  LabHttp.Response proxyToTarget(LabHttp.Request req, String messageId) {
    long started = System.currentTimeMillis();
    LabHttp.Response res;
    try {
      HttpURLConnection conn = (HttpURLConnection) new URL(target + req.target).openConnection();
      conn.setConnectTimeout(3_000);
      conn.setReadTimeout(55_000);
      conn.setInstanceFollowRedirects(false);
      conn.setRequestMethod(req.method.equals("HEAD") ? "GET" : req.method);
      conn.setRequestProperty("X-Apigee-Message-ID", messageId);
      conn.setRequestProperty("X-Remedy-Lab-MP", host);
      for (String h : new String[] {"content-type", "accept", "user-agent"}) {
        if (req.header(h) != null) conn.setRequestProperty(h, req.header(h));
      }
      if (req.body.length > 0) {
        conn.setDoOutput(true);
        try (OutputStream out = conn.getOutputStream()) {
          out.write(req.body);
        }
      }
      int status = conn.getResponseCode();
      InputStream body = status >= 400 ? conn.getErrorStream() : conn.getInputStream();
      byte[] bytes = body == null ? new byte[0] : body.readAllBytes();
      res = new LabHttp.Response(status, conn.getContentType(), bytes);
      if (status >= 400) {
        fault(res, "target", "messaging.adaptors.http.flow.ErrorResponseCode");
        log(messageId, "ERROR", "MESSAGING.FLOW", "FlowExecution.handleTargetResponse()", "Target " + target + " responded "
            + status + " " + LabHttp.reason(status) + " to " + req.method + " " + req.target + "; raising fault messaging.adaptors.http.flow.ErrorResponseCode");
      }
    } catch (SocketTimeoutException e) {
      res = faultResponse(504, "Gateway Timeout", "messaging.adaptors.http.flow.GatewayTimeout");
      log(messageId, "ERROR", "HTTP.CLIENT", "HTTPClient$Context.onTimeout()", "Timed out waiting for target " + target + ": " + e.getMessage());
    } catch (IOException e) {
      res = faultResponse(503, "The Service is temporarily unavailable", "messaging.adaptors.http.flow.ServiceUnavailable");
      log(messageId, "ERROR", "HTTP.CLIENT", "HTTPClient$Context.onConnectionError()", "Could not reach target " + target + ": " + e);
    }
    res.header("X-Apigee-Message-ID", messageId);
    res.header("X-Apigee-proxy", API);
    res.header("X-Apigee-proxy-basepath", BASEPATH);
    res.header("X-Apigee-dp-color", "green");
    res.header("X-Apigee-target-latency", Long.toString(System.currentTimeMillis() - started));
    return res;
  }

  LabHttp.Response faultResponse(int status, String faultString, String code) {
    String body = "{\"fault\":{\"faultstring\":" + LabHttp.jsonString(faultString) + ",\"detail\":{\"errorcode\":" + LabHttp.jsonString(code) + "}}}";
    return fault(new LabHttp.Response(status, "application/json", body), "target", code);
  }

  LabHttp.Response fault(LabHttp.Response res, String source, String code) {
    return res.header("X-Apigee-fault-flag", "false").header("X-Apigee-fault-source", source).header("X-Apigee-fault-code", code)
        .header("X-Apigee-fault-revision", REVISION);
  }

  // ---- management API (8082 role) and the lab's control endpoint ----

  void handleManagement(Socket socket) throws Exception {
    socket.setSoTimeout(30_000);
    LabHttp.Request req = LabHttp.readRequest(socket.getInputStream());
    LabHttp.Response res;
    if (req.path.equals("/lab/fault")) {
      res = control(req);
    } else {
      stallWhileBusy();
      res = managementApi(req);
    }
    LabHttp.writeResponse(socket.getOutputStream(), res, req.method.equals("HEAD"));
  }

  LabHttp.Response managementApi(LabHttp.Request req) {
    String p = req.path.endsWith("/") && req.path.length() > 1 ? req.path.substring(0, req.path.length() - 1) : req.path;
    String envs = "/v1/runtime/organizations/" + org + "/environments";
    String apis = envs + "/" + env + "/apis";
    switch (p) {
      case "/v1/servers/self/up":
        return new LabHttp.Response(200, "application/json", "true");
      case "/v1/servers/self":
        return new LabHttp.Response(200, "application/json", selfJson());
      case "/v1/servers/self/reachable":
        return new LabHttp.Response(200, "application/json", "true");
      case "/v1/classification/tree":
        return new LabHttp.Response(200, "application/json", "{\"default\":{\"" + org + "\":{\"" + env + "\":{\"basepaths\":[{\"basepath\":\""
            + BASEPATH + "\",\"apiproxy\":\"" + API + "\",\"revision\":\"" + REVISION + "\"}]}}}}");
      default:
        if (p.equals(envs)) return new LabHttp.Response(200, "application/json", "[ \"" + env + "\" ]");
        if (p.equals(apis)) return new LabHttp.Response(200, "application/json", "[ \"" + API + "\" ]");
        if (p.equals(apis + "/" + API + "/revisions")) return new LabHttp.Response(200, "application/json", "[ \"" + REVISION + "\" ]");
        return new LabHttp.Response(404, "application/json", "{\"code\":\"resource.not.found\",\"message\":\"No resource at " + p + "\"}");
    }
  }

  String selfJson() {
    return "{\"uUID\":\"" + uuid + "\",\"type\":[\"message-processor\"],\"pod\":\"gateway\",\"region\":\"" + regionName
        + "\",\"internalIP\":\"127.0.0.1\",\"externalHostName\":\"" + host + "\",\"isUp\":true,\"reachable\":true,"
        + "\"tags\":{\"property\":[{\"name\":\"http.port\",\"value\":\"" + config.port + "\"},{\"name\":\"http.management.port\",\"value\":\""
        + mgmtPort + "\"},{\"name\":\"Profile\",\"value\":\"MessageProcessor\"}]}}";
  }

  /** POST /lab/fault?mode=busy&seconds=N | mode=slow&delay=MS&seconds=N | mode=none. Never stalls, so the lab can always heal. */
  LabHttp.Response control(LabHttp.Request req) {
    if (!req.method.equals("POST")) return new LabHttp.Response(405, "text/plain", "POST only\n");
    String mode = req.queryParam("mode");
    if ("busy".equals(mode)) {
      String seconds = req.queryParam("seconds");
      startBusy(seconds == null ? 600 : Integer.parseInt(seconds));
    } else if ("slow".equals(mode)) {
      String seconds = req.queryParam("seconds");
      String delay = req.queryParam("delay");
      synchronized (busyLock) {
        slowDelayMs = delay == null ? 10_000 : Long.parseLong(delay);
        slowUntil = System.currentTimeMillis() + (seconds == null ? 600 : Integer.parseInt(seconds)) * 1000L;
      }
    } else if ("none".equals(mode)) {
      synchronized (busyLock) {
        busyUntil = 0;
        slowUntil = 0;
        busyLock.notifyAll();
      }
    } else {
      return new LabHttp.Response(400, "text/plain", "mode must be busy, slow or none\n");
    }
    String now = busy() ? "busy" : slowUntil > System.currentTimeMillis() ? "slow" : "none";
    return new LabHttp.Response(200, "application/json", "{\"mode\":\"" + now + "\"}");
  }

  boolean busy() {
    return busyUntil > System.currentTimeMillis();
  }

  /** Spins one thread at full CPU and stalls every request until healed, restarted or the time runs out. */
  void startBusy(int seconds) {
    synchronized (busyLock) {
      boolean wasBusy = busy();
      busyUntil = System.currentTimeMillis() + seconds * 1000L;
      if (wasBusy) return;
    }
    Thread spinner = new Thread(MessageFlow::executePolicies, "NIOThread@" + threadIds.incrementAndGet());
    spinner.setDaemon(true);
    spinner.start();
  }

  void stallWhileBusy() throws InterruptedException {
    synchronized (busyLock) {
      while (busy()) busyLock.wait(Math.max(1, busyUntil - System.currentTimeMillis()));
    }
  }

  /**
   * The mp-slow fault: the MP stays healthy on its management port but holds every API request for
   * slowDelayMs before working on it (longer than the Router's read timeout), as a slow policy would.
   */
  void delayWhileSlow(String messageId, LabHttp.Request req) throws InterruptedException {
    long until;
    synchronized (busyLock) {
      if (slowUntil <= System.currentTimeMillis()) return;
      until = System.currentTimeMillis() + slowDelayMs;
    }
    log(messageId, "WARN", "MESSAGING.FLOW", "FlowExecution.execute()", "Slow request " + req.method + " " + req.target
        + ": policy execution is taking " + slowDelayMs + " ms");
    synchronized (busyLock) {
      long left;
      while (slowUntil > System.currentTimeMillis() && (left = until - System.currentTimeMillis()) > 0) busyLock.wait(left);
    }
  }

  /** Named so a thread dump of a busy MP points at message flow execution. */
  static final class MessageFlow {
    static LabMicroKernel kernel;

    static void executePolicies() {
      double x = 0;
      while (kernel.busy()) {
        for (int i = 1; i < 100_000; i++) x += Math.sqrt(i) / i;
        if (x < 0) System.out.println(x); // keeps the loop from being optimised away
      }
    }
  }

  LabMicroKernel() {
    MessageFlow.kernel = this;
  }

  // ---- system.log in Apigee's format ----

  synchronized void log(String messageId, String level, String category, String where, String message) {
    StringBuilder sb = new StringBuilder(LabHttp.now()).append(" org:").append(org).append(" env:").append(env);
    if (messageId != null) sb.append(" api:").append(API).append(" rev:").append(REVISION).append(" messageid:").append(messageId);
    sb.append(' ').append(Thread.currentThread().getName()).append(' ').append(level).append(' ').append(category)
        .append(" - ").append(where).append(" : ").append(message).append('\n');
    try {
      Files.writeString(logDir.resolve("system.log"), sb.toString(), StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.print(sb);
    }
  }
}
