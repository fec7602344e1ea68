// The lab's target server (the API backend behind the Message Processors). Answers 200 with a
// small JSON body; the lab's `backend-error` fault makes it answer an error status instead, for
// every MP or only for the MPs named (each MP says who it is in X-Remedy-Lab-MP).
//
// Usage: java LabBackend <port> <pid file> <log file>
// Control: POST /lab/fault?status=502[&mps=mp-1,mp-3]   POST /lab/fault?status=0 (heal)
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

public final class LabBackend {
  volatile int faultStatus;
  volatile Set<String> faultMps = Set.of();
  final Path logFile;

  LabBackend(Path logFile) {
    this.logFile = logFile;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: LabBackend <port> <pid file> <log file>");
      System.exit(64);
    }
    LabBackend backend = new LabBackend(Path.of(args[2]));
    ServerSocket server = LabHttp.listenLoopback(Integer.parseInt(args[0]));
    LabHttp.serve(server, "backend-acceptor", backend::handle, new AtomicInteger());
    Path pid = Path.of(args[1]);
    LabHttp.writePidFile(pid);
    LabHttp.removePidFileOnExit(pid);
    backend.log("backend listening on 127.0.0.1:" + args[0]);
    Thread.currentThread().join();
  }

  void handle(Socket socket) throws Exception {
    socket.setSoTimeout(30_000);
    LabHttp.Request req = LabHttp.readRequest(socket.getInputStream());
    LabHttp.Response res;
    if (req.path.equals("/lab/fault")) {
      res = control(req);
    } else {
      String mp = req.header("x-remedy-lab-mp");
      boolean failing = faultStatus > 0 && (faultMps.isEmpty() || (mp != null && faultMps.contains(mp)));
      if (failing) {
        res = new LabHttp.Response(faultStatus, "text/html", "<html>\n<head><title>" + faultStatus + " " + LabHttp.reason(faultStatus)
            + "</title></head>\n<body bgcolor=\"white\">\n<center><h1>" + faultStatus + " " + LabHttp.reason(faultStatus)
            + "</h1></center>\n</body>\n</html>\n");
      } else {
        res = new LabHttp.Response(200, "application/json", "{\"message\":\"hello from the lab backend\",\"path\":"
            + LabHttp.jsonString(req.path) + ",\"via\":" + LabHttp.jsonString(mp == null ? "-" : mp) + "}\n");
      }
      log(req.method + " " + req.target + " from " + (mp == null ? "-" : mp) + " -> " + res.status);
    }
    LabHttp.writeResponse(socket.getOutputStream(), res, req.method.equals("HEAD"));
  }

  LabHttp.Response control(LabHttp.Request req) {
    if (!req.method.equals("POST")) return new LabHttp.Response(405, "text/plain", "POST only\n");
    String status = req.queryParam("status");
    int code;
    try {
      code = status == null ? -1 : Integer.parseInt(status);
    } catch (NumberFormatException e) {
      code = -1;
    }
    if (code != 0 && (code < 400 || code > 599)) return new LabHttp.Response(400, "text/plain", "status must be 0 or 400-599\n");
    String mps = req.queryParam("mps");
    faultMps = mps == null || mps.isEmpty() ? Set.of() : Set.of(mps.split(","));
    faultStatus = code;
    log("fault set: status=" + code + " mps=" + (faultMps.isEmpty() ? "(all)" : String.join(",", faultMps)));
    return new LabHttp.Response(200, "application/json", "{\"status\":" + code + "}\n");
  }

  synchronized void log(String message) {
    try {
      Files.writeString(logFile, LabHttp.now() + " " + message + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println(message);
    }
  }
}
