// The comparison bench/run.sh measures beside the ceiling: an Express +
// node-redis backend in the seed's own code shape — one Redis key holds the
// product list, a request GETs it and answers with res.json. Serves the
// same bytes as the backend's cached default list.
//   node server.mjs PORT REDIS_PORT BODY_FILE
import fs from 'node:fs';
import express from 'express';
import { createClient } from 'redis';

const [port, redisPort, bodyFile] = process.argv.slice(2);
const client = createClient({ url: `redis://127.0.0.1:${redisPort}` });
await client.connect();
await client.set('bench:express:products', fs.readFileSync(bodyFile, 'utf8'));

const app = express();
app.get('/api/products', async (req, res) => {
  const cached = await client.get('bench:express:products');
  res.json(JSON.parse(cached));
});
app.listen(Number(port), '127.0.0.1');
