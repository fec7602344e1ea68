// Preloaded with `node --import` by bench/fanout (start-up row): prints, once, on stderr, how long
// after the process started it first opened a TCP connection, as one JSON line
// {"firstConnectMs": …, "firstConnectCpuMs": …}. performance.now() counts from the process's time
// origin, so this is Node start-up + module loading + the command's own work up to its first
// socket (the first SSH host). The CPU time (user + sys) to that point is what the start-up costs
// on an idle machine: on a loaded box the wall time also counts waiting for a CPU.
// Nothing else changes: the real connect runs right after.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const connect = net.Socket.prototype.connect;
let reported = false;
net.Socket.prototype.connect = function firstConnectProbe(...args) {
  if (!reported) {
    reported = true;
    const cpu = process.cpuUsage();
    const line = { firstConnectMs: Number(performance.now().toFixed(1)), firstConnectCpuMs: Number(((cpu.user + cpu.system) / 1000).toFixed(1)) };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
  return connect.apply(this, args);
};
