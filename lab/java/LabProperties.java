// The Message Processor's configuration: Apigee properties files (both override key styles,
// later lines winning, the customer file over the component defaults) and the Router-facing
// settings resolved from them.
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The MP's Router-facing settings, resolved from the properties the way Apigee documents them. */
final class MpConfig {
  boolean ssl;
  int port;
  /** TLS is used only when ssl is on and the port is not the plain-text one (see README: router-mp-tls). */
  boolean tls;
  String keystoreType = "jks";
  String keystorePath = "";
  String keyAlias = "";
  String keystorePassword = "";

  static MpConfig resolve(LabProperties props, int plainPort) {
    MpConfig c = new MpConfig();
    c.ssl = "true".equalsIgnoreCase(props.conf(LabMicroKernel.COMMS, "local.http.ssl", "false").trim());
    c.port = Integer.parseInt(props.conf(LabMicroKernel.COMMS, "local.http.port", Integer.toString(plainPort)).trim());
    c.tls = c.ssl && c.port != plainPort;
    c.keystoreType = props.conf(LabMicroKernel.COMMS, "local.http.ssl.keystore.type", "jks").trim();
    c.keystorePath = props.conf(LabMicroKernel.COMMS, "local.http.ssl.keystore.path", "").trim();
    c.keyAlias = props.conf(LabMicroKernel.COMMS, "local.http.ssl.keyalias", "").trim();
    c.keystorePassword = LabProperties.deobfuscate(props.conf(LabMicroKernel.COMMS, "local.http.ssl.keystore.password", "").trim());
    return c;
  }

  String toJson() {
    return "{\"ssl\":" + ssl + ",\"port\":" + port + ",\"tls\":" + tls + ",\"keystoreType\":" + LabHttp.jsonString(keystoreType)
        + ",\"keystorePath\":" + LabHttp.jsonString(keystorePath) + ",\"keyAlias\":" + LabHttp.jsonString(keyAlias)
        + ",\"keystorePassword\":" + LabHttp.jsonString(keystorePassword) + "}";
  }
}

/** key=value lines, later lines winning; understands both of Apigee's override key styles. */
final class LabProperties {
  final java.util.LinkedHashMap<String, String> values = new java.util.LinkedHashMap<>();

  static LabProperties read(Path file) throws IOException {
    LabProperties p = new LabProperties();
    if (!Files.exists(file)) return p;
    for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) continue;
      int eq = line.indexOf('=');
      if (eq <= 0) continue;
      String key = line.substring(0, eq).trim();
      p.values.remove(key); // re-insert so iteration order is "last write"
      p.values.put(key, line.substring(eq + 1).trim());
    }
    return p;
  }

  /** Values of `over` replace values here (customer file over component defaults). */
  LabProperties merge(LabProperties over) {
    LabProperties m = new LabProperties();
    m.values.putAll(values);
    for (java.util.Map.Entry<String, String> e : over.values.entrySet()) {
      m.values.remove(e.getKey());
      m.values.put(e.getKey(), e.getValue());
    }
    return m;
  }

  /** conf_<file>_<prop> or conf/<file>.properties+<prop>; whichever was written last wins. */
  String conf(String file, String prop, String fallback) {
    String a = "conf_" + file + "_" + prop;
    String b = "conf/" + file + ".properties+" + prop;
    String found = fallback;
    for (java.util.Map.Entry<String, String> e : values.entrySet()) {
      if (e.getKey().equals(a) || e.getKey().equals(b)) found = e.getValue();
    }
    return found;
  }

  /** Jetty's OBF: password obfuscation, which Apigee's properties use. Plain values pass through. */
  static String deobfuscate(String s) {
    if (!s.startsWith("OBF:")) return s;
    s = s.substring(4);
    byte[] b = new byte[s.length() / 2];
    int l = 0;
    for (int i = 0; i < s.length(); i += 4) {
      if (s.charAt(i) == 'U') {
        i++;
        int i0 = Integer.parseInt(s.substring(i, i + 4), 36);
        b[l++] = (byte) (i0 >> 8);
      } else {
        int i0 = Integer.parseInt(s.substring(i, i + 4), 36);
        int i1 = i0 / 256;
        int i2 = i0 % 256;
        b[l++] = (byte) ((i1 + i2 - 254) / 2);
      }
    }
    return new String(b, 0, l, StandardCharsets.UTF_8);
  }
}
