// Minimal HTTP/1.x server plumbing shared by the lab's Message Processor and backend.
// Hand-rolled on plain sockets (not com.sun.net.httpserver) because the MP must control the raw
// connection: read a TLS ClientHello on a plain port and close with FIN, stall a request while
// "busy", or speak TLS from a keystore. One request per connection (Connection: close), which is
// what nginx sends upstream by default (HTTP/1.0, no keepalive).
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

final class LabHttp {
  private LabHttp() {}

  static final int MAX_HEADER_BYTES = 64 * 1024;
  static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  /** A parsed request; header names are lower-cased. */
  static final class Request {
    String method = "";
    String target = "";
    String path = "";
    String query = "";
    String version = "";
    final Map<String, String> headers = new LinkedHashMap<>();
    byte[] body = new byte[0];
    String remote = "";

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String queryParam(String name) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        String k = eq < 0 ? pair : pair.substring(0, eq);
        if (k.equals(name)) return eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
      return null;
    }
  }

  static final class Response {
    int status;
    final Map<String, String> headers = new LinkedHashMap<>();
    byte[] body;

    Response(int status, String contentType, String body) {
      this(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    Response(int status, String contentType, byte[] body) {
      this.status = status;
      this.body = body;
      if (contentType != null) headers.put("Content-Type", contentType);
    }

    Response header(String name, String value) {
      headers.put(name, value);
      return this;
    }
  }

  /** Reads one request head (and its Content-Length body) from an input stream. */
  static Request readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int last4 = 0;
    while (last4 != 0x0d0a0d0a) {
      int b = in.read();
      if (b < 0) throw new IOException("connection closed before the request head ended");
      head.write(b);
      if (head.size() > MAX_HEADER_BYTES) throw new IOException("request head too large");
      last4 = (last4 << 8) | b;
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    Request req = new Request();
    String[] first = lines[0].split(" ");
    if (first.length != 3) throw new IOException("malformed request line: " + lines[0]);
    req.method = first[0];
    req.target = first[1];
    req.version = first[2];
    int q = req.target.indexOf('?');
    req.path = q < 0 ? req.target : req.target.substring(0, q);
    req.query = q < 0 ? "" : req.target.substring(q + 1);
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) req.headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    String length = req.header("content-length");
    if (length != null) {
      int n = Integer.parseInt(length.trim());
      if (n < 0 || n > MAX_BODY_BYTES) throw new IOException("request body too large");
      req.body = in.readNBytes(n);
    }
    return req;
  }

  static String reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 204: return "No Content";
      case 400: return "Bad Request";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 500: return "Internal Server Error";
      case 502: return "Bad Gateway";
      case 503: return "Service Unavailable";
      case 504: return "Gateway Timeout";
      default: return "Status " + status;
    }
  }

  static void writeResponse(OutputStream out, Response res, boolean headOnly) throws IOException {
    StringBuilder sb = new StringBuilder();
    sb.append("HTTP/1.1 ").append(res.status).append(' ').append(reason(res.status)).append("\r\n");
    sb.append("Date: ").append(java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC))).append("\r\n");
    for (Map.Entry<String, String> h : res.headers.entrySet()) sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    sb.append("Content-Length: ").append(res.body.length).append("\r\n");
    sb.append("Connection: close\r\n\r\n");
    out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (!headOnly) out.write(res.body);
    out.flush();
  }

  /** Handles one accepted connection; implementations own the socket until they return. */
  interface ConnectionHandler {
    void handle(Socket socket) throws Exception;
  }

  /**
   * Accepts connections on a daemon thread and hands each to a worker thread named like Apigee's
   * (NIOThread@N), so thread dumps look familiar to operators.
   */
  static Thread serve(ServerSocket server, String acceptorName, ConnectionHandler handler, AtomicInteger threadIds) {
    ExecutorService workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "NIOThread@" + threadIds.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          workers.execute(() -> {
            try (s) {
              handler.handle(s);
            } catch (Exception e) {
              // A broken client connection is routine (nginx gave up, curl was interrupted).
            }
          });
        } catch (IOException e) {
          if (server.isClosed()) return;
        }
      }
    }, acceptorName);
    acceptor.setDaemon(true);
    acceptor.start();
    return acceptor;
  }

  static ServerSocket listenLoopback(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 128);
    return s;
  }

  static String jsonString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    return sb.append('"').toString();
  }

  static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

  static String now() {
    return LOG_TIME.format(LocalDateTime.now());
  }

  /** Writes the pid file atomically (temp file + rename) so readers never see a partial pid. */
  static void writePidFile(java.nio.file.Path file) throws IOException {
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    java.nio.file.Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
    java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Removes the pid file on exit, but only if it still names this process. */
  static void removePidFileOnExit(java.nio.file.Path file) {
    long me = ProcessHandle.current().pid();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        if (java.nio.file.Files.readString(file).trim().equals(Long.toString(me))) java.nio.file.Files.delete(file);
      } catch (IOException ignored) {
        // already gone
      }
    }));
  }
}
