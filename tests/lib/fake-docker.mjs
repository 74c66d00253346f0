// A fake `docker` / `docker-compose` for the operator scripts' tests
// (scripts/rolling-upgrade.sh, scripts/backup.sh): it records every call
// and plays a small model of a compose project — containers per service,
// an address each, readiness after some probes — from a JSON state file
// (FAKE_DOCKER_STATE). Compose v1 only: `docker compose` answers as a
// Docker without the plugin does. Used as: fake-docker.mjs NAME ARGS...
import fs from 'node:fs';
import zlib from 'node:zlib';

const file = process.env.FAKE_DOCKER_STATE;
const st = JSON.parse(fs.readFileSync(file, 'utf8'));
const [name, ...argv] = process.argv.slice(2);
st.calls.push([name, ...argv].join(' '));
let code = 0;
const out = (s) => process.stdout.write(s);
const save = () => fs.writeFileSync(file, JSON.stringify(st, null, 1));
const running = (svc) => st.containers.filter((c) => c.service === svc && c.running);
const byId = (id) => st.containers.find((c) => c.id === id);

function compose(args) {
  while (args[0] === '-f' || args[0] === '--env-file') args = args.slice(2);
  const [cmd, ...rest] = args;
  const svc = rest.at(-1);
  if (cmd === 'build') return;
  if (cmd === 'rm') { st.containers = st.containers.filter((c) => c.service !== svc || c.running); return; }
  // compose v1: ps lists stopped containers too
  if (cmd === 'ps') { for (const c of st.containers.filter((x) => x.service === svc)) out(`${c.id}\n`); return; }
  if (cmd === 'up') {
    const scale = rest.find((a) => /^backend=\d+$/.test(a));
    if (svc === 'backend' && scale) {
      const want = Number(scale.split('=')[1]);
      // compose counts every container of the service, stopped ones too
      // (it would start those again): only a count below `want` creates one
      for (const c of st.containers) if (c.service === 'backend') c.running = true;
      while (st.containers.filter((c) => c.service === 'backend').length < want) {
        const n = ++st.created;
        st.containers.push({ id: `new${n}`.padEnd(64, '0'), service: 'backend', image: 'new', ip: `172.18.0.${100 + n}`, running: true, probes: 0, readyAfter: st.readyAfter });
      }
    }
    if (svc === 'nginx') st.nginxRecreated = true;
    return;
  }
  if (cmd === 'exec') {
    const i = rest.indexOf(rest.find((a) => a === 'nginx' || a === 'mongo'));
    const target = rest[i];
    const what = rest.slice(i + 1).join(' ');
    if (target === 'nginx' && what === 'nginx -s reload') {
      st.reloads.push(running('backend').map((c) => c.id.slice(0, 4)).join(','));
      return;
    }
    if (target === 'mongo') {
      if (st.backup === 'ok') { process.stdout.write(zlib.gzipSync('fake dump')); return; }
      process.stderr.write('Failed: can\'t create session: connection() error: auth error: sasl conversation error: unable to authenticate\n');
      code = 1;
      return;
    }
  }
  process.stderr.write(`fake docker-compose: unexpected: ${args.join(' ')}\n`);
  code = 99;
}

function docker(args) {
  const [cmd, ...rest] = args;
  if (cmd === 'compose') { process.stderr.write("docker: 'compose' is not a docker command.\n"); code = 1; return; }
  if (cmd === 'inspect') {
    const c = byId(rest.at(-1));
    if (!c) code = 1;
    else out(rest[1].includes('State.Running') ? `${c.running}\n` : `${c.ip} \n`);
    return;
  }
  if (cmd === 'exec') {
    const url = rest.find((a) => a.startsWith('http://'));
    const c = st.containers.find((x) => x.running && url && url.startsWith(`http://${x.ip}:3000/`));
    if (!c || !url.endsWith('/health/ready')) { code = 1; return; }
    c.probes++;
    code = c.probes > c.readyAfter ? 0 : 1;
    return;
  }
  if (cmd === 'stop') { const c = byId(rest.at(-1)); if (c) { st.stops.push({ id: c.id.slice(0, 4), readyOthers: running('backend').filter((x) => x !== c && x.probes > x.readyAfter).length }); c.running = false; } else code = 1; return; }
  if (cmd === 'rm') { const i = st.containers.findIndex((c) => c.id === rest.at(-1) && !c.running); if (i >= 0) st.containers.splice(i, 1); else code = 1; return; }
  if (cmd === 'logs') { out(`log of ${rest.at(-1).slice(0, 4)}: listening\n`); return; }
  process.stderr.write(`fake docker: unexpected: ${args.join(' ')}\n`);
  code = 99;
}

if (name === 'docker-compose') compose(argv);
else docker(argv);
save();
process.exit(code);
